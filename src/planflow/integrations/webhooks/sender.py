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
Enqueuing is exactly-once (``services.webhook_events``). A sender that claims
a row whose previous claim ran out with no outcome says so in the row's log
(``lease_expired``) and in its own log.

PostgreSQL sends a claimed batch with a bounded pool of threads
(``pool``): the claim itself is the renewal (each thread checks, on the
monotonic clock, that enough of the lease is left for one more POST and the
batch's commit, else gives the row back for the next pass), and the webhooks'
outcomes are written together in one transaction after the batch. Three
commits per delivery become two per batch. SQLite, with one writer at a time,
keeps sending one row after another with a renewal before each POST. Either
way a batch never outlives its claim, whatever the lease
(``PLANFLOW_SCHEDULER_LEASE``): a short one only means more rows given back.

``stop`` (the scheduler's SIGTERM or Ctrl-C) lets the POSTs in flight finish
and be recorded, and gives every other claimed row back at once, as does a
batch that fails on a database error (as far as the database lets it), so
another sender need not wait for the lease.

A group robot (``kind`` dingtalk, wecom or feishu) goes through the same
rows and steps; only the POST differs: its message is rendered from the
event's body in the robot's language and signed the vendor's way
(``core.robots``), and a 2xx whose JSON code is not 0 is a failure. A chat
group cannot dedupe by event id, so a robot's outcome is written the moment
its answer arrives, also in the pooled batch: a message is posted a second
time (after the lease) only if its sender dies after the vendor took it and
before that one commit (README, "Group robots").
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

from planflow.clock import Clock
from planflow.core.robots import WEBHOOK, robot_request, vendor_outcome
from planflow.core.webhooks import signature
from planflow.integrations.webhooks.outcome import (
    Claimed,
    Hook,
    Policy,
    WebhookReport,
    finish,
    note_resumed,
    record,
)
from planflow.integrations.webhooks.sender_settings import (
    BATCH,
    DEFAULT_TIMEOUT,
    POOL,
    POOLED_BATCH,
    base_url_from_env,
    shortest_lease,
)
from planflow.integrations.webhooks.transport import Answer, HttpTransport, Transport
from planflow.storage import webhook_store as ws
from planflow.storage.db import Database
from planflow.storage.db_errors import raise_if_not_initialised
from planflow.storage.tx import Tx, write_tx

log = logging.getLogger(__name__)


class WebhookSender:
    """The sender of one scheduler process (or thread); call ``run_once`` every tick.

    ``pool`` 1 sends one row after another on PostgreSQL too (as SQLite does).
    ``batch_size``: rows per claim (default ``BATCH``, or ``POOLED_BATCH`` when pooled).
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        worker_id: str | None = None,
        *,
        transport: Transport | None = None,
        batch_size: int | None = None,
        lease: timedelta = timedelta(minutes=5),
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = 10,
        backoff: timedelta = timedelta(seconds=30),
        backoff_cap: timedelta = timedelta(hours=1),
        base_url: str | None = None,
        pool: int = POOL,
    ) -> None:
        self.db = db
        #: The web UI's address, for the link in a robot's message.
        self.base_url = base_url if base_url is not None else base_url_from_env()
        self.clock = clock
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.transport = transport or HttpTransport(timeout)
        # A claim is renewed before each POST (or, pooled, checked against the
        # time left), so the lease must outlast one: connect + send + answer,
        # each bounded by the timeout, and the write of its outcome.
        if lease <= shortest_lease(timeout):
            raise ValueError(f"lease {lease} is too short for a timeout of {timeout}s")
        self.batch_size = batch_size
        self.lease = lease
        self.timeout = timeout
        self.pool = max(1, pool)
        self.policy = Policy(max_attempts, backoff, backoff_cap)
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Claim nothing more; the POSTs in flight finish, the rest of the batch is given
        back at once. Safe to call from a signal handler (it only sets a flag)."""
        self._stopping.set()

    @property
    def max_attempts(self) -> int:
        return self.policy.max_attempts

    def backoff_delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failure: backoff · 2^(attempts-1), capped."""
        return self.policy.delay(attempts)

    def run_once(self, now: datetime | None = None) -> WebhookReport:
        """Claim one batch of due deliveries and send each (or cancel it: webhook removed)."""
        report = WebhookReport()
        if self._stopping.is_set():
            return report
        at = now or self.clock.now()
        token = f"{self.worker_id[:31]}/{uuid.uuid4().hex}"
        with write_tx(self.db) as tx:
            # Taken before the claim: the lease we count on cannot be longer than the real one.
            claimed_at = time.monotonic()
            rows = self._claim(tx, token, at, report)
            if not rows:
                return report
            hooks = _load_hooks(tx, sorted({r.webhook_id for r in rows}))
            to_send: list[tuple[Claimed, Hook]] = []
            for row in rows:
                hook = hooks.get(row.webhook_id)
                if hook is None or not hook.active:
                    # Decided in the claiming transaction: no other sender sees it.
                    finish(tx, row, token, "cancelled", row.attempts, None, "webhook removed")
                    report.cancelled += 1
                else:
                    to_send.append((row, hook))
            pooled = tx.dialect != "sqlite" and self.pool > 1 and len(to_send) > 1
        if pooled:
            self._send_pooled(to_send, token, now, claimed_at, report)
        else:
            self._send_serially(to_send, token, now, report)
        return report

    def _send_serially(
        self,
        to_send: list[tuple[Claimed, Hook]],
        token: str,
        now: datetime | None,
        report: WebhookReport,
    ) -> None:
        """One after another; stopped or failed, the rows not yet tried are given back."""
        for n, (row, hook) in enumerate(to_send):
            if self._stopping.is_set():
                self._give_back([r for r, _ in to_send[n:]], token, now, report)
                return
            try:
                self._send(row, hook, token, now, report)
            except BaseException:
                # This row's outcome is unknown (it waits for the lease); the rest was not
                # tried. Given back if the database lets us: the error is raised either way.
                self._give_back([r for r, _ in to_send[n + 1 :]], token, now, report, quiet=True)
                raise

    def _give_back(
        self,
        rows: list[Claimed],
        token: str,
        now: datetime | None,
        report: WebhookReport,
        *,
        quiet: bool = False,
    ) -> None:
        """Unclaimed, due at once, no attempt counted: the next sender takes them now."""
        if not rows:
            return
        try:
            with write_tx(self.db) as tx:
                unclaim = now or self.clock.now()
                for row in rows:
                    tx.run(ws.UNCLAIM, {"now": unclaim, "id": row.id, "token": token})
        except Exception as exc:
            if not quiet:
                raise
            # The database is gone: the lease frees them later.
            log.warning("could not give back %d webhook delivery(s): %s", len(rows), exc)
            return
        report.deferred += len(rows)

    def _claim(self, tx: Tx, token: str, at: datetime, report: WebhookReport) -> list[Claimed]:
        n = self.batch_size
        if n is None:
            n = BATCH if tx.dialect == "sqlite" or self.pool == 1 else POOLED_BATCH
        params = {"token": token, "now": at, "lease_until": at + self.lease, "n": n}
        if tx.dialect == "sqlite":
            previous = {int(i): c for i, c in tx.all(ws.DUE_SQLITE, params)}
            found = tx.all(ws.CLAIM_SQLITE, params)
        else:
            previous = {}
            found = tx.all(ws.CLAIM_POSTGRESQL, params)
        rows = []
        for i, h, e, t, b, a, lg, prior in found:
            row = Claimed(int(i), int(h), e, t, b, int(a), json.loads(lg or "[]"))
            prior = prior if prior is not None else previous.get(row.id)
            if prior is not None:
                note_resumed(row, prior, at)
                report.resumed += 1
            rows.append(row)
        return rows

    def _send(
        self, row: Claimed, hook: Hook, token: str, now: datetime | None, report: WebhookReport
    ) -> None:
        at = now or self.clock.now()
        with write_tx(self.db) as tx:
            mine = tx.run(ws.RENEW, {"lease_until": at + self.lease, "id": row.id, "token": token})
        if not mine:
            log.info("webhook delivery %s: taken over by another sender, not sent here", row.id)
            report.taken_over += 1
            return
        answer = self._post(row, hook, at)
        with write_tx(self.db) as tx:
            record(tx, row, token, answer, at, self.policy, report)

    def _send_pooled(
        self,
        to_send: list[tuple[Claimed, Hook]],
        token: str,
        now: datetime | None,
        claimed_at: float,
        report: WebhookReport,
    ) -> None:
        """POST a claimed batch with up to ``pool`` threads; record robots at once, webhooks
        together at the end (one commit), so what was answered is written even if a
        thread failed."""
        # The last moment a POST may start and still end, and be recorded, inside the lease.
        last_start = claimed_at + (self.lease - shortest_lease(self.timeout)).total_seconds()
        stopping = self._stopping
        #: What the threads count themselves: the robots they recorded.
        threads_counted = WebhookReport()

        def send(row: Claimed, hook: Hook) -> tuple[Answer | None, datetime]:
            """The webhook's answer to record; None if deferred or (a robot) recorded."""
            at = now or self.clock.now()
            if stopping.is_set() or time.monotonic() > last_start:
                with counting:
                    deferred.append(row)
                return None, at
            answer = self._post(row, hook, at)
            if hook.kind == WEBHOOK:
                return answer, at
            mine = WebhookReport()
            with pooled_tx(self.db) as tx:
                record(tx, row, token, answer, at, self.policy, mine)
            with counting:
                threads_counted.add(mine)
            return None, at

        counting = threading.Lock()
        deferred: list[Claimed] = []
        with ThreadPoolExecutor(min(self.pool, len(to_send)), "webhook-send") as threads:
            futures = [threads.submit(send, row, hook) for row, hook in to_send]
        outcomes: list[tuple[Claimed, Answer, datetime]] = []
        trouble: BaseException | None = None
        for (row, _hook), future in zip(to_send, futures, strict=True):
            try:
                answer, at = future.result()
            except Exception as exc:  # raised below: the others' outcomes still count
                trouble = trouble or exc
                continue
            if answer is not None:
                outcomes.append((row, answer, at))
        if outcomes or deferred:
            with write_tx(self.db) as tx:
                for row, answer, at in outcomes:
                    record(tx, row, token, answer, at, self.policy, report)
                # Given back rather than left to the lease: the next pass takes them
                # at once, and no one mistakes them for a sender that died.
                unclaim = now or self.clock.now()
                for row in deferred:
                    tx.run(ws.UNCLAIM, {"now": unclaim, "id": row.id, "token": token})
                report.deferred += len(deferred)
        report.add(threads_counted)
        if trouble is not None:
            raise trouble

    def _post(self, row: Claimed, hook: Hook, at: datetime) -> Answer:
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


@contextmanager
def pooled_tx(db: Database) -> Iterator[Tx]:
    """A PostgreSQL write transaction on a connection borrowed from the pool and given back.

    For the pool's threads, which live for one batch: ``write_tx`` keeps a
    connection pinned to its thread for good (the transition path's speed),
    which short-lived threads would leak, one per thread.
    """
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            yield Tx(cursor, db.dialect)
            raw.commit()
        except BaseException as exc:
            raw.rollback()
            raise_if_not_initialised(exc)
            raise
        finally:
            cursor.close()
    finally:
        raw.close()


def _load_hooks(tx: Tx, ids: list[int]) -> dict[int, Hook]:
    params = {f"h{i}": v for i, v in enumerate(ids)}
    return {
        int(i): Hook(url, secret, bool(active), bool(private), kind, language)
        for i, url, secret, active, private, kind, language in tx.all(
            ws.hooks_query(len(ids)), params
        )
    }
