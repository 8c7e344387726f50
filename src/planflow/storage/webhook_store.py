"""The SQL of webhooks: registering them, enqueuing events, and the delivery outbox.

Two kinds of statement, as elsewhere in storage:

* ``Sql`` texts for the write path (``storage.tx``): the enqueue inside a
  plan's change, and the sender's claim / renew / finish / release, which
  need dialect-specific SQL (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) like
  the e-mail outbox's (``integrations.mail.sql`` says why);
* SQLAlchemy Core for the administration (add, list, remove, the log,
  redeliver), which is rare and not on any hot path. A delivery is read
  straight into the library's view (``WebhookDeliveryView``), its only spelling.

Every change to a claimed row checks ``claim = :token``: a sender whose lease
ran out must not overwrite the outcome of the sender that took the row over.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from planflow.storage.tables import OrgGeneration, Webhook, WebhookDelivery
from planflow.storage.tx import Sql
from planflow.views import DeliveryAttempt, WebhookDeliveryView

hook_t = Webhook.__table__  # type: ignore[attr-defined]
delivery_t = WebhookDelivery.__table__  # type: ignore[attr-defined]
generation_t = OrgGeneration.__table__  # type: ignore[attr-defined]

# -- the write path ------------------------------------------------------------------------

#: One event for one webhook, due at once. The unique (webhook, event id) makes a
#: second enqueue of the same event a no-op rather than a second delivery.
INSERT_DELIVERY_TEXT = (
    "INSERT INTO webhook_delivery (webhook_id, event_id, event_type, plan_id, body, created_at,"
    " status, attempts, next_attempt_at, log) VALUES (:webhook_id, :event_id, :event_type,"
    " :plan_id, :body, :created_at, 'pending', 0, :created_at, '[]')"
    " ON CONFLICT (webhook_id, event_id) DO NOTHING"
)
INSERT_DELIVERY = Sql("webhook_insert_delivery", INSERT_DELIVERY_TEXT)

_DUE = (
    "SELECT id, claim FROM webhook_delivery WHERE status = 'pending' AND next_attempt_at <= :now"
    " ORDER BY next_attempt_at, id LIMIT :n"
)
#: SQLite: the UPDATE runs under the BEGIN IMMEDIATE write lock, so two senders
#: cannot pick the same row, and ``DUE_SQLITE`` just before it, under the same
#: lock, reads the very rows it will take with the claims they held (SQLite's
#: RETURNING sees only the updated table, not the old values).
DUE_SQLITE = Sql("webhook_due", _DUE)
CLAIM_SQLITE = Sql(
    "webhook_claim",
    "UPDATE webhook_delivery SET claim = :token, next_attempt_at = :lease_until"
    f" WHERE id IN (SELECT id FROM ({_DUE}))"
    " RETURNING id, webhook_id, event_id, event_type, body, attempts, log, NULL",
)
#: PostgreSQL: SKIP LOCKED hands a second sender the next rows instead of making
#: it wait for the first one's; the sub-select also returns the claim each row
#: held before (not NULL: a sender's lease ran out before it recorded an outcome).
CLAIM_POSTGRESQL = Sql(
    "webhook_claim",
    "UPDATE webhook_delivery AS d SET claim = :token, next_attempt_at = :lease_until"
    f" FROM ({_DUE} FOR UPDATE SKIP LOCKED) AS picked WHERE d.id = picked.id"
    " RETURNING d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.attempts, d.log,"
    " picked.claim",
)

#: Before each send: still ours? Then hold it for another lease.
RENEW = Sql(
    "webhook_renew",
    "UPDATE webhook_delivery SET next_attempt_at = :lease_until"
    " WHERE id = :id AND claim = :token AND status = 'pending'",
)
#: delivered | failed | cancelled: the row leaves the pending index.
FINISH = Sql(
    "webhook_finish",
    "UPDATE webhook_delivery SET status = :status, attempts = :attempts, claim = NULL,"
    " next_attempt_at = NULL, last_status_code = :code, last_error = :error,"
    " delivered_at = :delivered_at, log = :log"
    " WHERE id = :id AND claim = :token AND status = 'pending'",
)
#: Not sent after all (too little of the lease left): due again at once, no attempt counted.
UNCLAIM = Sql(
    "webhook_unclaim",
    "UPDATE webhook_delivery SET claim = NULL, next_attempt_at = :now"
    " WHERE id = :id AND claim = :token AND status = 'pending'",
)
#: Back to the queue, due again at ``next_at``.
RELEASE = Sql(
    "webhook_release",
    "UPDATE webhook_delivery SET attempts = :attempts, next_attempt_at = :next_at, claim = NULL,"
    " last_status_code = :code, last_error = :error, log = :log"
    " WHERE id = :id AND claim = :token AND status = 'pending'",
)


def hooks_query(count: int) -> Sql:
    """What the sender needs of ``count`` webhooks ``:h0``...: URL, secret, switches, kind."""
    marks = ", ".join(f":h{i}" for i in range(count))
    return Sql(
        "webhook_hooks",
        f"SELECT id, url, secret, active, allow_private, kind, language FROM webhook"
        f" WHERE id IN ({marks})",
    )


# -- administration ------------------------------------------------------------------------


@dataclass(frozen=True)
class HookRow:
    id: int
    unit_id: int
    url: str
    events: tuple[str, ...]
    active: bool
    allow_private: bool
    created_by: int | None
    created_at: datetime
    #: ``webhook`` or a group robot's vendor (``core.robots``), and the robot's language.
    kind: str = "webhook"
    language: str = "en"
    #: Set for a person's own channel (``unit_id`` is then where they have a role).
    user_id: int | None = None


_HOOK_COLUMNS = (
    hook_t.c.id,
    hook_t.c.unit_id,
    hook_t.c.url,
    hook_t.c.events,
    hook_t.c.active,
    hook_t.c.allow_private,
    hook_t.c.created_by,
    hook_t.c.created_at,
    hook_t.c.kind,
    hook_t.c.language,
    hook_t.c.user_id,
)


def _hook(r: Any) -> HookRow:
    return HookRow(
        r.id,
        r.unit_id,
        r.url,
        tuple(json.loads(r.events)),
        bool(r.active),
        bool(r.allow_private),
        r.created_by,
        r.created_at,
        r.kind,
        r.language,
        r.user_id,
    )


def _delivery(r: Any) -> WebhookDeliveryView:
    """The one spelling of a delivery for readers: the row as the library's view."""
    values = dict(r._mapping)
    values.pop("body", None)
    values.pop("claim", None)
    values["log"] = tuple(
        DeliveryAttempt(e.get("at", ""), e.get("status"), e.get("error"), e.get("ms"))
        for e in json.loads(values["log"] or "[]")
    )
    return WebhookDeliveryView(**values)


def bump_generation(conn: Connection) -> None:
    """Every process's cached webhooks (keyed by the organisation generation) are stale now."""
    conn.execute(update(generation_t).values(generation=generation_t.c.generation + 1))


def insert_hook(
    conn: Connection,
    *,
    unit_id: int,
    url: str,
    events: Sequence[str],
    secret: str,
    allow_private: bool,
    created_by: int | None,
    at: datetime,
    kind: str = "webhook",
    language: str = "en",
    user_id: int | None = None,
) -> HookRow:
    hook_id = conn.execute(
        insert(hook_t)
        .values(
            unit_id=unit_id,
            url=url,
            events=json.dumps(list(events), separators=(",", ":")),
            secret=secret,
            active=True,
            allow_private=allow_private,
            created_by=created_by,
            created_at=at,
            kind=kind,
            language=language,
            user_id=user_id,
        )
        .returning(hook_t.c.id)
    ).scalar_one()
    bump_generation(conn)
    return _hook(conn.execute(select(*_HOOK_COLUMNS).where(hook_t.c.id == hook_id)).one())


def active_hooks(conn: Connection) -> list[HookRow]:
    rows = conn.execute(select(*_HOOK_COLUMNS).where(hook_t.c.active).order_by(hook_t.c.id))
    return [_hook(r) for r in rows]


def hooks(conn: Connection, *, with_removed: bool = False) -> list[HookRow]:
    query = select(*_HOOK_COLUMNS).order_by(hook_t.c.id)
    if not with_removed:
        query = query.where(hook_t.c.active)
    return [_hook(r) for r in conn.execute(query)]


def hook(conn: Connection, hook_id: int) -> HookRow | None:
    found = conn.execute(select(*_HOOK_COLUMNS).where(hook_t.c.id == hook_id)).one_or_none()
    return None if found is None else _hook(found)


def deactivate(conn: Connection, hook_id: int) -> bool:
    """Remove a webhook: no new events; its pending deliveries are cancelled when claimed."""
    done = conn.execute(
        update(hook_t).where(hook_t.c.id == hook_id, hook_t.c.active).values(active=False)
    ).rowcount
    if done:
        bump_generation(conn)
    return bool(done)


def deliveries(
    conn: Connection, *, hook_id: int | None, failed_only: bool, limit: int
) -> list[WebhookDeliveryView]:
    query = select(delivery_t).order_by(delivery_t.c.id.desc()).limit(limit)
    if hook_id is not None:
        query = query.where(delivery_t.c.webhook_id == hook_id)
    if failed_only:
        query = query.where(delivery_t.c.status == "failed")
    return [_delivery(r) for r in conn.execute(query)]


def delivery(conn: Connection, delivery_id: int) -> WebhookDeliveryView | None:
    found = conn.execute(select(delivery_t).where(delivery_t.c.id == delivery_id)).one_or_none()
    return None if found is None else _delivery(found)


def delivery_body(conn: Connection, delivery_id: int) -> str | None:
    return conn.execute(
        select(delivery_t.c.body).where(delivery_t.c.id == delivery_id)
    ).scalar_one_or_none()


def redeliver(conn: Connection, delivery_id: int, at: datetime) -> bool:
    """Due again now, with a fresh count of attempts (the log keeps the old ones).

    A claim a sender holds is dropped: that sender's outcome no longer
    counts, and the event may be sent twice (its id lets a receiver tell).
    """
    return bool(
        conn.execute(
            update(delivery_t)
            .where(delivery_t.c.id == delivery_id)
            .values(status="pending", attempts=0, next_attempt_at=at, claim=None)
        ).rowcount
    )


# -- events that tell of no plan change (audit verification) ------------------------------

#: Every active webhook's unit and events (the JSON list).
ACTIVE_HOOK_EVENTS = Sql(
    "webhook_active_events",
    "SELECT id, unit_id, events FROM webhook WHERE active AND user_id IS NULL",
)
UNIT_PARENTS = Sql("webhook_unit_parents", "SELECT id, parent_id FROM unit")


def plan_units_query(count: int) -> Sql:
    """The unit of each of ``count`` plans ``:p0``..."""
    marks = ", ".join(f":p{i}" for i in range(count))
    return Sql("webhook_plan_units", f"SELECT id, unit_id FROM plan WHERE id IN ({marks})")
