"""Rows to views: ids become usernames and unit codes, through an organisation snapshot.

The snapshot passed in must be at least as new as the rows (the queries
read the organisation generation with them), so every unit and person a
row names is in it; "?" stands for one that is not, rather than an error
in the middle of a list.
"""

from __future__ import annotations

from typing import Any

from planflow.core.compact_json import frozen_json
from planflow.core.org import OrgSnapshot
from planflow.views import AuditEntry, OpenTask, PlanSummary, PlanView, UnitRef

UNKNOWN_UNIT = UnitRef("?", "?")


def unit_ref(org: OrgSnapshot, unit_id: int | None) -> UnitRef | None:
    if unit_id is None:
        return None
    unit = org.units.get(unit_id)
    return UnitRef(unit.code, unit.name) if unit is not None else UNKNOWN_UNIT


def username(org: OrgSnapshot, user_id: int | None) -> str | None:
    return None if user_id is None else org.usernames.get(user_id, "?")


def open_task(org: OrgSnapshot, row: Any) -> OpenTask | None:
    """The open task of a row with the ``task_*`` columns (None: the plan waits for nobody)."""
    if row.task_role is None:
        return None
    return OpenTask(
        role=row.task_role,
        unit=unit_ref(org, row.task_unit_id),
        escalated_to=unit_ref(org, row.task_escalated_unit_id),
        since=row.task_since,
        due_at=row.task_due_at,
        level=row.task_level,
    )


def plan_summary(org: OrgSnapshot, row: Any) -> PlanSummary:
    """A row of ``storage.plan_reads.SUMMARY_COLUMNS`` as a list shows it."""
    return PlanSummary(
        id=row.id,
        unit=unit_ref(org, row.unit_id) or UNKNOWN_UNIT,
        year=row.year,
        title=row.title,
        workflow=row.workflow_name,
        workflow_version=row.workflow_version,
        state=row.state,
        version=row.version,
        revision=row.revision,
        task=open_task(org, row),
        updated_at=row.updated_at,
    )


def plan_view(org: OrgSnapshot, row: Any) -> PlanView:
    """A row of ``storage.plan_reads.plan_view_row`` as the plan's view."""
    return PlanView(
        id=row.id,
        unit=unit_ref(org, row.unit_id) or UNKNOWN_UNIT,
        year=row.year,
        title=row.title,
        workflow=row.workflow_name,
        workflow_version=row.workflow_version,
        state=row.state,
        version=row.version,
        revision=row.revision,
        item_count=row.item_count,
        task=open_task(org, row),
        created_by=username(org, row.created_by),
        submitted_by=username(org, row.submitted_by),
        grade=row.grade,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_timer=row.timer_kind if row.timer_at is not None else None,
        next_timer_at=row.timer_at,
    )


def audit_entry(org: OrgSnapshot, r: Any) -> AuditEntry:
    """A stored audit record (``tables.AuditRecord`` or a row of its columns)."""
    return AuditEntry(
        plan_id=r.plan_id,
        seq=r.seq,
        at=r.at,
        actor=username(org, r.actor_id),
        on_behalf_of=username(org, r.on_behalf_of_id),
        action=r.action,
        from_state=r.from_state,
        to_state=r.to_state,
        comment=r.comment,
        revision=r.revision,
        detail=frozen_json(r.detail),
        prev_hash=r.prev_hash,
        hash=r.hash,
    )
