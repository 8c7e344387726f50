"""The officers' overview of a year across the organisation tree.

Owns three things, kept apart:

1. *State classes* (``state_classes``): which states of a definition mean
   "being drafted", "in review", "approved", "in inspection", "accepted" or
   "ended without approval". They are derived from the definition's graph
   (the point of no return of ``execution.committed_states``, the ``inspect``
   transition, the final states), never from state names, so committee_plan
   and future definitions are classed correctly.
2. *Aggregation* (pure): a unit's status from the counted rows
   (``unit_statuses``), the units grouped under the heads at a chosen depth
   (``group_units``), and each group's counts and rates (``roll_up``).
3. *Queries*: ``count_states``, one ``GROUP BY`` over the year's plans (a
   row per unit, definition version and state, whatever the number of
   units), and ``unit_plans``, the plans of the units one page shows.

``Planflow.year_overview`` puts them together.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import case, func
from sqlmodel import col, select

from .definitions.spec import WorkflowSpec
from .execution import INSPECT, committed_states
from .org import OrgSnapshot
from .plans import editable_states
from .storage.db import Database
from .storage.tables import Plan

#: Above this many units the queries read the whole year and drop the rest in
#: Python: an SQLite older than 3.32 takes at most 999 parameters a statement.
MAX_UNITS_IN_QUERY = 900


class Phase(StrEnum):
    """Where a plan stands, in the order a plan moves through them."""

    NONE = "none"  # the unit has no plan for the year
    DROPPED = "dropped"  # ended without approval (withdrawn)
    DRAFTING = "drafting"  # its unit drafts or revises it
    REVIEW = "review"  # submitted, the review is not decided yet
    WORK = "work"  # approved, being carried out (rectification included)
    INSPECTION = "inspection"  # the inspection is scheduled or being judged
    ACCEPTED = "accepted"  # accepted, or archived after that


_RANK = {phase: n for n, phase in enumerate(Phase)}
_APPROVED = frozenset({Phase.WORK, Phase.INSPECTION, Phase.ACCEPTED})


@dataclass(frozen=True)
class StateClasses:
    phases: Mapping[str, Phase]

    def phase(self, state: str) -> Phase:
        # A state the definition does not name cannot occur; between submission
        # and approval is the least misleading guess if it ever does.
        return self.phases.get(state, Phase.REVIEW)

    def states(self, *phases: Phase) -> frozenset[str]:
        return frozenset(s for s, p in self.phases.items() if p in phases)


def _reach(graph: Mapping[str, set[str]], starts: Iterable[str]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in graph.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


_CLASSES: dict[tuple[str, int, str], StateClasses] = {}


def state_classes(spec: WorkflowSpec) -> StateClasses:
    """Every state of ``spec`` with its phase.

    *Approved* is the point of no return and everything reachable from it.
    *Accepted* is what is approved, past the inspection and not awaiting its
    judgement: no ``inspect`` can follow any more (a definition without an
    inspection has nothing to accept after approval: approved counts as
    accepted). *Inspection* is where ``inspect`` starts or leads.
    """
    key = (spec.name, spec.version, spec.digest)
    cached = _CLASSES.get(key)
    if cached is not None:
        return cached
    graph: dict[str, set[str]] = {}
    for t in spec.transitions:
        for source in t.sources:
            graph.setdefault(source, set()).add(t.dest)
    approved = _reach(graph, committed_states(spec))
    inspect = [t for t in spec.transitions if t.trigger == INSPECT]
    sources = {s for t in inspect for s in t.sources}
    judged = {t.dest for t in inspect}
    accepted = {s for s in approved if s not in judged and not (_reach(graph, {s}) & sources)}
    finals = set(spec.final_states)
    phases: dict[str, Phase] = {}
    for state in spec.state_names:
        if state in accepted:
            phases[state] = Phase.ACCEPTED
        elif state in approved:
            phases[state] = Phase.INSPECTION if state in sources | judged else Phase.WORK
        elif state in finals:
            phases[state] = Phase.DROPPED
        elif state in editable_states(spec):
            phases[state] = Phase.DRAFTING
        else:
            phases[state] = Phase.REVIEW
    classes = StateClasses(phases)
    _CLASSES[key] = classes
    return classes


# -- aggregation (pure) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateCount:
    """One row of the year's GROUP BY: a unit's plans of one definition version in one state."""

    unit_id: int
    workflow_name: str
    workflow_version: int
    state: str
    plans: int
    submitted: int  # submitted at least once
    overdue: int  # the open task is past due
    escalated: int  # the open task was escalated
    max_level: int


@dataclass(frozen=True)
class UnitStatus:
    """A unit's year: flags over all its plans (a unit may have several, or none)."""

    plans: int = 0
    submitted: bool = False
    approved: bool = False
    accepted: bool = False
    #: The furthest phase any of its plans reached.
    phase: Phase = Phase.NONE
    overdue_reviews: int = 0
    overdue_inspections: int = 0
    overdue_other: int = 0
    escalated: int = 0
    max_level: int = 0

    @property
    def overdue(self) -> int:
        return self.overdue_reviews + self.overdue_inspections + self.overdue_other

    @property
    def needs_attention(self) -> bool:
        return self.plans == 0 or self.overdue > 0 or self.escalated > 0


NO_PLAN = UnitStatus()


_PHASES = tuple(Phase)


def unit_statuses(
    counts: Iterable[StateCount], classes_of: Callable[[str, int], StateClasses]
) -> dict[int, UnitStatus]:
    """Each unit that has plans, from the counted rows; ``classes_of(name, version)``."""
    # Tallied in plain lists: a year of 10,000 plans can give as many rows.
    # plans, submitted, approved, accepted, furthest phase, overdue review/inspection/other,
    # escalated, highest level
    tally: dict[int, list[int]] = {}
    phases: dict[tuple[str, int, str], Phase] = {}
    for c in counts:
        key = (c.workflow_name, c.workflow_version, c.state)
        phase = phases.get(key)
        if phase is None:
            phase = phases[key] = classes_of(c.workflow_name, c.workflow_version).phase(c.state)
        t = tally.get(c.unit_id)
        if t is None:
            t = tally[c.unit_id] = [0] * 10
        t[0] += c.plans
        t[1] |= c.submitted > 0
        t[2] |= phase in _APPROVED
        t[3] |= phase is Phase.ACCEPTED
        t[4] = max(t[4], _RANK[phase])
        t[5 if phase is Phase.REVIEW else 6 if phase is Phase.INSPECTION else 7] += c.overdue
        t[8] += c.escalated
        t[9] = max(t[9], c.max_level)
    return {
        unit: UnitStatus(
            plans=t[0],
            submitted=bool(t[1]),
            approved=bool(t[2]),
            accepted=bool(t[3]),
            phase=_PHASES[t[4]],
            overdue_reviews=t[5],
            overdue_inspections=t[6],
            overdue_other=t[7],
            escalated=t[8],
            max_level=t[9],
        )
        for unit, t in tally.items()
    }


@dataclass(frozen=True)
class Group:
    """A head unit and the units counted under it."""

    head: int
    units: tuple[int, ...]
    #: The head alone: it lies above the grouping depth, so only its own plans count here.
    own: bool = False


def tree_order(org: OrgSnapshot, roots: Iterable[int]) -> list[tuple[int, int]]:
    """``(unit, depth below its root)`` of every unit under ``roots``, depth first, by code."""
    children: dict[int, list[int]] = {}
    for info in sorted(org.units.values(), key=lambda u: u.code, reverse=True):
        if info.parent_id is not None:
            children.setdefault(info.parent_id, []).append(info.id)
    out: list[tuple[int, int]] = []
    seen: set[int] = set()
    stack = [(r, 0) for r in sorted(roots, key=lambda u: org.unit(u).code, reverse=True)]
    while stack:
        unit, depth = stack.pop()
        if unit in seen:  # overlapping roots: each unit once
            continue
        seen.add(unit)
        out.append((unit, depth))
        stack.extend((k, depth + 1) for k in children.get(unit, ()))
    return out


def group_units(org: OrgSnapshot, roots: Sequence[int], depth: int = 1) -> list[Group]:
    """The units under ``roots`` grouped under the units ``depth`` levels down.

    One root: the root itself (its own plans) and a group per child (for
    ``depth`` 1), e.g. the federation and each union. Several roots (someone
    overseeing two unions) count as the children of an invisible root.
    """
    offset = 0 if len(roots) == 1 else 1
    groups: list[Group] = []
    for unit, level in tree_order(org, roots):
        level += offset
        if level < depth:
            groups.append(Group(unit, (unit,), own=True))
        elif level == depth:
            groups.append(Group(unit, tuple(org.subtree(unit))))
    return groups


@dataclass(frozen=True)
class Rollup:
    """Counts over a group's units; plans with several definitions count per unit."""

    head: int | None  # None: every unit shown
    own: bool
    units: int
    with_plan: int
    submitted: int
    approved: int
    accepted: int
    overdue_reviews: int  # plans, not units
    overdue_inspections: int
    escalated: int
    #: Units by the furthest phase of their plans (``Phase.NONE``: no plan yet).
    phases: Mapping[Phase, int] = field(default_factory=dict)

    def rate(self, count: int) -> float:
        return count / self.units if self.units else 0.0


def _rollup(head: int | None, own: bool, statuses: Sequence[UnitStatus]) -> Rollup:
    phases = dict.fromkeys(Phase, 0)
    for s in statuses:
        phases[s.phase] += 1
    return Rollup(
        head=head,
        own=own,
        units=len(statuses),
        with_plan=sum(1 for s in statuses if s.plans),
        submitted=sum(1 for s in statuses if s.submitted),
        approved=sum(1 for s in statuses if s.approved),
        accepted=sum(1 for s in statuses if s.accepted),
        overdue_reviews=sum(s.overdue_reviews for s in statuses),
        overdue_inspections=sum(s.overdue_inspections for s in statuses),
        escalated=sum(s.escalated for s in statuses),
        phases=phases,
    )


def roll_up(groups: Sequence[Group], statuses: Mapping[int, UnitStatus]) -> list[Rollup]:
    """One ``Rollup`` per group, then the total over every unit of the groups."""
    rows = [_rollup(g.head, g.own, [statuses.get(u, NO_PLAN) for u in g.units]) for g in groups]
    every = {u for g in groups for u in g.units}
    rows.append(_rollup(None, False, [statuses.get(u, NO_PLAN) for u in every]))
    return rows


# -- queries ------------------------------------------------------------------------------


def _in_units(unit_ids: Collection[int] | None) -> list[object]:
    if unit_ids is None or len(unit_ids) > MAX_UNITS_IN_QUERY:
        return []
    return [col(Plan.unit_id).in_(sorted(unit_ids))]


def count_states(
    db: Database, year: int, unit_ids: Collection[int] | None, now: datetime
) -> list[StateCount]:
    """The year's plans counted per unit, definition version and state (``None``: all units)."""
    wanted = None if unit_ids is None else set(unit_ids)
    due = col(Plan.task_due_at)
    query = (
        select(  # type: ignore[call-overload]
            col(Plan.unit_id),
            col(Plan.workflow_name),
            col(Plan.workflow_version),
            col(Plan.state),
            func.count(),
            func.sum(case((col(Plan.revision) > 0, 1), else_=0)),
            func.sum(case((due.is_not(None) & (due < now), 1), else_=0)),
            func.sum(case((col(Plan.task_level) > 0, 1), else_=0)),
            func.max(col(Plan.task_level)),
        )
        .where(col(Plan.year) == year, *_in_units(wanted))
        .group_by(
            col(Plan.unit_id), col(Plan.workflow_name), col(Plan.workflow_version), col(Plan.state)
        )
    )
    with db.read_session() as s:
        # SUM and MAX of integers come back as integers on both databases.
        rows = [StateCount(*r) for r in s.exec(query)]
    return rows if wanted is None else [r for r in rows if r.unit_id in wanted]


@dataclass(frozen=True, slots=True)
class UnitPlan:
    """A plan as the overview lists it (no content)."""

    id: int
    unit_id: int
    title: str
    workflow_name: str
    workflow_version: int
    state: str
    revision: int
    task_role: str | None
    task_unit_id: int | None
    task_escalated_unit_id: int | None
    task_due_at: datetime | None
    task_level: int

    def overdue(self, now: datetime) -> bool:
        return self.task_due_at is not None and self.task_due_at < now


def unit_plans(db: Database, year: int, unit_ids: Collection[int]) -> list[UnitPlan]:
    """The year's plans of ``unit_ids``, oldest first, in one query."""
    wanted = set(unit_ids)
    if not wanted:
        return []
    query = (
        select(  # type: ignore[call-overload]
            col(Plan.id),
            col(Plan.unit_id),
            col(Plan.title),
            col(Plan.workflow_name),
            col(Plan.workflow_version),
            col(Plan.state),
            col(Plan.revision),
            col(Plan.task_role),
            col(Plan.task_unit_id),
            col(Plan.task_escalated_unit_id),
            col(Plan.task_due_at),
            col(Plan.task_level),
        )
        .where(col(Plan.year) == year, *_in_units(wanted))
        .order_by(col(Plan.id))
    )
    with db.read_session() as s:
        return [UnitPlan(*r) for r in s.exec(query) if r[1] in wanted]


@dataclass(frozen=True)
class YearOverview:
    year: int
    now: datetime
    #: Every unit under the roots, with its depth below its root, depth first.
    units: tuple[tuple[int, int], ...]
    statuses: Mapping[int, UnitStatus]
    groups: tuple[Group, ...]
    #: One per group, then the total.
    rollups: tuple[Rollup, ...]

    def status(self, unit_id: int) -> UnitStatus:
        return self.statuses.get(unit_id, NO_PLAN)


def year_overview(
    db: Database,
    org: OrgSnapshot,
    classes_of: Callable[[str, int], StateClasses],
    *,
    year: int,
    roots: Sequence[int],
    depth: int,
    now: datetime,
) -> YearOverview:
    units = tuple(tree_order(org, roots))
    ids = {u for u, _ in units}
    counts = count_states(db, year, None if len(ids) == len(org.units) else ids, now)
    statuses = unit_statuses(counts, classes_of)
    groups = group_units(org, roots, depth)
    return YearOverview(year, now, units, statuses, tuple(groups), tuple(roll_up(groups, statuses)))
