"""The database tables, as SQLModel table models.

This module is the only description of the schema; Alembic migrations are
generated from it and checked against it by the tests. Non-table shapes
(what callers read back) live in ``schemas.py``. JSON payloads are stored as
canonical JSON text so that SQLite and PostgreSQL hold byte-identical values
(the audit hash depends on it).

All datetimes are timezone-aware UTC (SQLModel's ``UTCDateTime``).
"""

from __future__ import annotations

from datetime import date, datetime

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

from planflow.storage.audit_keys import KEY_SQL as AUDIT_KEY_SQL
from planflow.storage.audit_keys import REVISION_KEY_SQL, SEQ_SPAN


class Unit(SQLModel, table=True):
    """An organisation unit: federation, union, branch union, group, ..."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=300)
    created_at: datetime


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    display_name: str = Field(max_length=200)
    email: str = Field(default="", max_length=320)
    language: str = Field(default="en", max_length=8)
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=255)
    #: Bumped to revoke every session of the user (password change, logout-all).
    session_version: int = 1
    #: immediately | digest | off
    email_preference: str = Field(default="immediately", max_length=16)
    created_at: datetime


class RoleAssignment(SQLModel, table=True):
    """A user holds a role at a unit."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = Field(max_length=40)
    created_at: datetime


class OrgGeneration(SQLModel, table=True):
    """One row; bumped by every change to units, users or roles.

    Every process caches the organisation tree and reads this number in the
    same query as the plan it works on, so a change made by any process is
    seen by all of them on their next transition.
    """

    __tablename__ = "org_generation"

    id: int = Field(default=1, primary_key=True)
    generation: int = 1


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


class AuditRecord(SQLModel, table=True):
    """Append-only; each record is hash-chained to the previous one of its plan.

    Identified by (plan, seq), the chain's own order, packed into one integer
    key: ``id = plan_id * 2**32 + seq`` (``storage.audit_keys`` says why;
    SQLite clusters the table on it, so appending writes one B-tree page).
    """

    __tablename__ = "audit_record"
    __table_args__ = (
        CheckConstraint(
            f"id = {AUDIT_KEY_SQL} AND seq >= 1 AND seq < {SEQ_SPAN}", name="ck_audit_record_key"
        ),
    )

    # INTEGER on SQLite: only that type makes the key the rowid.
    id: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
        )
    )
    plan_id: int = Field(foreign_key="plan.id")
    seq: int
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="app_user.id")
    at: datetime
    action: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str = Field(max_length=64)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    revision: int
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A digest over every plan's chain head, chained to the previous checkpoint."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    plan_count: int
    record_count: int
    digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditAnchor(SQLModel, table=True):
    """The chain head of a plan as of the latest checkpoint that saw it."""

    __tablename__ = "audit_anchor"

    plan_id: int = Field(primary_key=True, foreign_key="plan.id")
    seq: int
    hash: str = Field(max_length=64)
    checkpoint_id: int = Field(foreign_key="audit_checkpoint.id")


class AuditSignedCheckpoint(SQLModel, table=True):
    """A checkpoint signed with the key outside the database (``planflow.core.checkpoints``).

    ``statement`` is the canonical text that was signed, as published; the
    signature is base64. ``seq`` is given, not generated: two processes that
    make checkpoint ``n`` at once cannot both insert it.
    """

    __tablename__ = "audit_signed_checkpoint"
    __table_args__ = (
        # Only checkpoints still to be mailed: the scheduler looks every tick.
        Index(
            "ix_audit_signed_checkpoint_mail",
            "seq",
            sqlite_where=text("mail_status = 'pending'"),
            postgresql_where=text("mail_status = 'pending'"),
        ),
    )

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime
    statement: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(max_length=100)
    #: SHA-256 of ``statement``: the next checkpoint's ``prev``.
    hash: str = Field(max_length=64)
    #: The auditor's e-mail: pending | sent | failed; None when none was configured.
    mail_status: str | None = Field(default=None, max_length=16)


class AuditSignedHead(SQLModel, table=True):
    """A plan's chain head as a signed checkpoint saw it, where it changed since the one before.

    No foreign key to ``plan``: a head once signed outlives the plan row, so
    erasing a plan is reported, not forgotten.
    """

    __tablename__ = "audit_signed_head"
    __table_args__ = (Index("ix_audit_signed_head_plan", "plan_id", "checkpoint_seq"),)

    checkpoint_seq: int = Field(
        primary_key=True,
        foreign_key="audit_signed_checkpoint.seq",
        sa_column_kwargs={"autoincrement": False},
    )
    plan_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int
    hash: str = Field(max_length=64)


#: The rows of ``ix_notification_outbox``.
OUTBOX_WAITING = "email_status = 'pending' AND email_next_at IS NOT NULL"


class Notification(SQLModel, table=True):
    """An in-app notification, and the e-mail outbox entry for it."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user", "user_id", "id"),
        # Only rows waiting for (another try at) e-mail are in this index, so
        # it stays small and sending a mail takes the row out of it. A new
        # row on SQLite has no due time yet and is found by its id instead
        # (``OutboxWatermark``): its insert writes one B-tree less.
        Index(
            "ix_notification_outbox",
            "email_next_at",
            sqlite_where=text(OUTBOX_WAITING),
            postgresql_where=text(OUTBOX_WAITING),
        ),
        # Rows waiting for a user's daily digest: found without a table scan.
        Index(
            "ix_notification_digest",
            "user_id",
            sqlite_where=text("email_status = 'digest'"),
            postgresql_where=text("email_status = 'digest'"),
        ),
        # One notification per event (the change's audit record) per person.
        Index(
            "ux_notification_event",
            "plan_id",
            "event_seq",
            "user_id",
            unique=True,
            sqlite_where=text("event_seq IS NOT NULL"),
            postgresql_where=text("event_seq IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    #: The ``seq`` of the plan's audit record the notification tells of (NULL for
    #: rows written before 0021): one notification per event and person.
    event_seq: int | None = None
    kind: str = Field(max_length=32)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime
    read_at: datetime | None = None
    #: pending | sent | skipped | failed | digest
    email_status: str = Field(default="pending", max_length=16)
    email_attempts: int = 0
    #: When the sender may next try. A claim pushes it one lease ahead, so a
    #: sender that dies mid-send leaves the row to be retried, not lost.
    #: NULL on a new pending row on SQLite: due now, found by ``OutboxWatermark``.
    email_next_at: datetime | None = None
    #: The token of the sender that claimed the row; marking it sent checks it.
    email_claim: str | None = Field(default=None, max_length=64)


class OutboxWatermark(SQLModel, table=True):
    """One row: every notification up to ``last_id`` has been seen by an e-mail sender.

    On SQLite a new notification is inserted without a due time, so the
    insert skips ``ix_notification_outbox``; the sender finds new rows as
    those after this id instead, a range of the table itself. That is sound
    because SQLite has one writer at a time and gives each new row a larger
    id than any before (notification rows are never deleted), so no row can
    commit behind the watermark. PostgreSQL commits out of id order, so
    there new rows carry their due time and are found by the index.
    """

    __tablename__ = "outbox_watermark"

    id: int = Field(default=1, primary_key=True)
    last_id: int = 0


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


class ItemProgress(SQLModel, table=True):
    """The unit's report on one plan item, after approval."""

    __tablename__ = "item_progress"
    __table_args__ = (UniqueConstraint("plan_id", "item_key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    item_key: str = Field(max_length=40)
    status: str = Field(max_length=16)  # not_started | in_progress | done | blocked
    report: str = Field(default="", sa_column=Column(Text, nullable=False))
    measured: float | None = None
    #: Values for the item's second and later targets: a JSON list (null: none given).
    measured_more: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_by: int = Field(foreign_key="app_user.id")
    updated_at: datetime


class Evidence(SQLModel, table=True):
    """A file attached to a progress report; the bytes live outside the database."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    item_key: str = Field(max_length=40)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: int = Field(foreign_key="app_user.id")
    uploaded_at: datetime


class Inspection(SQLModel, table=True):
    """One inspection of a plan: the scoring sheet filled in, and its outcome."""

    __tablename__ = "inspection"
    __table_args__ = (UniqueConstraint("plan_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    round: int
    scores: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    outcome: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    grade: str | None = Field(default=None, max_length=32)
    inspector_id: int | None = Field(default=None, foreign_key="app_user.id")
    rectification_due: date | None = None
    #: The day the inspector plans to visit the unit for this round (None: not planned).
    visit_date: date | None = None
    updated_at: datetime


class ScheduleFiring(SQLModel, table=True):
    """A recurring round fired (or recorded as missed) once per period."""

    __tablename__ = "schedule_firing"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    workflow_name: str = Field(max_length=100)
    schedule: str = Field(max_length=100)
    period: str = Field(max_length=40)
    status: str = Field(max_length=16)  # running | fired | missed
    #: When the round was (or would have been) due.
    due_at: datetime | None = None
    #: When it was recorded as fired or missed.
    at: datetime
    plans_affected: int = 0
    #: The scheduler process running the round, and until when (a lease).
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_until: datetime | None = None


class AppliedEffect(SQLModel, table=True):
    """The idempotency key of every timer effect and scheduled round applied.

    Timers fire at least once; inserting the effect's key in the same
    transaction as the effect makes a second firing a no-op.
    """

    __tablename__ = "applied_effect"

    key: str = Field(primary_key=True, max_length=200)
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    at: datetime


class LoginAttempt(SQLModel, table=True):
    """A sign-in attempt, for rate limiting per account and per address.

    Kept in the database, not in a worker's memory, so the limit holds across
    every web worker and host.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username", "username", "at"),
        Index("ix_login_attempt_address", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80)
    address: str = Field(max_length=64)
    at: datetime
    success: bool = False
    #: Made with a trusted device's token of the account (counted apart: ``services.sign_in``).
    trusted: bool = False


class TrustedDevice(SQLModel, table=True):
    """A browser (or other client) someone signed in with: its token, kept hashed.

    Attempts that present it are exempt from the limits others' failures set.
    """

    __tablename__ = "trusted_device"
    __table_args__ = (Index("ix_trusted_device_user", "user_id", "last_used_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
    last_used_at: datetime


class Setting(SQLModel, table=True):
    """A setting of this database, by name (``storage.settings``).

    ``simulation``: the database is for trying things out (the demo, a
    benchmark, a rehearsal), so a scheduler pass may be run at a moment
    ahead of the real time (``services.simulation``).
    """

    __tablename__ = "setting"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    set_at: datetime


class ApiToken(SQLModel, table=True):
    """A personal access token for the HTTP API (``services.api_tokens``), kept hashed.

    The secret is shown once, when the token is made; ``prefix`` is its first
    characters, so that a person can tell their tokens apart in a list.
    """

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    #: ``read``, ``write`` or ``admin``; each includes the ones before it.
    scope: str = Field(max_length=10)
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class FeedToken(SQLModel, table=True):
    """A secret calendar-feed address (``services.feed_tokens``), kept hashed like API tokens.

    ``unit_id`` None: the user's own feed; else the feed of that unit's plans,
    read with the user's visibility. A feed token is no API token: it opens
    one read-only .ics address and nothing else.
    """

    __tablename__ = "feed_token"
    __table_args__ = (Index("ix_feed_token_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    unit_id: int | None = Field(default=None, foreign_key="unit.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime
    revoked_at: datetime | None = None


class ApiRateWindow(SQLModel, table=True):
    """Requests a token has been granted in one minute (``services.api_limits``).

    Kept in the database so that the limit holds across worker processes and
    hosts; each process claims slots a few at a time, not one per request.
    """

    __tablename__ = "api_rate_window"

    token_id: int = Field(foreign_key="api_token.id", ondelete="CASCADE", primary_key=True)
    window_start: datetime = Field(primary_key=True)
    granted: int


class Webhook(SQLModel, table=True):
    """An outgoing webhook: events of the plans of a unit's subtree, POSTed to a URL.

    ``events`` is a canonical JSON list of event types (``core.webhooks``).
    The secret is kept as it is, not hashed: every delivery is signed with
    it (HMAC), so the sender needs it back. ``active`` False: removed; its
    deliveries stay as a log. ``allow_private``: the admin chose to let it
    reach a private, loopback or link-local address (an intranet receiver).
    ``kind``: ``webhook`` (signed planflow JSON) or a group robot (``dingtalk``,
    ``wecom``, ``feishu``: ``core.robots``), whose messages are in ``language``;
    a robot's ``secret`` is the one its vendor issued (empty for WeCom).
    """

    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    url: str = Field(max_length=2000)
    events: str = Field(sa_column=Column(Text, nullable=False))
    secret: str = Field(max_length=100)
    active: bool = True
    allow_private: bool = False
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime
    kind: str = Field(default="webhook", max_length=16)
    language: str = Field(default="en", max_length=8)
    #: A person's own channel: told of the changes that notify them, not of a subtree.
    user_id: int | None = None


#: The rows of ``ix_webhook_delivery_due``: deliveries still to be (re)tried.
WEBHOOK_WAITING = "status = 'pending'"


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook: the outbox row, and its delivery log.

    Inserted in the same transaction as the change it tells of
    (``services.webhook_events``); (webhook, event id) is unique, so an
    event is enqueued for a webhook at most once. Sent at least once by
    the scheduler (``integrations.webhooks.sender``), under a claim token
    and a lease like the e-mail outbox. ``log`` is a JSON list of the last
    attempts (time, HTTP status or error).
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_delivery_event"),
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            sqlite_where=text(WEBHOOK_WAITING),
            postgresql_where=text(WEBHOOK_WAITING),
        ),
        Index("ix_webhook_delivery_webhook", "webhook_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id")
    #: A UUID, derived from the audit record the event tells of (stable across retries).
    event_id: str = Field(max_length=36)
    event_type: str = Field(max_length=40)
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    #: The JSON body, exactly the bytes that are signed and sent.
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    #: pending | delivered | failed | cancelled
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    #: When a sender may next try; a claim pushes it one lease ahead.
    next_attempt_at: datetime | None = None
    #: The token of the sender holding the row; finishing it checks the token.
    claim: str | None = Field(default=None, max_length=64)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = None
    log: str = Field(default="[]", sa_column=Column(Text, nullable=False))


# The tables of transfer, added approvers and CC live in their own module.
# The delegation table (issue 17, 委托).
from planflow.storage.tables_delegation import Delegation  # noqa: E402, F401
from planflow.storage.tables_handover import PlanCc, TaskPart  # noqa: E402, F401
