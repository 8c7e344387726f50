"""What a delivery attempt leaves in the outbox: delivered, failed, or due again later.

Both ways of sending (one at a time on SQLite, a pooled batch on
PostgreSQL, ``sender``) decide and write an attempt's outcome here, so the
rules are spelt once:

* a 2xx (and, for a robot, its vendor's code 0) is delivered;
* a refusal that will not change (4xx but 408/429, 3xx, a private
  address) or the last allowed attempt fails for good;
* anything else is released, due again after the backoff.

Every write checks the sender's claim token (``webhook_store``): an outcome
recorded after another sender took the row over changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from planflow.core.robots import WEBHOOK
from planflow.core.webhooks import iso_z
from planflow.integrations.webhooks.transport import Answer
from planflow.storage import webhook_store as ws
from planflow.storage.tx import Tx

log = logging.getLogger("planflow.integrations.webhooks.sender")

#: Attempts kept in a delivery's log.
LOG_ENTRIES = 20


@dataclass
class WebhookReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    #: Claimed, then found taken over by another sender before the POST.
    taken_over: int = 0
    #: Claimed, then given back unsent: too little of the lease was left for one POST.
    deferred: int = 0
    #: Claimed after another sender's lease ran out with no outcome recorded
    #: (that sender stopped mid-delivery): sent again, with the same event id.
    resumed: int = 0

    @property
    def total(self) -> int:
        return (
            self.delivered
            + self.retried
            + self.failed
            + self.cancelled
            + self.taken_over
            + self.deferred
        )

    def add(self, other: WebhookReport) -> None:
        for name in (
            "delivered",
            "retried",
            "failed",
            "cancelled",
            "taken_over",
            "deferred",
            "resumed",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Claimed:
    """A delivery row this sender holds under its token until its lease ends."""

    id: int
    webhook_id: int
    event_id: str
    event_type: str
    body: str
    attempts: int
    log: list[dict[str, Any]]


@dataclass(frozen=True)
class Hook:
    """What sending needs of a webhook or robot."""

    url: str
    secret: str
    active: bool
    allow_private: bool
    kind: str = WEBHOOK
    language: str = "en"


@dataclass(frozen=True)
class Policy:
    """How many attempts, and how long to wait after each failure."""

    max_attempts: int
    backoff: timedelta
    backoff_cap: timedelta

    def delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failure: backoff · 2^(attempts-1), capped."""
        steps = min(max(attempts - 1, 0), 30)
        return min(self.backoff * (1 << steps), self.backoff_cap)


def note_resumed(row: Claimed, previous_claim: str, at: datetime) -> None:
    """Say in the row's log that a sender stopped mid-delivery and this one resumes it.

    The stopped sender may have POSTed (and the receiver taken) the event
    before it died; the log entry tells the admin why a receiver may see the
    event twice. The token is ``<worker>/<random>``; the worker names the host
    and process.
    """
    worker = previous_claim.rsplit("/", 1)[0]
    row.log.append(
        {
            "at": iso_z(at),
            "status": None,
            "error": f"lease_expired: sender {worker} stopped mid-delivery; sent again",
            "ms": None,
        }
    )
    log.warning(
        "webhook delivery %s (event %s): the lease of sender %s ran out with no outcome;"
        " sending it again with the same event id",
        row.id,
        row.event_id,
        worker,
    )


def record(
    tx: Tx,
    row: Claimed,
    token: str,
    answer: Answer,
    at: datetime,
    policy: Policy,
    report: WebhookReport,
) -> None:
    """Write one attempt's outcome under ``token`` and count it in ``report``."""
    attempts = row.attempts + 1
    row.log.append(
        {"at": iso_z(at), "status": answer.status, "error": answer.error, "ms": answer.elapsed_ms}
    )
    if answer.delivered:
        done = finish(tx, row, token, "delivered", attempts, answer, None, at)
        report.delivered += 1
    elif not answer.retry or attempts >= policy.max_attempts:
        done = finish(tx, row, token, "failed", attempts, answer, answer.error)
        report.failed += 1
        log.error("webhook delivery %s failed for good: %s", row.id, answer.error)
    else:
        next_at = at + policy.delay(attempts)
        done = _release(tx, row, token, attempts, answer, next_at)
        report.retried += 1
        log.warning(
            "webhook delivery %s: attempt %s failed (%s); next try at %s",
            row.id,
            attempts,
            answer.error,
            next_at.isoformat(),
        )
    if not done:
        # Our lease ran out during the POST and another sender holds the row
        # (or an admin asked for a redelivery): the documented at-least-once window.
        log.warning("webhook delivery %s: sent, but its claim had expired", row.id)


def finish(
    tx: Tx,
    row: Claimed,
    token: str,
    status: str,
    attempts: int,
    answer: Answer | None,
    error: str | None,
    delivered_at: datetime | None = None,
) -> bool:
    params = {
        "status": status,
        "attempts": attempts,
        "code": answer.status if answer else None,
        "error": error[:500] if error else None,
        "delivered_at": delivered_at,
        "log": _log_text(row.log),
        "id": row.id,
        "token": token,
    }
    return bool(tx.run(ws.FINISH, params))


def _release(
    tx: Tx, row: Claimed, token: str, attempts: int, answer: Answer, next_at: datetime
) -> bool:
    params = {
        "attempts": attempts,
        "next_at": next_at,
        "code": answer.status,
        "error": answer.error,
        "log": _log_text(row.log),
        "id": row.id,
        "token": token,
    }
    return bool(tx.run(ws.RELEASE, params))


def _log_text(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries[-LOG_ENTRIES:], separators=(",", ":"))
