"""Open tasks follow the organisation tree after a unit moved.

A task is routed when its plan enters a state (``deadlines.task_for_state``
resolves the definition's role-ref from the plan's unit). When a unit moves
with its subtree, the tasks of its plans still sit where the *old* tree sent
them: a branch moved from union A to union B would keep waiting for union
A's reviewer. ``TaskRerouter`` resolves each open task of the subtree again
against the current organisation and, where the answer differs (or the task
had escalated: an escalation up the old tree means nothing any more), moves
it to the new unit on the audited path of every change to a plan
(``PlanService``):

* the task keeps its role, ``task_since`` and ``task_due_at``;
* its escalation is reset (level 0, no escalated unit);
* its next timer is recomputed from the definition and the due date, so an
  overdue task escalates up the *new* tree at the scheduler's next tick;
* the audit trail records ``reroute_task`` with the units and the reason;
* the new holders of the role there get a ``reroute`` notification.

A move re-routes inside its own transaction (``reroute_in``, called by
``planflow.services.unit_moves``, the one path of a move): the tree and the
tasks change together or not at all. Each plan to re-route is locked
(PostgreSQL) and decided again on the locked row.

``reroute_subtree`` does the same afterwards, each plan in a transaction of
its own, for repairs. Re-routing is idempotent: a task already where the
tree sends it, and not escalated, is left alone (no audit record, no new
version), so running it again only finishes what is left. One window stays
open on PostgreSQL: a transition that read the old tree just before the move
committed, and commits just after it, gives its plan a task by the old tree;
moving the unit again to the same parent (or ``reroute_subtree``) moves it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import Connection, select

from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.intents import Addendum, Notice, TaskReroute
from planflow.core.org import OrgSnapshot
from planflow.core.task_planning import next_effect
from planflow.errors import NotFound, StaleVersion
from planflow.services.changes import Change, StepContext
from planflow.services.plans import PlanService
from planflow.storage import plan_store as ps
from planflow.storage.tables import Plan
from planflow.storage.tx import Tx, read_tx

log = logging.getLogger(__name__)
plan_t = Plan.__table__  # type: ignore[attr-defined]

#: Attempts per plan when someone changes it between our read and our write.
RETRIES = 3
ACTION = "reroute_task"
NOTICE = "reroute"


@dataclass
class RerouteReport:
    """What one run did: plan ids re-routed, and how many were already right."""

    rerouted: list[int] = field(default_factory=list)
    unchanged: int = 0
    #: Plans still changing under us after ``RETRIES`` attempts: run again.
    failed: list[int] = field(default_factory=list)


class TaskRow(Protocol):
    """What deciding needs of a plan: ``PlanRow`` and the subtree scan's rows."""

    @property
    def unit_id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def task_role(self) -> str | None: ...
    @property
    def task_unit_id(self) -> int | None: ...
    @property
    def task_escalated_unit_id(self) -> int | None: ...


class _Scanned(NamedTuple):
    id: int
    unit_id: int
    state: str
    workflow_name: str
    workflow_version: int
    task_role: str | None
    task_unit_id: int | None
    task_escalated_unit_id: int | None


def routed_unit(spec: WorkflowSpec, org: OrgSnapshot, row: TaskRow) -> tuple[bool, int | None]:
    """(needs re-routing, unit the tree sends the task to now) for an open task."""
    task = spec.state(row.state).task
    if row.task_role is None or task is None:
        return False, row.task_unit_id
    # The same lookup as on entering the state: None means nobody holds the
    # role where the definition looks, and the task shows as unassigned.
    unit_id = org.resolve(task.assignee, row.unit_id)
    return (unit_id != row.task_unit_id or row.task_escalated_unit_id is not None), unit_id


def _needed(spec: WorkflowSpec, org: OrgSnapshot, row: TaskRow, role: str | None) -> bool:
    """Whether to re-route: after a move, also any escalated task; after a role
    change, only a task of that role the tree now sends to another unit."""
    needed, to_unit = routed_unit(spec, org, row)
    if role is None:
        return needed
    return row.task_role == role and to_unit != row.task_unit_id


@dataclass(frozen=True)
class _Decision:
    row: ps.PlanRow
    to_unit: int | None
    due_at: datetime | None


class TaskRerouter:
    """Re-routes open tasks through ``service``; safe to run any number of times."""

    def __init__(self, service: PlanService) -> None:
        self.service = service
        self.db = service.db

    def reroute_subtree(
        self, unit_id: int, actor_id: int | None = None, reason: str = "unit moved"
    ) -> RerouteReport:
        """Re-route every open task of plans of ``unit_id`` and the units below it.

        Each plan is its own transaction; call this after the organisation
        change has committed (it reads the current tree).
        """
        org = self.service.org_cache.get(self.db)
        units = org.subtree(unit_id) if unit_id in org.units else []
        report = RerouteReport()
        if not units:
            return report
        with self.db.read() as conn:
            candidates, scanned = self._candidates(conn, org, units)
        report.unchanged = scanned - len(candidates)
        for plan_id in candidates:
            try:
                change = self.reroute_plan(plan_id, actor_id, reason)
            except StaleVersion as exc:
                log.warning("plan %s not re-routed: %s", plan_id, exc)
                report.failed.append(plan_id)
                continue
            if change is None:
                report.unchanged += 1
            else:
                report.rerouted.append(plan_id)
        return report

    def _candidates(
        self,
        conn: Connection,
        org: OrgSnapshot,
        units: list[int],
        role: str | None = None,
    ) -> tuple[list[int], int]:
        """The plans of ``units`` whose open task ``org`` sends elsewhere,
        and how many open tasks were looked at.

        One read decides for the whole subtree, so a second run (nothing left
        to do) costs one query; each candidate is decided again on a fresh
        load before it is written.
        """
        c = plan_t.c
        query = (
            select(
                c.id,
                c.unit_id,
                c.state,
                c.workflow_name,
                c.workflow_version,
                c.task_role,
                c.task_unit_id,
                c.task_escalated_unit_id,
            )
            .where(c.unit_id.in_(units), c.task_role.is_not(None))
            .order_by(c.id)
        )
        if role is not None:
            query = query.where(c.task_role == role)
        rows = conn.execute(query).all()
        definitions = self.service.definitions
        out = []
        for row in map(_Scanned._make, rows):
            spec = definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
            if _needed(spec, org, row, role):
                out.append(row.id)
        return out, len(rows)

    def reroute_in(
        self,
        tx: Tx,
        conn: Connection,
        org: OrgSnapshot,
        unit_id: int,
        actor_id: int | None = None,
        reason: str = "unit moved",
        *,
        role: str | None = None,
    ) -> tuple[RerouteReport, list[Change]]:
        """Re-route the open tasks of ``unit_id``'s subtree inside the caller's transaction.

        ``tx`` and ``conn`` are the same transaction (``storage.tx.session_tx``
        and its session's connection); ``org`` is the tree as that transaction
        has it, the move included. Each plan to re-route is loaded for a change
        (locked on PostgreSQL, in id order) and decided again on that row. The
        changes are returned for the caller to emit after its commit; nothing
        here fails on its own: a refusal rolls back the whole transaction.

        ``role``: only the tasks of that role, and only those the tree now sends
        to another unit (a role given or taken: ``planflow.services.role_changes``);
        an escalated task is not reset for a change that does not move it.
        """
        report = RerouteReport()
        units = org.subtree(unit_id) if unit_id in org.units else []
        if not units:
            return report, []
        candidates, scanned = self._candidates(conn, org, units, role)
        report.unchanged = scanned - len(candidates)
        service, changes = self.service, []
        now = service.clock.now()
        for plan_id in candidates:
            row = ps.load_plan(tx, plan_id, for_change=True)
            if row is None or row.task_role is None:  # finished meanwhile
                report.unchanged += 1
                continue
            spec = service.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
            _moved, to_unit = routed_unit(spec, org, row)
            if not _needed(spec, org, row, role):
                report.unchanged += 1
                continue
            _found, due_at = ps.load_task_due(tx, plan_id, row.version)
            following = next_effect(
                spec.timer_for(row.state), due_at, service.calendar, not_before=now
            )
            addendum = _addendum(org, row, _Decision(row, to_unit, due_at), actor_id, reason)
            update = TaskReroute(to_unit, following)
            changes.append(service.change_in(tx, row, org, ACTION, actor_id, update, addendum))
            report.rerouted.append(plan_id)
        return report, changes

    def reroute_plan(
        self, plan_id: int, actor_id: int | None = None, reason: str = "unit moved"
    ) -> Change | None:
        """Re-route one plan's open task if the tree sends it elsewhere now.

        Returns the audited change, or None when there was nothing to do.
        ``StaleVersion`` after ``RETRIES`` lost races.
        """
        for attempt in range(RETRIES):
            try:
                decision = self._decide(plan_id)
                if decision is None:
                    return None
                return self._apply(decision, actor_id, reason)
            except StaleVersion:
                if attempt == RETRIES - 1:
                    raise
            except NotFound:  # deleted meanwhile: no task left to route
                return None
        raise AssertionError("unreachable")

    def _decide(self, plan_id: int) -> _Decision | None:
        service = self.service
        with read_tx(self.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None or row.task_role is None:
                return None
            found, due_at = ps.load_task_due(tx, plan_id, row.version)
        if not found:  # changed between the two reads
            raise StaleVersion(plan_id, row.version, row.version + 1)
        spec = service.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        org = service.org_cache.get(self.db, row.org_generation)
        needed, to_unit = routed_unit(spec, org, row)
        return _Decision(row, to_unit, due_at) if needed else None

    def _apply(self, d: _Decision, actor_id: int | None, reason: str) -> Change:
        service, row = self.service, d.row
        now = service.clock.now()
        spec = service.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        # not_before=now: a reminder whose moment has passed is dropped; an
        # overdue task's escalation is due at once and climbs the new tree.
        following = next_effect(
            spec.timer_for(row.state), d.due_at, service.calendar, not_before=now
        )

        def apply(tx: Tx, current: ps.PlanRow, change: StepContext) -> Addendum:
            # ``mutate`` loaded the same version; the tree may still have
            # changed since we decided (another move): decide again then.
            if routed_unit(change.spec, change.org, current) != (True, d.to_unit):
                raise StaleVersion(current.id, current.version, current.version)
            return _addendum(change.org, current, d, actor_id, reason)

        return service.mutate(
            row.id,
            ACTION,
            actor_id,
            TaskReroute(d.to_unit, following),
            check=apply,
            expected_version=row.version,
        )


def _addendum(
    org: OrgSnapshot, row: ps.PlanRow, d: _Decision, actor_id: int | None, reason: str
) -> Addendum:
    """The audit detail and the new holders' notice of one re-routing."""
    detail: dict[str, object] = {
        "from_unit": _code(org, row.task_unit_id),
        "to_unit": _code(org, d.to_unit),
        "reason": reason,
    }
    if row.task_escalated_unit_id is not None:
        detail["escalation_reset"] = {
            "level": row.task_level,
            "unit": _code(org, row.task_escalated_unit_id),
        }
    return Addendum(detail, _notice(org, row, d, actor_id))


def _notice(org: OrgSnapshot, row: ps.PlanRow, d: _Decision, actor_id: int | None) -> Notice | None:
    """The new holders of the task, told it is theirs now (not those who had it)."""
    if d.to_unit is None or row.task_role is None:
        return None
    before: frozenset[int] = frozenset()
    for held in (row.task_unit_id, row.task_escalated_unit_id):
        if held is not None and held in org.units:
            before |= org.holders(row.task_role, held)
    people = (org.holders(row.task_role, d.to_unit) & org.active_users) - before
    people -= {actor_id} if actor_id is not None else set()
    unit = org.units[d.to_unit]
    extra: dict[str, object] = {
        "unit": unit.code,
        "unit_name": unit.name,
        "from_unit": _code(org, row.task_unit_id),
        "due_at": d.due_at.isoformat() if d.due_at else None,
    }
    return Notice(NOTICE, tuple(sorted(people)), extra)


def _code(org: OrgSnapshot, unit_id: int | None) -> str | None:
    info = org.units.get(unit_id) if unit_id is not None else None
    return info.code if info else None
