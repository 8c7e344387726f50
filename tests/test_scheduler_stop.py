"""A scheduler that stops (SIGTERM, Ctrl-C) or fails on a database error gives back its claims.

Issue 19, item 8: the claims of a stopped scheduler used to wait for the lease
(five minutes by default) before another scheduler could take them. Now:

* the webhook sender's claims are held for ``PLANFLOW_SCHEDULER_LEASE`` like the
  timers' and the e-mails' (a lease too short for one POST is refused at start);
* a real ``planflow scheduler run-once`` process signalled while a slow receiver
  (an HTTP webhook receiver, an SMTP server) holds its answer finishes what is in
  flight, gives every other claimed delivery or e-mail back at once and exits 1;
  a second scheduler, started well inside the lease, sends the rest: each event
  and each e-mail reaches its receiver exactly once;
* an outbox or a webhook batch that fails mid-way gives back the rows it did not
  try (the one in hand, whose outcome is unknown, waits for the lease);
* a deadline processor stopped after a group releases the timers of the rest of
  its batch.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from conftest import T0, Org
from sqlalchemy import update
from sqlmodel import col, select
from test_connection_loss import kill_pinned_backend
from test_mail import Recorder, add_notification, outbox, outbox_rows, start_server
from test_scheduler import DUE_AT, under_review
from test_webhooks import submitted
from test_webhooks_delivery import register, sender
from webhook_receiver import serving

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.errors import DatabaseUnavailable, ValidationError
from planflow.integrations.mail import SmtpSettings
from planflow.integrations.webhooks import Answer, HttpTransport
from planflow.integrations.webhooks.sender_settings import POOL
from planflow.scheduling.deadline_processor import DeadlineProcessor, DeadlineReport
from planflow.scheduling.scheduler import Scheduler
from planflow.storage.tables import Plan, WebhookDelivery

STARTED = T0 + timedelta(seconds=1)
EVENTS = 12  # more than the pool's threads: some wait for one when the signal comes


# -- the settings --------------------------------------------------------------------------


def test_the_webhook_sender_holds_its_claims_for_the_scheduler_lease(
    pf: Planflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_SCHEDULER_LEASE", "60")
    scheduler = Scheduler(pf)
    assert (scheduler.webhooks.lease, scheduler.webhooks.timeout) == (timedelta(seconds=60), 10)
    # The least lease: the timeout, unless set, is the most that fits (3 x 1.6 s + 5 s).
    monkeypatch.setenv("PLANFLOW_SCHEDULER_LEASE", "10")
    scheduler = Scheduler(pf)
    assert (scheduler.webhooks.lease, scheduler.webhooks.timeout) == (timedelta(seconds=10), 1.6)
    monkeypatch.setenv("PLANFLOW_SCHEDULER_LEASE", "30")
    monkeypatch.setenv("PLANFLOW_WEBHOOK_TIMEOUT", "10")
    with pytest.raises(ValidationError, match="PLANFLOW_SCHEDULER_LEASE=30 is too short for "
                       "PLANFLOW_WEBHOOK_TIMEOUT=10"):  # fmt: skip
        Scheduler(pf)
    monkeypatch.setenv("PLANFLOW_WEBHOOK_TIMEOUT", "5")
    scheduler = Scheduler(pf)
    assert (scheduler.webhooks.lease, scheduler.webhooks.timeout) == (timedelta(seconds=30), 5)
    monkeypatch.setenv("PLANFLOW_WEBHOOK_TIMEOUT", "0.5")
    with pytest.raises(ValidationError, match=r"PLANFLOW_WEBHOOK_TIMEOUT='0\.5': give seconds"):
        Scheduler(pf)


# -- a failure mid-batch ---------------------------------------------------------------------


class Broken(HttpTransport):
    """Answers 200 (without a network) until the ``fail_at``-th POST, which raises."""

    def __init__(self, fail_at: int) -> None:
        super().__init__(timeout=5)
        self.fail_at = fail_at
        self.posts = 0

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool
    ) -> Answer:
        self.posts += 1
        if self.posts == self.fail_at:
            raise RuntimeError("the sender broke")
        return super().post(url, body, headers, allow_private=allow_private)


def test_a_webhook_batch_that_fails_gives_back_what_it_did_not_try(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    with serving() as rx:
        register(pf, rx, "plan.comment")
        plan_id = submitted(pf)
        for i in range(5):
            pf.content.add_comment(plan_id, f"Comment {i}", actor="reviewer")
        box = sender(pf, transport=Broken(fail_at=2), pool=1)
        with pytest.raises(RuntimeError, match="the sender broke"):
            box.run_once()
        rows = pf.webhooks.deliveries()  # newest first
        statuses = sorted((d.id, d.status, d.next_attempt_at) for d in rows)
        delivered, in_hand, *rest = statuses
        assert delivered[1] == "delivered"
        # The one in hand waits for its lease; the three never tried are due at once.
        assert in_hand[1:] == ("pending", clock.now() + box.lease)
        assert [r[1:] for r in rest] == [("pending", clock.now())] * 3
        report = sender(pf, pool=1).run_once()
        assert (report.delivered, report.resumed) == (3, 0)


class EndsItsConnection(HttpTransport):
    """Answers 200; the first POST also ends the sender's own database connection
    (``pg_terminate_backend``), as a restart or a failover would, so the write of its
    outcome fails."""

    def __init__(self, pf: Planflow) -> None:
        super().__init__(timeout=5)
        self.pf = pf
        self.posts = 0

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool
    ) -> Answer:
        self.posts += 1
        if self.posts == 1:
            kill_pinned_backend(self.pf)
        return super().post(url, body, headers, allow_private=allow_private)


def test_a_webhook_batch_that_loses_its_connection_gives_back_what_it_did_not_try(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    """A real database error mid-batch: the rows not yet tried are given back on a
    new connection; the one whose outcome could not be written waits for its lease
    (at-least-once: it was POSTed)."""
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no connection to end")
    with serving() as rx:
        register(pf, rx, "plan.comment")
        plan_id = submitted(pf)
        for i in range(4):
            pf.content.add_comment(plan_id, f"Comment {i}", actor="reviewer")
        box = sender(pf, transport=EndsItsConnection(pf), pool=1)
        with pytest.raises(DatabaseUnavailable):
            box.run_once()
        rows = pf.webhooks.deliveries()
        assert sorted(d.next_attempt_at for d in rows) == [clock.now()] * 3 + [
            clock.now() + box.lease
        ]
        assert all((d.status, d.attempts) == ("pending", 0) for d in rows)
        assert sender(pf, pool=1).run_once().delivered == 3
        assert len(rx.got) == 4


class BrokenMail:
    """Accepts every message until the ``fail_at``-th, which raises (not a ``SendError``)."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        if len(self.sent) + 1 == self.fail_at:
            self.fail_at = 0
            raise RuntimeError("the transport broke")
        self.sent.append(message)

    def close(self) -> None:
        pass


def test_an_e_mail_batch_that_fails_gives_back_what_it_did_not_try(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    for _ in range(5):
        add_notification(pf, "officer", "transition", "{}")
    settings = SmtpSettings(host="127.0.0.1", port=25, mail_from="pf@example.org")
    broken = BrokenMail(fail_at=2)
    box = outbox(pf, settings, transport=broken)
    with pytest.raises(RuntimeError, match="the transport broke"):
        box.run_once()
    rows = outbox_rows(pf)
    assert [r.status for r in rows].count("sent") == 1
    # The one in hand waits for its lease; the three never tried are due at once.
    [in_hand] = [r for r in rows if r.claim is not None]
    assert (in_hand.status, in_hand.next_at) == ("pending", clock.now() + box.lease)
    rest = [r for r in rows if r.status == "pending" and r.claim is None]
    assert [(r.attempts, r.next_at) for r in rest] == [(0, clock.now())] * 3
    report = outbox(pf, settings, transport=broken).run_once()
    assert report.sent == 3
    assert len(broken.sent) == 4


class StopsAfterOneGroup(DeadlineProcessor):
    """Stopped (as by a signal) once its first group of timers is applied."""

    def apply_group(self, timers: list[Any], report: DeadlineReport) -> None:
        super().apply_group(timers, report)
        self.stop()


def test_a_stopped_deadline_processor_releases_the_timers_it_did_not_apply(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plans = [under_review(pf, "ab"[n % 2]) for n in range(4)]
    clock.set(DUE_AT + timedelta(hours=1))
    report = StopsAfterOneGroup(pf.service, "stopped", group=1).run()
    assert report.applied == 1  # one plan's (late) reminder
    with pf.db.read_session() as s:
        rows = s.exec(select(Plan).where(col(Plan.id).in_(plans))).all()
        claimed = [(p.timer_claimed_by, p.timer_claimed_until) for p in rows]
    assert claimed == [(None, None)] * 4  # not one waits for the lease
    report = DeadlineProcessor(pf.service, "next").run()
    assert (report.late_reminders, report.escalated) == (3, 4)


# -- real processes, stopped by a signal -----------------------------------------------------


class Run:
    """A ``planflow scheduler run-once`` (or ``planflow scheduler``) process; its stderr
    read as it comes."""

    def __init__(
        self, database_url: str, now: datetime | None, env: Mapping[str, str] = {}
    ) -> None:
        # No moment: ``planflow scheduler`` itself, ticking on the real clock until stopped.
        once = ["run-once", "--now", now.isoformat(), "--allow-future"] if now else []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "planflow.cli",
                "--database-url",
                database_url,
                "scheduler",
                *once,
            ],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err: list[str] = []
        self.stopping = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            if "stopping" in line:
                self.stopping.set()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.stopping.wait(60), "".join(self.err)

    def result(self) -> tuple[int, str, str]:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        code = self.proc.wait(120)
        self._reader.join(10)
        self.proc.stdout.close()
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return code, out, "".join(self.err)


def until(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("forever", [False, True], ids=["run-once", "scheduler"])
def test_a_stopped_scheduler_gives_its_webhooks_to_the_next_at_once(
    pf: Planflow, org: Org, database_url: str, forever: bool
) -> None:
    with serving() as rx:
        register(pf, rx, "plan.comment")
        plan_id = submitted(pf)
        for i in range(EVENTS):
            pf.content.add_comment(plan_id, f"Comment {i}", actor="reviewer")
        due = STARTED
        if forever:  # the tests' clock runs in 2027: due on the real clock too
            due = datetime(2020, 1, 1, tzinfo=UTC)
            with pf.db.write() as conn:
                conn.execute(update(WebhookDelivery).values(next_attempt_at=due))
        rx.slow = 120  # each POST is answered only when released
        # PostgreSQL POSTs a batch with a pool of threads; SQLite one after another.
        in_flight = POOL if pf.db.is_postgres else 1
        first = Run(
            database_url, None if forever else STARTED, {"PLANFLOW_SCHEDULER_INTERVAL": "600"}
        )
        try:
            until(lambda: len(rx.got) >= in_flight, "the scheduler never POSTed")
            time.sleep(0.3)  # nothing else arrives: the rest wait for a thread or a turn
            assert len(rx.got) == in_flight
            first.stop()
        finally:
            rx.slow = 0
            rx.release.set()
        code, out, err = first.result()
        if forever:  # its ticks are logged
            assert code == 0, (out, err)
            assert "pass ends here" in err, err
            assert f"webhooks delivered: {in_flight}, " in err, err
        else:
            assert code == 1, (out, err)
            assert "stopped before the end" in out, out
            # What was in flight is answered and recorded; the rest is given back, due now.
            assert f"webhooks delivered: {in_flight}, " in out, out
        pending = [d for d in pf.webhooks.deliveries() if d.status == "pending"]
        assert len(pending) == EVENTS - in_flight
        # Given back: due at the stopped scheduler's now, not at the end of its lease.
        given_back = {d.next_attempt_at for d in pending}
        assert given_back == {STARTED} if not forever else max(given_back) < datetime.now(UTC)
        assert all(d.attempts == 0 for d in pending)

        # Another scheduler, a second later (the lease is five minutes), sends the rest.
        code, out, err = Run(database_url, STARTED + timedelta(seconds=1)).result()
        assert code == 0, (out, err)
        assert f"webhooks delivered: {EVENTS - in_flight}, " in out, out
        assert "taken over" not in out  # given back, not left to a lease
        ids = rx.event_ids()
    assert len(ids) == EVENTS and Counter(ids).most_common(1)[0][1] == 1
    rows = pf.webhooks.deliveries()
    assert [(d.status, d.attempts, len(d.log)) for d in rows] == [("delivered", 1, 1)] * EVENTS


class SlowServer(Recorder):
    """Holds each message's DATA until ``release`` is set (a server taking its time)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.slow
def test_a_stopped_scheduler_gives_its_e_mails_to_the_next_at_once(
    pf: Planflow, org: Org, database_url: str
) -> None:
    for _ in range(5):
        add_notification(pf, "officer", "transition", "{}")
    server = SlowServer()
    controller, port = start_server(server)
    env = {
        "PLANFLOW_SMTP_HOST": "127.0.0.1",
        "PLANFLOW_SMTP_PORT": str(port),
        "PLANFLOW_MAIL_FROM": "pf@example.org",
    }
    try:
        first = Run(database_url, STARTED, env)
        try:
            assert server.arrived.wait(60), "the scheduler never sent"
            first.stop()
        finally:
            server.release.set()
        code, out, err = first.result()
        assert code == 1, (out, err)
        assert "stopped before the end" in out and "e-mail sent: 1, " in out, out
        rows = outbox_rows(pf)
        assert [(r.status, r.claim) for r in rows[1:]] == [("pending", None)] * 4
        assert {r.next_at for r in rows[1:]} == {STARTED}

        code, out, err = Run(database_url, STARTED + timedelta(seconds=1), env).result()
        assert code == 0, (out, err)
        assert "e-mail sent: 4, " in out, out
    finally:
        controller.stop()
    ids = [m["Message-ID"] for _, m in server.messages]
    assert len(ids) == 5 == len(set(ids))
    assert [r.status for r in outbox_rows(pf)] == ["sent"] * 5
