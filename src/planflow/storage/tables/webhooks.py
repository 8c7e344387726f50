"""Outgoing webhooks and their delivery outbox (one row per event and webhook)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    Index,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


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
