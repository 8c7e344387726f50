"""A unit moves under another, and its plans' open tasks follow: the one path of a move.

Every client moves a unit here: the admin pages (``OrgAdmin.move_unit``,
under the admin rule), the library (``Planflow.org.move_unit``) and the
command line (``planflow units move``). In one transaction:

1. the caller's check, if any (the admin rule, read from the tables);
2. the unit's new parent (``OrgRepository.move_unit``: the unit exists, the
   parent exists and is not the unit or below it; the organisation
   generation moves, so every process reloads the tree);
3. the tree as it is now, read inside the same transaction;
4. the open tasks of the plans of the unit and the units below it, routed
   again by that tree (``TaskRerouter.reroute_in``): each one audited as
   ``reroute_task``, its new holders told.

Either all of it is saved or none of it: a crash or a refusal half-way
leaves the unit where it was and every task as it was. Moving a unit to the
parent it already has changes no unit and re-routes whatever is left to
re-route (see ``planflow.services.reroute`` for the one race that can leave
a task behind on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from planflow.services.changes import Change
from planflow.services.plans import PlanService
from planflow.services.reroute import RerouteReport, TaskRerouter
from planflow.storage.org_cache import current_generation, load_snapshot
from planflow.storage.org_repo import OrgRepository
from planflow.storage.tx import session_tx

#: Attempts when PostgreSQL breaks a deadlock by rolling the move back (a
#: scheduler's batch may lock the same plans in another order).
ATTEMPTS = 3
REASON = "unit moved"

#: Runs first in the move's transaction; raises to refuse it (the admin rule).
MoveCheck = Callable[[Session], None]


class UnitMoves:
    """Moves units with their plans' open tasks, through ``service``."""

    def __init__(self, service: PlanService, repo: OrgRepository) -> None:
        self.service = service
        self.db = service.db
        self.repo = repo
        self.rerouter = TaskRerouter(service)

    def move(
        self,
        code: str,
        parent_code: str | None,
        actor_id: int | None = None,
        *,
        check: MoveCheck | None = None,
    ) -> tuple[int, RerouteReport]:
        """Move the unit ``code`` and everything below it under ``parent_code`` (None: to
        the top) and re-route the open tasks of its plans, in one transaction.

        ``actor_id`` is recorded on each re-routing (None: the system).
        Returns the unit's id and what the re-routing did (``failed`` stays
        empty: a plan that cannot be re-routed refuses the whole move).
        """
        for attempt in range(1, ATTEMPTS + 1):
            try:
                unit_id, report, changes = self._move_once(code, parent_code, actor_id, check)
            except (DBAPIError, psycopg.Error) as exc:
                # Through the session SQLAlchemy wraps the driver's error; on the
                # plan statements it comes bare.
                if attempt == ATTEMPTS or not _rolled_back(getattr(exc, "orig", None) or exc):
                    raise
            else:
                for change in changes:
                    self.service.emit(change)
                return unit_id, report
        raise AssertionError("unreachable")

    def _move_once(
        self,
        code: str,
        parent_code: str | None,
        actor_id: int | None,
        check: MoveCheck | None,
    ) -> tuple[int, RerouteReport, list[Change]]:
        with self.db.session() as s:
            if check is not None:
                check(s)
            unit = self.repo.move_unit(s, code, parent_code, actor_id=actor_id)
            unit_id = unit.id or 0
            with session_tx(s) as tx:  # flushes the move first
                conn = s.connection()
                # The tree with the move, as this transaction sees it; not cached:
                # it does not exist for anyone else until the commit.
                org = load_snapshot(conn, current_generation(conn))
                report, changes = self.rerouter.reroute_in(tx, conn, org, unit_id, actor_id, REASON)
        return unit_id, report, changes


#: What PostgreSQL says when it rolled a transaction back that may simply run again.
_ROLLED_BACK = (
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
    psycopg.errors.TransactionRollback,
)


def _rolled_back(error: BaseException) -> bool:
    """PostgreSQL rolled the transaction back to break a deadlock (or a serialisation)."""
    return isinstance(error, _ROLLED_BACK)
