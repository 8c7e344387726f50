"""Notifications: in-app, and the e-mail outbox's queue and watermark on the same rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    Index,
    Text,
    text,
)
from sqlmodel import Field, SQLModel

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
