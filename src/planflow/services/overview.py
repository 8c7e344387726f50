"""The officers' overview of a year across the organisation tree.

Aggregation, pure: a unit's status from the counted rows
(``unit_statuses``), the units grouped under the heads at a chosen depth
(``group_units``), and each group's counts and rates (``roll_up``). Which
phase a state is in comes from ``planflow.core.state_phases`` (derived from the
definition's graph, never from state names).

The queries (``count_states``, one ``GROUP BY`` over the year's plans, and
``unit_plans``) are ``planflow.storage.overview_sql``; ``year_overview``
(called by ``Planflow.year_overview``) puts them together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from planflow.core.org import OrgSnapshot
from planflow.core.state_phases import Phase, StateClasses
from planflow.storage.db import Database
from planflow.storage.overview_sql import StateCount, count_states
from planflow.storage.overview_sql import UnitPlan as UnitPlan

#: Phases in the order a plan moves through them: a unit shows the furthest reached.
_RANK = {phase: n for n, phase in enumerate(Phase)}
_APPROVED = frozenset({Phase.WORK, Phase.INSPECTION, Phase.ACCEPTED})


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
    #: The unit drafts plans: it has one, or someone there may create one. A unit
    #: that only reviews (a federation, a union above its branches) does not, and
    #: is left out of the overview's counts and rates.
    drafts: bool = True

    @property
    def overdue(self) -> int:
        return self.overdue_reviews + self.overdue_inspections + self.overdue_other

    @property
    def needs_attention(self) -> bool:
        return self.drafts and (self.plans == 0 or self.overdue > 0 or self.escalated > 0)


NO_PLAN = UnitStatus()
#: A unit with no plan where no one may create one.
NOT_DRAFTING = UnitStatus(drafts=False)


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
    """One ``Rollup`` per group, then the total over every unit of the groups; only
    units that draft plans count (a group of none has zero units and rates of 0)."""

    def drafting(units: Iterable[int]) -> list[UnitStatus]:
        return [s for s in (statuses.get(u, NO_PLAN) for u in units) if s.drafts]

    rows = [_rollup(g.head, g.own, drafting(g.units)) for g in groups]
    rows.append(_rollup(None, False, drafting({u for g in groups for u in g.units})))
    return rows


def drafting_units(org: OrgSnapshot, creator_roles: Iterable[str]) -> frozenset[int]:
    """The units where someone holds a role that creates plans there."""
    roles = frozenset(creator_roles)
    return frozenset(
        unit
        for (unit, role), holders in org.holders_by_unit_role.items()
        if role in roles and holders
    )


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
    creator_roles: Iterable[str] = ("drafter",),
) -> YearOverview:
    """``creator_roles``: the roles definitions create plans with (at the plan's unit);
    a unit with no plan and no one holding one of them does not draft plans."""
    units = tuple(tree_order(org, roots))
    ids = {u for u, _ in units}
    counts = count_states(db, year, None if len(ids) == len(org.units) else ids, now)
    statuses = unit_statuses(counts, classes_of)
    drafting = drafting_units(org, creator_roles)
    for unit in ids - drafting - statuses.keys():
        statuses[unit] = NOT_DRAFTING
    groups = group_units(org, roots, depth)
    return YearOverview(year, now, units, statuses, tuple(groups), tuple(roll_up(groups, statuses)))
