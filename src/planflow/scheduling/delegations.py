"""The start and end notices of delegations (委托), exactly once, from the database.

A delegation needs nothing done at its start or end for the deputy to act
or to stop acting: that is decided at each decision
(``planflow.core.delegation``). What time drives is telling the two people:
"B acts for A from ... to ..." on its first day, and "B no longer acts for A;
open tasks are A's again" once it is over (past its last day, or ended
early). Each notice is written in the transaction whose conditional UPDATE
marks it told (``storage.delegation_sql``): with any number of schedulers,
only one of them changes the row, and only that one writes the notices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from planflow.clock import Clock
from planflow.core import delegation as dl
from planflow.core.compact_json import compact_json_object
from planflow.core.notes import DELEGATION_ENDS, DELEGATION_STARTS, note
from planflow.services.delegations import org_timezone
from planflow.storage import delegation_sql as ds
from planflow.storage import plan_store as ps
from planflow.storage.db import Database
from planflow.storage.org_cache import OrgCache
from planflow.storage.tx import Tx, write_tx


@dataclass
class DelegationReport:
    started: int = 0
    ended: int = 0


class DelegationNotices:
    def __init__(self, db: Database, clock: Clock, org_cache: OrgCache) -> None:
        self.db = db
        self.clock = clock
        self.org_cache = org_cache

    def run(self, report: DelegationReport | None = None) -> DelegationReport:
        """Tell the people of every delegation that started or ended by now."""
        report = report if report is not None else DelegationReport()
        now, tz = self.clock.now(), org_timezone()
        today = dl.local_day(now, tz)
        with write_tx(self.db) as tx:
            org = self.org_cache.get(self.db, ps.org_generation(tx))
            for d, start_told in ds.untold(tx, today):
                if d.has_ended(now, tz):
                    # Told it ended only if it ever applied: one ended before its
                    # first day is marked, and nobody is told anything.
                    applied = (
                        start_told
                        or d.ended_at is None
                        or dl.local_day(d.ended_at, tz) >= d.starts_on
                    )
                    if ds.mark_end_told(tx, d.id) and applied:
                        self._tell(tx, d, DELEGATION_ENDS, dl.ENDS, org.usernames, now)
                        report.ended += 1
                elif d.starts_on <= today and ds.mark_start_told(tx, d.id):
                    self._tell(tx, d, DELEGATION_STARTS, dl.STARTS, org.usernames, now)
                    report.started += 1
        return report

    def _tell(
        self,
        tx: Tx,
        d: dl.Delegation,
        code: str,
        kind: str,
        names: Mapping[int, str],
        now: datetime,
    ) -> None:
        get = names.get
        payload = compact_json_object(
            {
                "delegation": d.id,
                "note": note(
                    code,
                    deputy=get(d.deputy_id, "?"),
                    delegator=get(d.delegator_id, "?"),
                    starts_on=d.starts_on.isoformat(),
                    ends_on=d.ends_on.isoformat(),
                ),
            }
        )
        at = tx.ts(now)
        tx.run_many(
            ps.INSERT_NOTIFICATION,
            [
                {"user_id": u, "plan_id": None, "kind": kind, "payload": payload, "created_at": at}
                for u in (d.delegator_id, d.deputy_id)
            ],
        )
