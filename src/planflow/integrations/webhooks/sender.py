"""The webhook outbox's sender: claim due deliveries, POST each, record the outcome.

Several scheduler processes may run ``run_once`` at the same time; they
share the ``webhook_delivery`` rows the way e-mail senders share
notifications (``integrations.mail.claims``):

1. Claim: one UPDATE takes a batch of due pending rows, writing a fresh
   token into ``claim`` and moving ``next_attempt_at`` one lease ahead
   (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: the write lock). A
   sender that dies leaves its rows to be claimed again when the lease ends.
2. Before each POST the row is renewed only if the token is still ours, so a
   sender that stalled past its lease does not send what another took over.
3. After the answer the row is finished (delivered, failed) or released for
   a retry with backoff, again only under our token.

The window no database can close is between the receiver's 2xx and step 3
committing: a sender that dies right there leaves the row to be sent again
after the lease. Delivery is therefore at-least-once; every attempt of an
event carries the same ``X-Planflow-Event-Id``, by which a receiver dedupes.
Enqueuing is exactly-once (``services.webhook_events``).

A group robot (``kind`` dingtalk, wecom or feishu) goes through the same
rows and steps; only the POST differs: its message is rendered from the
event's body in the robot's language and signed the vendor's way
(``core.robots``), and a 2xx whose JSON code is not 0 is a failure.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from planflow.clock import Clock
from planflow.core.robots import WEBHOOK, robot_request, vendor_outcome
from planflow.core.webhooks import iso_z, signature
from planflow.integrations.webhooks.transport import Answer, HttpTransport, Transport
from planflow.storage import webhook_store as ws
from planflow.storage.db import Database
from planflow.storage.tx import Tx, write_tx

log = logging.getLogger(__name__)

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

    @property
    def total(self) -> int:
        return self.delivered + self.retried + self.failed + self.cancelled + self.taken_over

    def add(self, other: WebhookReport) -> None:
        for name in ("delivered", "retried", "failed", "cancelled", "taken_over"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Claimed:
    id: int
    webhook_id: int
    event_id: str
    event_type: str
    body: str
    attempts: int
    log: list[dict[str, Any]]


@dataclass(frozen=True)
class _Hook:
    url: str
    secret: str
    active: bool
    allow_private: bool
    kind: str = WEBHOOK
    language: str = "en"


def base_url_from_env() -> str | None:
    """Where robot messages link to: ``PLANFLOW_BASE_URL`` (else the mail's base URL)."""
    found = os.environ.get("PLANFLOW_BASE_URL") or os.environ.get("PLANFLOW_MAIL_BASE_URL")
    if found and found.startswith(("http://", "https://")):
        return found.rstrip("/")
    return None


class WebhookSender:
    """The sender of one scheduler process (or thread); call ``run_once`` every tick."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        worker_id: str | None = None,
        *,
        transport: Transport | None = None,
        batch_size: int = 20,
        lease: timedelta = timedelta(minutes=5),
        timeout: float = 10.0,
        max_attempts: int = 10,
        backoff: timedelta = timedelta(seconds=30),
        backoff_cap: timedelta = timedelta(hours=1),
        base_url: str | None = None,
    ) -> None:
        self.db = db
        #: The web UI's address, for the link in a robot's message.
        self.base_url = base_url if base_url is not None else base_url_from_env()
        self.clock = clock
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.transport = transport or HttpTransport(timeout)
        # A claim is renewed before each POST, so the lease must outlast one
        # (connect + send + answer, each bounded by the timeout).
        if lease <= timedelta(seconds=3 * timeout):
            raise ValueError(f"lease {lease} is too short for a timeout of {timeout}s")
        self.batch_size = batch_size
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap

    def run_once(self, now: datetime | None = None) -> WebhookReport:
        """Claim one batch of due deliveries and send each (or cancel it: webhook removed)."""
        report = WebhookReport()
        at = now or self.clock.now()
        token = f"{self.worker_id[:31]}/{uuid.uuid4().hex}"
        with write_tx(self.db) as tx:
            claim = ws.CLAIM_SQLITE if tx.dialect == "sqlite" else ws.CLAIM_POSTGRESQL
            params = {
                "token": token,
                "now": at,
                "lease_until": at + self.lease,
                "n": self.batch_size,
            }
            rows = [
                _Claimed(int(i), int(h), e, t, b, int(a), json.loads(lg or "[]"))
                for i, h, e, t, b, a, lg in tx.all(claim, params)
            ]
            if not rows:
                return report
            hooks = _load_hooks(tx, sorted({r.webhook_id for r in rows}))
            to_send: list[tuple[_Claimed, _Hook]] = []
            for row in rows:
                hook = hooks.get(row.webhook_id)
                if hook is None or not hook.active:
                    # Decided in the claiming transaction: no other sender sees it.
                    self._finish(tx, row, token, "cancelled", row.attempts, None, "webhook removed")
                    report.cancelled += 1
                else:
                    to_send.append((row, hook))
        for row, hook in to_send:
            self._send(row, hook, token, now, report)
        return report

    def _send(
        self, row: _Claimed, hook: _Hook, token: str, now: datetime | None, report: WebhookReport
    ) -> None:
        at = now or self.clock.now()
        with write_tx(self.db) as tx:
            mine = tx.run(ws.RENEW, {"lease_until": at + self.lease, "id": row.id, "token": token})
        if not mine:
            log.info("webhook delivery %s: taken over by another sender, not sent here", row.id)
            report.taken_over += 1
            return
        answer = self._post(row, hook, at)
        attempts = row.attempts + 1
        entry = {"at": iso_z(at), "status": answer.status, "error": answer.error}
        entry["ms"] = answer.elapsed_ms
        row.log.append(entry)
        with write_tx(self.db) as tx:
            if answer.delivered:
                done = self._finish(tx, row, token, "delivered", attempts, answer, None, at)
                report.delivered += 1
            elif not answer.retry or attempts >= self.max_attempts:
                done = self._finish(tx, row, token, "failed", attempts, answer, answer.error)
                report.failed += 1
                log.error("webhook delivery %s failed for good: %s", row.id, answer.error)
            else:
                next_at = at + self.backoff_delay(attempts)
                done = self._release(tx, row, token, attempts, answer, next_at)
                report.retried += 1
                log.warning(
                    "webhook delivery %s: attempt %s failed (%s); next try at %s",
                    row.id,
                    attempts,
                    answer.error,
                    next_at.isoformat(),
                )
        if not done:
            # Our lease ran out during the POST and another sender holds the row:
            # the documented at-least-once window.
            log.warning("webhook delivery %s: sent, but its claim had expired", row.id)

    def _post(self, row: _Claimed, hook: _Hook, at: datetime) -> Answer:
        """One attempt: planflow's signed JSON, or the robot's vendor message."""
        if hook.kind != WEBHOOK:
            req = robot_request(
                hook.kind, hook.url, hook.secret, row.body, hook.language, self.base_url, at
            )
            answer = self.transport.post(
                req.url, req.body, req.headers, allow_private=hook.allow_private
            )
            if not answer.delivered:
                return answer
            sent, error, retry = vendor_outcome(answer.body)
            return answer if sent else replace(answer, error=error, retry=retry, refused=True)
        body = row.body.encode("utf-8")
        timestamp = str(int(at.timestamp()))
        headers = {
            "X-Planflow-Event-Id": row.event_id,
            "X-Planflow-Event": row.event_type,
            "X-Planflow-Timestamp": timestamp,
            "X-Planflow-Signature": signature(hook.secret, timestamp, body),
        }
        return self.transport.post(hook.url, body, headers, allow_private=hook.allow_private)

    def _finish(
        self,
        tx: Tx,
        row: _Claimed,
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
        self, tx: Tx, row: _Claimed, token: str, attempts: int, answer: Answer, next_at: datetime
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

    def backoff_delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failure: backoff · 2^(attempts-1), capped."""
        steps = min(max(attempts - 1, 0), 30)
        return min(self.backoff * (1 << steps), self.backoff_cap)


def _load_hooks(tx: Tx, ids: list[int]) -> dict[int, _Hook]:
    params = {f"h{i}": v for i, v in enumerate(ids)}
    return {
        int(i): _Hook(url, secret, bool(active), bool(private), kind, language)
        for i, url, secret, active, private, kind, language in tx.all(
            ws.hooks_query(len(ids)), params
        )
    }


def _log_text(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries[-LOG_ENTRIES:], separators=(",", ":"))
