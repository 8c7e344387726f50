"""Plans and what belongs to one: the definitions they run under, revisions, comments, votes.

``Plan`` carries the plan's state, its open task and its timer in one row,
so that the transition path reads and writes one row; the rest hangs off it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from planflow.storage.audit_keys import REVISION_KEY_SQL, SEQ_SPAN


class WorkflowDefinition(SQLModel, table=True):
    """Every definition version a plan has ever started under, with its text.

    Plans keep running under their version even if its file is edited or
    removed later.
    """

    __tablename__ = "workflow_definition"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    version: int
    digest: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    registered_at: datetime


class Plan(SQLModel, table=True):
    """A plan, its workflow state, and the task and timer of that state.

    A plan waits in one state at a time, so the task of that state (who must
    act, by when, escalated how far) and its next timer (reminder, escalation
    or auto-action, with a lease for the scheduler process that claims it)
    are columns here: a transition updates one row, and the deadline
    processor finds due timers with one indexed query. Finished tasks are in
    the audit trail.
    """

    __tablename__ = "plan"
    __table_args__ = (
        Index("ix_plan_unit_year", "unit_id", "year"),
        # Open tasks and pending timers only (migration 0004): the queue and
        # the deadline processor never look for the others. The queue's SQL
        # (``inbox.task_clause``) names the condition, or SQLite ignores it.
        Index(
            "ix_plan_task",
            "task_unit_id",
            "task_role",
            sqlite_where=text("task_role IS NOT NULL"),
            postgresql_where=text("task_role IS NOT NULL"),
        ),
        # On the timer's lower bound, not the timer itself (migration 0007).
        Index(
            "ix_plan_timer",
            "timer_hint",
            sqlite_where=text("timer_hint IS NOT NULL"),
            postgresql_where=text("timer_hint IS NOT NULL"),
        ),
        # Escalated tasks only: the queue of the units they reached.
        Index(
            "ix_plan_escalated",
            "task_escalated_unit_id",
            "task_role",
            sqlite_where=text("task_escalated_unit_id IS NOT NULL"),
            postgresql_where=text("task_escalated_unit_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    year: int
    title: str = Field(max_length=300)
    workflow_name: str = Field(max_length=100)
    workflow_version: int
    # Not indexed on purpose: it changes on every transition, and an index
    # would cost a B-tree page per commit; lists by state filter a unit's or
    # a year's plans, which ix_plan_unit_year finds.
    state: str = Field(max_length=64)
    #: Optimistic lock: every change increments it; a write that expected an
    #: older value fails instead of overwriting.
    version: int = 1
    created_by: int = Field(foreign_key="app_user.id")
    submitted_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime
    updated_at: datetime
    #: The working content (canonical JSON); frozen into plan_revision on submission.
    content: str = Field(sa_column=Column(Text, nullable=False))
    #: Denormalised from ``content`` for the guards, so a transition needs no parse.
    item_count: int = 0
    items_without_due: int = 0
    #: Number of frozen revisions (0 until first submission).
    revision: int = 0
    #: Head of this plan's audit chain.
    audit_seq: int = 0
    audit_hash: str = Field(default="", max_length=64)
    #: Grade of the last finished inspection (model, advanced, qualified, not_passed).
    grade: str | None = Field(default=None, max_length=32)
    #: The current task: the holders of ``task_role`` at ``task_unit_id`` must act.
    task_role: str | None = Field(default=None, max_length=40)
    task_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    task_since: datetime | None = None
    task_due_at: datetime | None = None
    #: How many times the task moved up the tree because it was overdue.
    task_level: int = 0
    #: Where an overdue task has been escalated to (``task_level`` > 0): the
    #: holders of ``task_role`` there may act too; the original ones still can.
    task_escalated_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    #: The next timer of the task: when, and what (remind | escalate | auto).
    timer_at: datetime | None = None
    timer_kind: str | None = Field(default=None, max_length=16)
    #: Not later than ``timer_at`` whenever that is set, and indexed instead
    #: of it: a transition that sets a later timer leaves the index alone,
    #: and the deadline processor moves a hint that came due early
    #: (``storage.timer_store.FIX_TIMER_HINTS``). A hint without a timer
    #: (the task ended) is cleared the same way.
    timer_hint: datetime | None = None
    #: The scheduler process holding the timer, and until when (a lease).
    timer_claimed_by: str | None = Field(default=None, max_length=120)
    timer_claimed_until: datetime | None = None


class PlanRevision(SQLModel, table=True):
    """The content as it was submitted, frozen.

    Keyed like the audit trail: ``id = plan_id * 2**32 + number``
    (``storage.audit_keys``), so (plan, number) is unique by the key itself
    and a submission writes one B-tree page, not one more for an index.
    """

    __tablename__ = "plan_revision"
    __table_args__ = (
        CheckConstraint(
            f"id = {REVISION_KEY_SQL} AND number >= 1 AND number < {SEQ_SPAN}",
            name="ck_plan_revision_key",
        ),
    )

    # INTEGER on SQLite: only that type makes the key the rowid.
    id: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
        )
    )
    plan_id: int = Field(foreign_key="plan.id")
    number: int
    content: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime


class Comment(SQLModel, table=True):
    __tablename__ = "comment"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    item_key: str | None = Field(default=None, max_length=40)
    author_id: int = Field(foreign_key="app_user.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    revision: int
    created_at: datetime


class ApprovalVote(SQLModel, table=True):
    """One committee member's approval in one review round (n-of-m)."""

    __tablename__ = "approval_vote"
    __table_args__ = (UniqueConstraint("plan_id", "round", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    round: int
    user_id: int = Field(foreign_key="app_user.id")
    at: datetime
