"""The e-mail outbox: notification rows in, one e-mail each out, safely.

Owns the life of a notification's e-mail (``email_status``): ``pending`` →
``sent`` | ``skipped`` | ``failed`` | ``digest`` (→ ``sent`` with the daily
digest, see ``digest``): which rows are sent, skipped or left to the digest,
the message each gets, and what a failure leads to. Several scheduler
processes may run ``run_once`` at the same time; how they share the rows
(claim, renew, finish, under a token and a lease) and why delivery is
at-least-once is ``planflow.integrations.mail.claims``.

Once the server accepted a message, marking it sent waits out a short database
outage (``_mark_sent``) instead of leaving the row to be sent again.

``stop`` (the scheduler's SIGTERM or Ctrl-C) lets the e-mail in hand go out
and be marked, and gives the rest of the batch back at once, as does a batch
that fails on a database error (as far as the database lets it): another
sender need not wait for the lease.

Failures: a 4xx (or a lost connection) retries with exponential backoff
(1, 2, 4 ... minutes, capped at an hour) up to ``max_attempts``; a 5xx
refusal of the recipient or message fails at once; a server that cannot be
reached stops the batch and puts the rest back untouched.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import datetime, timedelta
from email.message import EmailMessage

from planflow.clock import Clock
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.integrations.mail import digest
from planflow.integrations.mail.claims import (
    ClaimedRow,
    claim_batch,
    finish,
    new_token,
    release,
    renew,
)
from planflow.integrations.mail.labels import RegistryLabels
from planflow.integrations.mail.messages import MailContext, compose, render
from planflow.integrations.mail.recipients import (
    Recipient,
    actor_of,
    domain_of,
    load_users,
    log,
    route,
)
from planflow.integrations.mail.report import OutboxReport
from planflow.integrations.mail.settings import SmtpSettings
from planflow.integrations.mail.transport import MailTransport, SendError, SmtpTransport
from planflow.storage.db import Database
from planflow.storage.db_errors import unavailable
from planflow.storage.tx import write_tx

#: Seconds at most that a sent e-mail's mark waits for the database to come back.
MARK_SENT_PATIENCE = 60.0
NOT_CONFIGURED = "SMTP is not configured (PLANFLOW_SMTP_HOST); e-mail stays in the outbox"


class Outbox:
    """The sender of one scheduler process (or thread).

    ``run_once`` handles one batch (``batch_size`` rows) and ``send_digests``
    the digests that are due; call both every minute or so, from any number
    of processes. One instance per thread: its transport holds one SMTP
    connection. ``settings=None`` (see ``SmtpSettings.from_env``) makes both
    do nothing but log, once, that e-mail is not configured.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: SmtpSettings | None,
        registry: DefinitionRegistry,
        worker_id: str | None = None,
        *,
        transport: MailTransport | None = None,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=5),
        max_attempts: int = 8,
        backoff: timedelta = timedelta(minutes=1),
        backoff_cap: timedelta = timedelta(hours=1),
        digest_limit: int = 100,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.labels = RegistryLabels(registry)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        if transport is None and settings is not None:
            transport = SmtpTransport(settings)
        self.transport = transport
        self.batch_size = batch_size
        # A claim is renewed before each send, so the lease must outlast one
        # SMTP exchange (connect + send, each bounded by the timeout) or a
        # slow send would let a second sender take the row meanwhile.
        if settings is not None and lease <= timedelta(seconds=3 * settings.timeout):
            raise ValueError(
                f"lease {lease} is too short for an SMTP timeout of {settings.timeout}s"
            )
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.digest_limit = digest_limit
        self._warned = False
        self._warn_lock = threading.Lock()
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Claim nothing more; the e-mail in hand is finished, the rest of its batch given
        back at once. Safe to call from a signal handler (it only sets a flag)."""
        self._stopping.set()

    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- immediate e-mails ------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> OutboxReport:
        """Claim one batch of due rows and send, skip or set aside each of them."""
        report = OutboxReport()
        if not self.configured() or self.stopping():
            return report
        at = now or self.clock.now()
        token = new_token(self.worker_id)
        with write_tx(self.db) as tx:
            rows = claim_batch(tx, token, now=at, lease_until=at + self.lease, n=self.batch_size)
            if not rows:
                return report
            wanted = {r.user_id for r in rows} | {a for r in rows if (a := actor_of(r.payload))}
            users = load_users(tx, wanted)
            to_send: list[tuple[ClaimedRow, Recipient]] = []
            for row in rows:
                where = route(users.get(row.user_id), f"notification {row.id}")
                if where == "send":
                    to_send.append((row, users[row.user_id]))
                    continue
                # Decided in the claiming transaction: no other sender can see these.
                status = "skipped" if where == "skipped" else "digest"
                finish(tx, row, token, status, row.attempts)
                if where == "skipped":
                    report.skipped += 1
                else:
                    report.digested += 1
        try:
            for n, (row, user) in enumerate(to_send):
                if self.stopping():
                    self._give_back(to_send[n:], token, now, report)
                    break
                try:
                    delivered = self._deliver(row, user, users, token, now, report)
                except BaseException:
                    # This row's outcome may be unknown (it waits for the lease); the rest
                    # was not tried: given back if the database lets us, raised either way.
                    self._give_back(to_send[n + 1 :], token, now, report, quiet=True)
                    raise
                if not delivered:
                    self._put_back(to_send[n + 1 :], token, now, report)
                    break
        finally:
            self._transport().close()
        return report

    def _deliver(
        self,
        row: ClaimedRow,
        user: Recipient,
        users: dict[int, Recipient],
        token: str,
        now: datetime | None,
        report: OutboxReport,
    ) -> bool:
        """Send one; False when the server is unusable and the batch should stop."""
        at = now or self.clock.now()
        with write_tx(self.db) as tx:
            mine = renew(tx, row, token, at + self.lease)
        if not mine:
            log.info("notification %s: taken over by another sender, not sent here", row.id)
            return True
        attempts = row.attempts + 1
        try:
            message = self._message(row, user, users, at)
        except Exception as exc:  # one that cannot be built never will be: no retries
            error = SendError(f"cannot build the e-mail: {exc!r}", permanent=True)
            self._failed(row, token, attempts, error, at, report)
            return True
        held_until = time.monotonic() + self.lease.total_seconds()
        try:
            self._transport().send(message)
        except SendError as exc:
            self._failed(row, token, attempts, exc, at, report)
            return not exc.unavailable
        self._mark_sent(row, token, attempts, held_until)
        report.sent += 1
        return True

    def _mark_sent(self, row: ClaimedRow, token: str, attempts: int, held_until: float) -> None:
        """The server accepted the message: mark the row sent, again and again while the
        database is away (a lost connection, a restart), for as long as our claim holds
        (at most ``MARK_SENT_PATIENCE``). Given up on, the row is claimed again once the
        lease is over and the e-mail goes out a second time, with the same Message-ID."""
        deadline = min(held_until - 1.0, time.monotonic() + MARK_SENT_PATIENCE)
        delay, tries = 0.1, 0
        while True:
            tries += 1
            try:
                with write_tx(self.db) as tx:
                    marked = finish(tx, row, token, "sent", attempts)
                break
            except Exception as exc:
                if unavailable(exc) is None or time.monotonic() + delay >= deadline:
                    raise
                log.warning(
                    "notification %s: sent, but the database is unavailable to mark it so "
                    "(%s); trying again",
                    row.id,
                    exc,
                )
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        if not marked:
            if tries > 1:
                # The COMMIT of an earlier try went through before its connection died.
                log.info("notification %s: marked sent by an earlier try", row.id)
            else:
                # Our lease ran out during the send and someone else holds
                # the row now: the documented at-least-once window.
                log.warning("notification %s: sent, but its claim had expired", row.id)

    def _message(
        self, row: ClaimedRow, user: Recipient, users: dict[int, Recipient], at: datetime
    ) -> EmailMessage:
        settings = self._settings()
        actor = users.get(actor_of(row.payload) or -1)
        rendered = render(
            row.kind,
            row.payload,
            self.context(user),
            plan_id=row.plan_id,
            actor_name=actor.name if actor else None,
        )
        address = user.address
        assert address is not None, "route() sends only to valid addresses"
        return compose(
            rendered,
            sender=settings.mail_from,
            to=address,
            language=user.language,
            message_id=f"<planflow.notification.{row.id}@{domain_of(settings.mail_from)}>",
            at=at,
        )

    def _failed(
        self,
        row: ClaimedRow,
        token: str,
        attempts: int,
        exc: SendError,
        at: datetime,
        report: OutboxReport,
    ) -> None:
        with write_tx(self.db) as tx:
            if exc.permanent or attempts >= self.max_attempts:
                finish(tx, row, token, "failed", attempts)
                report.failed += 1
                log.error("notification %s: e-mail failed for good (%s)", row.id, exc)
                return
            next_at = at + self.backoff_delay(attempts)
            release(tx, row, token, attempts, next_at)
            report.retried += 1
            log.warning(
                "notification %s: e-mail attempt %s failed (%s); next try at %s",
                row.id,
                attempts,
                exc,
                next_at.isoformat(),
            )

    def _put_back(
        self,
        rest: list[tuple[ClaimedRow, Recipient]],
        token: str,
        now: datetime | None,
        report: OutboxReport,
    ) -> None:
        """Untried rows of a batch whose server is down: due again after one backoff step."""
        if not rest:
            return
        next_at = (now or self.clock.now()) + self.backoff
        with write_tx(self.db) as tx:
            for row, _ in rest:
                release(tx, row, token, row.attempts, next_at)
        report.deferred += len(rest)

    def _give_back(
        self,
        rest: list[tuple[ClaimedRow, Recipient]],
        token: str,
        now: datetime | None,
        report: OutboxReport,
        *,
        quiet: bool = False,
    ) -> None:
        """Untried rows of a batch that stops (or failed): due again at once, no attempt
        counted. ``quiet``: a database that refuses is logged, not raised (the lease then
        frees them)."""
        if not rest:
            return
        due = now or self.clock.now()
        try:
            with write_tx(self.db) as tx:
                for row, _ in rest:
                    release(tx, row, token, row.attempts, due)
        except Exception as exc:
            if not quiet:
                raise
            log.warning("could not give back %d claimed e-mail(s): %s", len(rest), exc)
            return
        report.deferred += len(rest)

    def backoff_delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failure: backoff · 2^(attempts-1), capped."""
        steps = min(max(attempts - 1, 0), 30)  # 2**30 minutes is past any cap
        return min(self.backoff * (1 << steps), self.backoff_cap)

    # -- daily digest ---------------------------------------------------------------------

    def send_digests(self, now: datetime | None = None) -> OutboxReport:
        """One digest e-mail per user and local day; see ``planflow.integrations.mail.digest``."""
        if not self.configured():
            return OutboxReport()
        return digest.send_digests(self, now or self.clock.now())

    # -- shared ---------------------------------------------------------------------------

    def configured(self) -> bool:
        """False without SMTP settings, saying so in the log once per instance."""
        if self.settings is not None:
            return True
        with self._warn_lock:
            if not self._warned:
                self._warned = True
                log.warning(NOT_CONFIGURED)
        return False

    def context(self, user: Recipient) -> MailContext:
        settings = self._settings()
        return MailContext(
            language=user.language,
            labels=self.labels,
            base_url=settings.base_url,
            timezone=settings.timezone,
            recipient_name=user.name,
        )

    def _settings(self) -> SmtpSettings:
        assert self.settings is not None, "checked by configured()"
        return self.settings

    def _transport(self) -> MailTransport:
        assert self.transport is not None, "built with the settings"
        return self.transport
