"""SQLAlchemy Core statements on the transition hot path.

A transition costs one SELECT (plan, its open task and the organisation
generation in one round trip), one UPDATE (state, version, audit head, with
the optimistic version check) and the INSERTs of its effects. Statements are
built once at import time so SQLAlchemy's compiled cache is hit every time;
the ORM is not used here because its unit of work costs more than the whole
SQL of a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from ..guards import PlanFacts
from .tables import (
    ApprovalVote,
    AuditRecord,
    Notification,
    OrgGeneration,
    Plan,
    PlanRevision,
    Task,
    Timer,
)

plan_t = Plan.__table__  # type: ignore[attr-defined]
task_t = Task.__table__  # type: ignore[attr-defined]
timer_t = Timer.__table__  # type: ignore[attr-defined]
audit_t = AuditRecord.__table__  # type: ignore[attr-defined]
notification_t = Notification.__table__  # type: ignore[attr-defined]
revision_t = PlanRevision.__table__  # type: ignore[attr-defined]
vote_t = ApprovalVote.__table__  # type: ignore[attr-defined]
generation_t = OrgGeneration.__table__  # type: ignore[attr-defined]

_generation = select(generation_t.c.generation).where(generation_t.c.id == 1).scalar_subquery()

SELECT_PLAN = (
    select(
        plan_t.c.id,
        plan_t.c.unit_id,
        plan_t.c.year,
        plan_t.c.title,
        plan_t.c.workflow_name,
        plan_t.c.workflow_version,
        plan_t.c.state,
        plan_t.c.version,
        plan_t.c.submitted_by,
        plan_t.c.item_count,
        plan_t.c.items_without_due,
        plan_t.c.revision,
        plan_t.c.audit_seq,
        plan_t.c.audit_hash,
        task_t.c.id.label("task_id"),
        task_t.c.role.label("task_role"),
        task_t.c.unit_id.label("task_unit_id"),
        _generation.label("org_generation"),
    )
    .select_from(
        plan_t.outerjoin(task_t, and_(task_t.c.plan_id == plan_t.c.id, task_t.c.status == "open"))
    )
    .where(plan_t.c.id == bindparam("plan_id"))
)

SELECT_VERSION = select(plan_t.c.version).where(plan_t.c.id == bindparam("plan_id"))
SELECT_CONTENT = select(plan_t.c.content).where(plan_t.c.id == bindparam("plan_id"))
SELECT_VOTES = select(vote_t.c.user_id).where(
    vote_t.c.plan_id == bindparam("plan_id"), vote_t.c.round == bindparam("round")
)

INSERT_AUDIT = insert(audit_t)
INSERT_REVISION = insert(revision_t)
INSERT_VOTE = insert(vote_t)
INSERT_TASK = insert(task_t)
INSERT_TIMER = insert(timer_t)
INSERT_NOTIFICATION = insert(notification_t)
CLOSE_TASKS = (
    update(task_t)
    .where(task_t.c.plan_id == bindparam("p_plan_id"), task_t.c.status == "open")
    .values(status="done", closed_at=bindparam("p_closed_at"), closed_by=bindparam("p_closed_by"))
)


@dataclass(frozen=True, slots=True)
class PlanRow:
    """A plan as the transition path reads it."""

    id: int
    unit_id: int
    year: int
    title: str
    workflow_name: str
    workflow_version: int
    state: str
    version: int
    submitted_by: int | None
    item_count: int
    items_without_due: int
    revision: int
    audit_seq: int
    audit_hash: str
    task_id: int | None
    task_role: str | None
    task_unit_id: int | None
    org_generation: int

    def facts(self, approvals: frozenset[int] = frozenset()) -> PlanFacts:
        return PlanFacts(
            plan_id=self.id,
            unit_id=self.unit_id,
            state=self.state,
            version=self.version,
            submitted_by=self.submitted_by,
            item_count=self.item_count,
            items_without_due=self.items_without_due,
            revision=self.revision,
            approvals=approvals,
            task_role=self.task_role,
            task_units=(self.task_unit_id,) if self.task_unit_id is not None else (),
        )


def load_plan(conn: Connection, plan_id: int) -> PlanRow | None:
    row = conn.execute(SELECT_PLAN, {"plan_id": plan_id}).first()
    return None if row is None else PlanRow(*row)


def current_version(conn: Connection, plan_id: int) -> int | None:
    value = conn.execute(SELECT_VERSION, {"plan_id": plan_id}).scalar()
    return None if value is None else int(value)


def load_votes(conn: Connection, plan_id: int, round_: int) -> frozenset[int]:
    return frozenset(conn.execute(SELECT_VOTES, {"plan_id": plan_id, "round": round_}).scalars())


def load_content(conn: Connection, plan_id: int) -> str:
    return str(conn.execute(SELECT_CONTENT, {"plan_id": plan_id}).scalar_one())


def update_plan_checked(
    conn: Connection, plan_id: int, expected_version: int, values: dict[str, Any]
) -> bool:
    """The optimistic lock: write only if nobody changed the plan since we read it."""
    stmt = (
        update(plan_t)
        .where(plan_t.c.id == plan_id, plan_t.c.version == expected_version)
        .values(**values)
    )
    return conn.execute(stmt).rowcount == 1
