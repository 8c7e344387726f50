"""The audit trail: a plan's records, verifying every chain, exporting them.

The chains and checkpoints are checked by ``storage.audit_repo`` (the
hashing is ``core.audit_chain``); what a verification finds wrong is also
told to the webhooks subscribed to ``audit.verification_failed``.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Iterator, Sequence
from typing import IO

from planflow.core.audit_chain import ChainProblem
from planflow.core.ids import require_plan_id
from planflow.facade import convert
from planflow.facade.base import FacadeBase
from planflow.services.webhook_events import enqueue_audit_failure
from planflow.storage import audit_repo
from planflow.views import AuditEntry, AuditReport

# The facade's logger, as before the operations moved out of ``app.py``: logging
# configurations that name it keep working.
_log = logging.getLogger("planflow.app")


class AuditMixin(FacadeBase):
    def audit_trail(self, plan_id: int, *, as_user: str | None = None) -> list[AuditEntry]:
        """The plan's audit records, oldest first."""
        require_plan_id(plan_id)
        return self._reads.audit_trail(plan_id, as_user)

    def verify_audit(self) -> AuditReport:
        """Check every chain and checkpoint; the problems name the first record tampered with.

        Problems found are told to the webhooks subscribed to
        ``audit.verification_failed`` (once per distinct set of problems).
        """
        report = audit_repo.verify(self.db)
        try:
            self.tell_audit_failure(report.problems)
        except Exception:
            # Telling the webhooks must not hide what the verification found (the
            # command line and the admin page still show the problems).
            _log.exception("the audit verification's webhook event could not be enqueued")
        return AuditReport(
            ok=report.ok,
            plans=report.plans,
            records=report.records,
            checkpoints=report.checkpoints,
            problems=tuple(report.problems),
            org_records=report.org_records,
        )

    def tell_audit_failure(self, problems: Sequence[ChainProblem]) -> int:
        """Enqueue ``audit.verification_failed`` for the problems a verification found.

        Returns the deliveries enqueued: none when there are no problems, no
        subscribed webhook, or the same problems were told before.
        """
        return enqueue_audit_failure(self.db, self.clock.now(), problems)

    def export_audit(self, out: IO[str], fmt: str = "jsonl", *, plan_id: int | None = None) -> int:
        """Write the trail (of one plan, or all) as JSON lines or CSV; returns the records
        written. JSON lines are exact (each record's hash can be checked from them)."""
        if plan_id is not None:
            require_plan_id(plan_id)
        return audit_repo.export(audit_repo.iter_records(self.db, plan_id), out, fmt)

    def export_audit_chunks(self, fmt: str = "jsonl", *, batch: int = 500) -> Iterator[str]:
        """The whole trail as ``export_audit`` writes it, ``batch`` records a piece (a
        download streamed without holding the trail; the CSV's header once, at the top)."""
        if fmt not in audit_repo.EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; use jsonl or csv")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        return self._export_chunks(fmt, batch)

    def _export_chunks(self, fmt: str, batch: int) -> Iterator[str]:
        records = audit_repo.iter_records(self.db)
        first = True
        while chunk := list(itertools.islice(records, batch)):
            buf = io.StringIO()
            audit_repo.export(chunk, buf, fmt)
            text = buf.getvalue()
            if fmt == "csv" and not first:
                text = text.split("\n", 1)[1]
            first = False
            yield text
        if first and fmt == "csv":
            buf = io.StringIO()
            audit_repo.export([], buf, fmt)
            yield buf.getvalue()

    def audit_records(self, plan_id: int | None = None) -> Iterator[AuditEntry]:
        """The stored records (of one plan, or all), oldest first, as frozen views.

        Streamed: the whole trail is never held at once. People are named by
        username, as in ``audit_trail``; ``export_audit`` writes the same records
        in the export's exact form (ids, the time as ISO text).
        """
        if plan_id is not None:
            require_plan_id(plan_id)
        return self._audit_entries(plan_id)

    def _audit_entries(self, plan_id: int | None) -> Iterator[AuditEntry]:
        for row in audit_repo.iter_rows(self.db, plan_id):
            # The cached snapshot names everyone but a person added since (then refreshed).
            org = self.names.knowing((row.actor_id, row.on_behalf_of_id))
            yield convert.audit_entry(org, row)
