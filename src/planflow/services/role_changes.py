"""A role is given or taken away, and the open tasks it decides follow: one transaction.

Where a definition looks a role up at the nearest unit that has a holder
(``at: nearest`` / ``nearest_above``), giving someone the role at a unit
closer to a plan, or taking it from the last holder there, sends the plan's
open task somewhere else. As for a unit's move (``planflow.services.unit_moves``),
the change and the re-routing happen together or not at all:

1. the caller's work in the session: its rule (the admin rule, read from the
   tables) and the change itself through ``OrgRepository`` (the organisation
   generation moves; the grant or revocation goes on the organisation's
   audit chain), returning the unit and role changed, or None when nothing
   changed (the role was held already);
2. the tree as it is now, read inside the same transaction;
3. the open tasks for that role of the plans of the unit and the units below
   it, routed again by that tree (``TaskRerouter.reroute_in``, only where the
   unit differs: an escalated task stays escalated unless it moves), each
   audited on its plan as ``reroute_task`` with the reason, new holders told.

Every client gives and takes roles here: the admin pages (``OrgAdmin``),
the library (``Planflow.org.assign_role`` / ``revoke_role``) and the
command line (``planflow roles assign`` / ``revoke``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from planflow.services.changes import Change
from planflow.services.plans import PlanService
from planflow.services.reroute import RerouteReport, TaskRerouter
from planflow.services.unit_moves import ATTEMPTS, _rolled_back
from planflow.storage.org_cache import current_generation, load_snapshot
from planflow.storage.org_repo import OrgRepository, check_role
from planflow.storage.tx import session_tx

GRANTED, REVOKED = "role granted", "role revoked"


@dataclass(frozen=True)
class RoleChange:
    """What the work changed: the role at the unit, and why tasks move (the reason)."""

    unit_id: int
    role: str
    reason: str


#: The caller's part, in the transaction: the rule, then the change (None: nothing changed).
RoleWork = Callable[[Session], RoleChange | None]


class RoleChanges:
    """Gives and takes roles with the re-routing of the open tasks, through ``service``."""

    def __init__(self, service: PlanService, repo: OrgRepository) -> None:
        self.service = service
        self.db = service.db
        self.repo = repo
        self.rerouter = TaskRerouter(service)

    def run(self, work: RoleWork, actor_id: int | None) -> tuple[RoleChange | None, RerouteReport]:
        """``work`` and the re-routing in one transaction; the re-routings are ``actor_id``'s."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                done, report, changes = self._once(work, actor_id)
            except (DBAPIError, psycopg.Error) as exc:
                if attempt == ATTEMPTS or not _rolled_back(getattr(exc, "orig", None) or exc):
                    raise
            else:
                for change in changes:
                    self.service.emit(change)
                return done, report
        raise AssertionError("unreachable")

    def _once(
        self, work: RoleWork, actor_id: int | None
    ) -> tuple[RoleChange | None, RerouteReport, list[Change]]:
        with self.db.session() as s:
            done = work(s)
            if done is None:
                return None, RerouteReport(), []
            with session_tx(s) as tx:  # flushes the change first
                conn = s.connection()
                org = load_snapshot(conn, current_generation(conn))
                report, changes = self.rerouter.reroute_in(
                    tx, conn, org, done.unit_id, actor_id, done.reason, role=done.role
                )
        return done, report, changes

    def grant(
        self,
        username: str,
        role: str,
        unit_code: str,
        actor_id: int | None = None,
        *,
        known_roles: tuple[str, ...],
    ) -> tuple[bool, RerouteReport]:
        """Give the role (a trusted caller: no admin rule); False if it was held already."""

        def work(s: Session) -> RoleChange | None:
            check_role(role, known_roles)  # first, as ever: an unknown role is the answer
            if self.repo.holds(s, username, role, unit_code):  # NotFound as the repository says
                return None
            unit = self.repo.unit_by_code(s, unit_code)
            self.repo.assign_role(
                s, username, role, unit_code, known_roles=known_roles, actor_id=actor_id
            )
            return RoleChange(unit.id or 0, role, GRANTED)

        done, report = self.run(work, actor_id)
        return done is not None, report

    def revoke(
        self, username: str, role: str, unit_code: str, actor_id: int | None = None
    ) -> RerouteReport:
        """Take the role away (``NotFound`` if not held)."""

        def work(s: Session) -> RoleChange | None:
            self.repo.revoke_role(s, username, role, unit_code, actor_id=actor_id)
            unit = self.repo.unit_by_code(s, unit_code)
            return RoleChange(unit.id or 0, role, REVOKED)

        return self.run(work, actor_id)[1]
