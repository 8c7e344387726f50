"""The overview's queries: the year's plans counted per unit and state, and listed.

``count_states`` is one ``GROUP BY`` over the year's plans (a row per unit,
definition version and state, whatever the number of units), so the
overview costs a fixed number of queries however large the tree;
``unit_plans`` reads the plans of the units one page shows, without their
content. What the counts mean is ``planflow.services.overview``'s business (pure).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import col, select

from planflow.storage.db import Database
from planflow.storage.tables import Plan

#: Above this many units the queries read the whole year and drop the rest in
#: Python: an SQLite older than 3.32 takes at most 999 parameters a statement.
MAX_UNITS_IN_QUERY = 900


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
