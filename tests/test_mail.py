"""Tests of the e-mail outbox (``planflow.integrations.mail``) against a real SMTP server.

Every test that touches the database runs on SQLite and PostgreSQL (the
``pf``/``org`` fixtures). Mail goes through an aiosmtpd server started per
test on 127.0.0.1, which records what it accepted and can be told to refuse
the next messages with a 451, a recipient with a 550, or a wrong login.
Covered: the right recipients in their language (zh/ko subjects decoded from
MIME); retry with backoff after a refusal, moving the FixedClock; giving up
after the last attempt; permanent refusals; preference off, inactive users
and bad addresses; the daily digest once per user and local day; two senders
in threads sending each mail exactly once; expired and lost claims; a server
that is down; SMTP login; no settings (pending, one log line); and
``SmtpSettings.from_env``.
"""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import create_engine, text, update
from sqlmodel import col, select

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.errors import ValidationError
from planflow.integrations.mail import (
    NOT_CONFIGURED,
    Outbox,
    OutboxReport,
    SmtpSettings,
    SmtpTransport,
)
from planflow.integrations.mail.claims import claim_batch
from planflow.scheduling.scheduler import Scheduler
from planflow.storage.db import Database, normalise_url
from planflow.storage.org_cache import bump_generation
from planflow.storage.tables import Notification, OutboxWatermark, User
from planflow.storage.tx import write_tx

T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # the fixture clock: a Monday, 08:00 UTC
FROM = "Planflow <planflow@example.org>"
BASE_URL = "https://planflow.example.org"


# -- the SMTP server ---------------------------------------------------------------------------


class Recorder:
    """An aiosmtpd handler that keeps what it accepted and refuses on request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse_next = 0
        self.refuse_recipients: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse_recipients:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return "451 4.3.0 Try again later"
            parsed = email.message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if rcpt == [address]]

    @property
    def recipients(self) -> list[str]:
        return sorted(r for rcpt, _ in self.messages for r in rcpt)


@dataclass
class Smtp:
    recorder: Recorder
    port: int

    def settings(self, **overrides: Any) -> SmtpSettings:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "mail_from": FROM,
            "base_url": BASE_URL,
            **overrides,
        }
        return SmtpSettings(**values)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(handler: Recorder, **kwargs: Any) -> tuple[Controller, int]:
    # The Controller checks its own start by connecting, which port 0 defeats;
    # take a free port and retry in the unlikely case someone grabs it first.
    for _ in range(5):
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        try:
            controller.start()
        except OSError:
            continue
        return controller, port
    raise RuntimeError("no free port for the SMTP server")


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    recorder = Recorder()
    controller, port = start_server(recorder)
    yield Smtp(recorder, port)
    controller.stop()


# -- helpers -----------------------------------------------------------------------------------


def set_user(pf: Planflow, username: str, **values: Any) -> None:
    with pf.session() as s:
        user = s.exec(select(User).where(User.username == username)).one()
        for name, value in values.items():
            setattr(user, name, value)
        s.add(user)
        if "active" in values:
            bump_generation(s)  # as every change of who is active does


def submitted_plan(pf: Planflow, title: str = "Branch A plan") -> int:
    """A plan of branch_a written and submitted by its chair: the union reviewers are
    notified (the chair's own edit tells nobody the draft is ready)."""
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title=title, actor="drafter_a", workflow="annual_plan"
    )
    items = [{"key": "i1", "text": "Recruit", "due": 1}]
    content = PlanContent.from_dict(
        {"sections": [{"key": "s1", "title": "Members", "items": items}]}, year=2027
    )
    pf.content.set_content(plan_id, content, actor="chair_a", expected_version=None)
    pf.fire(plan_id, "submit", "chair_a")
    return plan_id


def add_notification(
    pf: Planflow, username: str, kind: str, payload: str, *, at: datetime = T0
) -> int:
    """A new notification as a transition writes it (on SQLite: no due time, see
    ``storage.tables.OutboxWatermark``)."""
    with pf.session() as s:
        row = Notification(
            user_id=pf.user_id(username),
            kind=kind,
            payload=payload,
            created_at=at,
            email_next_at=None if pf.db.is_sqlite else at,
        )
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


@dataclass(frozen=True)
class Row:
    id: int
    user: int
    status: str
    attempts: int
    next_at: datetime | None
    claim: str | None


def outbox_rows(pf: Planflow) -> list[Row]:
    with pf.db.read_session() as s:
        return [
            Row(
                n.id or 0,
                n.user_id,
                n.email_status,
                n.email_attempts,
                n.email_next_at,
                n.email_claim,
            )
            for n in s.exec(select(Notification).order_by(col(Notification.id)))
        ]


def statuses(pf: Planflow) -> list[str]:
    return [r.status for r in outbox_rows(pf)]


def outbox(pf: Planflow, settings: SmtpSettings | None, **kwargs: Any) -> Outbox:
    return Outbox(pf.db, pf.clock, settings, pf.registry, worker_id="test-worker", **kwargs)


# -- immediate e-mail --------------------------------------------------------------------------


def test_mail_goes_to_the_people_to_notify_in_their_language(pf: Planflow, org, smtp) -> None:
    set_user(pf, "reviewer", language="zh", display_name="李伟")
    set_user(pf, "reviewer2", language="ko", display_name="김민준")
    plan_id = submitted_plan(pf)
    report = outbox(pf, smtp.settings()).run_once()

    assert (report.sent, report.total) == (2, 2)
    assert smtp.recorder.recipients == ["reviewer2@example.org", "reviewer@example.org"]
    (zh,) = smtp.recorder.to("reviewer@example.org")
    (ko,) = smtp.recorder.to("reviewer2@example.org")
    # The Subject header is RFC 2047-encoded on the wire; decoded, it is Chinese / Korean,
    # with the state and action names of the workflow definition.
    assert zh["Subject"] == "[planflow] 计划「Branch A plan」：提交（已提交）"
    assert ko["Subject"] == "[planflow] 계획 ‘Branch A plan’: 제출 (제출됨)"
    assert "=?utf-8?" in zh.as_string()  # really encoded, not raw UTF-8
    zh_body, ko_body = zh.get_content(), ko.get_content()
    assert "李伟，您好" in zh_body and "Chair A对计划「Branch A plan」执行了“提交”" in zh_body
    assert "状态：草稿 → 已提交" in zh_body
    assert f"{BASE_URL}/plans/{plan_id}" in zh_body
    assert "김민준 님" in ko_body and "상태: 초안 → 제출됨" in ko_body
    assert (zh["Content-Language"], ko["Content-Language"]) == ("zh", "ko")
    assert zh["To"].addresses[0].display_name == "李伟"
    assert zh["From"] == FROM
    assert [(r.status, r.attempts, r.claim) for r in outbox_rows(pf)] == [("sent", 1, None)] * 2

    # The next transition notifies only the other reviewer (the actor is left out).
    pf.fire(plan_id, "start_review", "reviewer")
    assert outbox(pf, smtp.settings()).run_once().sent == 1
    assert len(smtp.recorder.messages) == 3
    assert smtp.recorder.recipients.count("reviewer2@example.org") == 2


def test_nothing_is_sent_twice_by_later_runs(pf: Planflow, org, smtp, clock: FixedClock) -> None:
    submitted_plan(pf)
    box = outbox(pf, smtp.settings())
    assert box.run_once().sent == 2
    assert box.run_once().total == 0
    clock.advance(timedelta(days=1))
    assert box.run_once().total == 0
    assert len(smtp.recorder.messages) == 2


def test_retry_after_the_server_refused_once(pf: Planflow, org, smtp, clock: FixedClock) -> None:
    set_user(pf, "reviewer2", active=False)  # one recipient keeps the story simple
    submitted_plan(pf)
    smtp.recorder.refuse_next = 1
    box = outbox(pf, smtp.settings())

    first = box.run_once()
    assert (first.sent, first.retried) == (0, 1)
    (row,) = outbox_rows(pf)
    assert (row.status, row.attempts, row.claim) == ("pending", 1, None)
    assert row.next_at == T0 + timedelta(minutes=1)
    assert smtp.recorder.messages == []

    assert box.run_once().total == 0  # not due yet
    clock.advance(timedelta(minutes=1))
    second = box.run_once()
    assert (second.sent, second.retried) == (1, 0)
    (row,) = outbox_rows(pf)
    assert (row.status, row.attempts) == ("sent", 2)
    assert smtp.recorder.recipients == ["reviewer@example.org"]


def test_backoff_doubles_up_to_the_cap_then_the_mail_fails(
    pf: Planflow, org, smtp, clock: FixedClock
) -> None:
    add_notification(pf, "officer", "transition", '{"title": "P"}')
    smtp.recorder.refuse_next = 100
    box = outbox(
        pf, smtp.settings(), max_attempts=5, backoff_cap=timedelta(minutes=3), batch_size=10
    )
    waits = []
    for _ in range(4):
        assert box.run_once().retried == 1
        (row,) = outbox_rows(pf)
        waits.append(row.next_at - clock.now() if row.next_at else None)
        clock.set(row.next_at or T0)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 3, 3)]
    last = box.run_once()
    assert (last.failed, last.retried) == (1, 0)
    (row,) = outbox_rows(pf)
    assert (row.status, row.attempts, row.next_at) == ("failed", 5, None)
    clock.advance(timedelta(days=1))
    assert box.run_once().total == 0
    assert smtp.recorder.messages == []


def test_a_refused_recipient_fails_at_once_and_the_others_still_go(pf: Planflow, org, smtp) -> None:
    smtp.recorder.refuse_recipients.add("reviewer@example.org")
    submitted_plan(pf)
    report = outbox(pf, smtp.settings()).run_once()
    assert (report.sent, report.failed, report.retried) == (1, 1, 0)
    assert smtp.recorder.recipients == ["reviewer2@example.org"]
    by_user = {r.user: r.status for r in outbox_rows(pf)}
    assert by_user == {pf.user_id("reviewer"): "failed", pf.user_id("reviewer2"): "sent"}


def test_preference_off_inactive_and_bad_addresses_are_skipped(pf: Planflow, org, smtp) -> None:
    set_user(pf, "reviewer", email_preference="off")
    set_user(pf, "reviewer2", email="not an address")
    submitted_plan(pf)
    add_notification(pf, "officer", "transition", "{}")
    add_notification(pf, "inspector", "transition", "{}")
    set_user(pf, "officer", active=False)
    set_user(pf, "inspector", email="")
    report = outbox(pf, smtp.settings()).run_once()
    assert (report.skipped, report.total) == (4, 4)
    assert statuses(pf) == ["skipped"] * 4
    assert smtp.recorder.messages == []


def test_reminders_and_escalations_are_rendered_for_the_recipient(pf: Planflow, org, smtp) -> None:
    set_user(pf, "fed_reviewer", language="ko")
    set_user(pf, "reviewer", language="zh")
    due = "2027-01-11T08:00:00+00:00"
    add_notification(
        pf,
        "reviewer",
        "remind",
        f'{{"title": "Plan R", "workflow": "annual_plan", "state": "submitted",'
        f' "due_at": "{due}", "level": 0}}',
    )
    add_notification(
        pf,
        "fed_reviewer",
        "escalate",
        f'{{"title": "Plan E", "workflow": "annual_plan", "state": "under_review",'
        f' "due_at": "{due}", "level": 1, "unit": "fed", "unit_name": "Federation"}}',
    )
    add_notification(pf, "officer", "something_new", "not even json")
    settings = smtp.settings(timezone=ZoneInfo("Asia/Seoul"))
    assert outbox(pf, settings).run_once().sent == 3
    (remind,) = smtp.recorder.to("reviewer@example.org")
    (escalate,) = smtp.recorder.to("fed_reviewer@example.org")
    (generic,) = smtp.recorder.to("officer@example.org")
    assert (
        remind["Subject"]
        == "[planflow] 提醒：计划「Plan R」将于2027年1月11日 17:00（Asia/Seoul）到期"
    )
    assert "“已提交”状态" in remind.get_content()
    assert escalate["Subject"] == "[planflow] 기한 초과로 상위 보고됨: 계획 ‘Plan E’"
    body = escalate.get_content()
    assert "‘검토 중’ 상태" in body and "Federation (fed)" in body and "1단계" in body
    assert generic["Subject"] == "[planflow] News about “(untitled plan)”"


# -- claims and concurrency --------------------------------------------------------------------


def run_until_idle(box: Outbox) -> OutboxReport:
    total = OutboxReport()
    while True:
        report = box.run_once()
        if report.total == 0:
            return total
        total.sent += report.sent
        total.skipped += report.skipped


def in_threads(*jobs: Callable[[], OutboxReport]) -> list[OutboxReport]:
    """Run the jobs at the same moment; re-raise any failure in the test's thread."""
    barrier = threading.Barrier(len(jobs))
    results: list[OutboxReport | BaseException | None] = [None] * len(jobs)

    def run(n: int) -> None:
        try:
            barrier.wait()
            results[n] = jobs[n]()
        except BaseException as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    out = []
    for r in results:
        if isinstance(r, BaseException):
            raise r
        assert r is not None, "a sender did not finish"
        out.append(r)
    return out


@pytest.fixture
def second_db(database_url: str) -> Iterator[Database]:
    """Another connection pool on the same database: a second scheduler process."""
    db = Database(database_url)
    yield db
    db.dispose()


class Meeting(SmtpTransport):
    """Holds a sender's first send until the other sender has claimed a batch too.

    Forces the interleaving under test (both hold claims at the same time)
    instead of hoping the thread scheduler produces it.
    """

    def __init__(self, settings: SmtpSettings, barrier: threading.Barrier) -> None:
        super().__init__(settings)
        self.barrier = barrier
        self.met = False

    def send(self, message: EmailMessage) -> None:
        if not self.met:
            self.met = True
            self.barrier.wait(30)
        super().send(message)


def test_two_senders_send_each_mail_exactly_once(
    pf: Planflow, org, smtp, second_db: Database
) -> None:
    people = ["reviewer", "reviewer2", "officer", "inspector", "member1", "member2"]
    ids = [
        add_notification(pf, people[n % len(people)], "transition", f'{{"title": "Plan {n}"}}')
        for n in range(36)
    ]
    settings = smtp.settings()
    meet = threading.Barrier(2)
    one = Outbox(
        pf.db,
        pf.clock,
        settings,
        pf.registry,
        "sender-1",
        batch_size=4,
        transport=Meeting(settings, meet),
    )
    two = Outbox(
        second_db,
        pf.clock,
        settings,
        pf.registry,
        "sender-2",
        batch_size=4,
        transport=Meeting(settings, meet),
    )
    reports = in_threads(lambda: run_until_idle(one), lambda: run_until_idle(two))

    assert all(r.sent > 0 for r in reports), reports
    assert sum(r.sent for r in reports) == 36
    message_ids = [m["Message-ID"] for _, m in smtp.recorder.messages]
    assert len(message_ids) == 36
    assert sorted(message_ids) == sorted(f"<planflow.notification.{i}@example.org>" for i in ids)
    assert statuses(pf) == ["sent"] * 36


def watermark(pf: Planflow) -> int:
    with pf.db.read_session() as s:
        row = s.get(OutboxWatermark, 1)
        return row.last_id if row else 0


def test_new_rows_and_retries_are_each_claimed_once_in_batches(
    pf: Planflow, org, smtp, clock: FixedClock
) -> None:
    """New rows (after the watermark on SQLite) and rows due again share the batches."""
    first = [
        add_notification(pf, "reviewer", "transition", f'{{"title": "P{n}"}}') for n in range(5)
    ]
    smtp.recorder.refuse_next = 2  # the first two go back to the queue for a retry
    box = outbox(pf, smtp.settings(), batch_size=3)
    assert box.run_once().retried == 2
    assert watermark(pf) == (first[2] if pf.db.is_sqlite else 0)
    assert box.run_once().sent == 2  # the other new rows; the retries are not due yet
    later = add_notification(pf, "officer", "transition", '{"title": "Later"}')
    clock.advance(timedelta(minutes=2))
    assert box.run_once().sent == 3  # the new row first, then both retries
    assert box.run_once().total == 0
    assert statuses(pf) == ["sent"] * 6
    sent = [m["Message-ID"] for _, m in smtp.recorder.messages]
    assert sorted(sent) == sorted(
        f"<planflow.notification.{i}@example.org>" for i in [*first, later]
    )
    assert len(sent) == 6
    if pf.db.is_sqlite:
        assert watermark(pf) == later


def test_two_claims_at_the_same_moment_take_disjoint_rows(
    pf: Planflow, org, second_db: Database
) -> None:
    """The claim itself, with the first transaction still open.

    PostgreSQL: the second claim skips the rows the first one has locked and
    returns at once (SKIP LOCKED). SQLite: it waits for the first to commit
    (BEGIN IMMEDIATE), then finds those rows no longer due.
    """
    for n in range(8):
        add_notification(pf, "officer", "transition", f'{{"title": "{n}"}}')
    lease = T0 + timedelta(minutes=5)
    got: dict[str, list[int]] = {}
    first_holds, let_go = threading.Event(), threading.Event()

    def take(db: Database, token: str) -> list[int]:
        with write_tx(db) as tx:
            rows = [r.id for r in claim_batch(tx, token, now=T0, lease_until=lease, n=5)]
            if token == "first":
                first_holds.set()
                # Keep the transaction (and its row locks) open until told.
                assert let_go.wait(30), "the second claim never got past the first"
        return rows

    def first() -> OutboxReport:
        got["first"] = take(pf.db, "first")
        return OutboxReport()

    def second() -> OutboxReport:
        assert first_holds.wait(30)
        got["second"] = take(second_db, "second")
        if not pf.db.is_sqlite:
            assert not let_go.is_set(), "the second claim waited for the first"
        let_go.set()
        return OutboxReport()

    def referee() -> OutboxReport:
        # SQLite: the second claim cannot finish while the first holds the lock.
        assert first_holds.wait(30)
        if pf.db.is_sqlite:
            threading.Event().wait(0.3)
            assert "second" not in got
            let_go.set()
        return OutboxReport()

    in_threads(first, second, referee)
    assert len(got["first"]) == 5 and len(got["second"]) == 3
    assert not set(got["first"]) & set(got["second"])
    claims = sorted(r.claim or "" for r in outbox_rows(pf))
    assert claims == ["first"] * 5 + ["second"] * 3


def test_a_claim_of_a_dead_sender_is_taken_over_after_its_lease(
    pf: Planflow, org, smtp, clock: FixedClock
) -> None:
    note = add_notification(pf, "officer", "transition", "{}")
    with pf.session() as s:  # what a sender leaves behind when it dies mid-send
        s.execute(
            update(Notification)
            .where(col(Notification.id) == note)
            .values(email_claim="dead/123", email_next_at=T0 + timedelta(minutes=5))
        )
    box = outbox(pf, smtp.settings())
    assert box.run_once().total == 0
    clock.advance(timedelta(minutes=5))
    assert box.run_once().sent == 1
    assert smtp.recorder.recipients == ["officer@example.org"]


def test_a_sender_whose_claim_was_taken_over_does_not_mark_the_row(
    pf: Planflow, org, smtp, caplog: pytest.LogCaptureFixture
) -> None:
    note = add_notification(pf, "officer", "transition", "{}")

    class Stalling(SmtpTransport):
        """Sends, then finds that its lease ran out and another sender took the row."""

        def send(self, message: EmailMessage) -> None:
            super().send(message)
            with pf.session() as s:
                s.execute(
                    update(Notification)
                    .where(col(Notification.id) == note)
                    .values(email_claim="other/1")
                )

    settings = smtp.settings()
    outbox(pf, settings, transport=Stalling(settings)).run_once()
    (row,) = outbox_rows(pf)
    assert (row.status, row.claim) == ("pending", "other/1")  # the other sender decides
    assert "claim had expired" in caplog.text


def test_a_sent_mail_is_marked_sent_through_a_lost_database_connection(
    pf: Planflow, org, smtp, clock: FixedClock
) -> None:
    """The connection dies between the server's acceptance and the mark (a killed
    backend, a restart): the mark runs again on a new connection, so the row is not
    claimed again after the lease and the e-mail does not go out twice."""
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no connection to lose")
    add_notification(pf, "officer", "transition", "{}")
    admin = create_engine(normalise_url(pf.db.url), isolation_level="AUTOCOMMIT")

    class ThenTheBackendDies(SmtpTransport):
        def send(self, message: EmailMessage) -> None:
            super().send(message)
            pid = pf.db.pinned_connection().info.backend_pid
            with admin.connect() as conn:
                assert conn.execute(text("SELECT pg_terminate_backend(:p, 5000)"),
                                    {"p": pid}).scalar()  # fmt: skip

    settings = smtp.settings()
    box = outbox(pf, settings, transport=ThenTheBackendDies(settings))
    try:
        assert box.run_once().sent == 1
    finally:
        admin.dispose()
    assert statuses(pf) == ["sent"]
    clock.advance(timedelta(hours=1))  # long past any lease
    assert outbox(pf, settings).run_once().total == 0
    assert smtp.recorder.recipients == ["officer@example.org"]


def test_the_scheduler_holds_e_mail_for_its_lease(
    pf: Planflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed scheduler's e-mails are taken over after ``PLANFLOW_SCHEDULER_LEASE``,
    like its timers; a lease too short for one SMTP exchange is refused at start."""
    monkeypatch.setenv("PLANFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PLANFLOW_MAIL_FROM", "pf@example.org")
    monkeypatch.setenv("PLANFLOW_SCHEDULER_LEASE", "20")
    monkeypatch.setenv("PLANFLOW_SMTP_TIMEOUT", "5")
    assert Scheduler(pf).outbox.lease == timedelta(seconds=20)
    monkeypatch.setenv("PLANFLOW_SMTP_TIMEOUT", "10")
    with pytest.raises(ValidationError, match="PLANFLOW_SCHEDULER_LEASE=20 is too short for "
                       "PLANFLOW_SMTP_TIMEOUT=10"):  # fmt: skip
        Scheduler(pf)


def test_a_server_that_is_down_stops_the_batch(pf: Planflow, org, clock: FixedClock) -> None:
    for _ in range(3):
        add_notification(pf, "officer", "transition", "{}")
    down = SmtpSettings(host="127.0.0.1", port=free_port(), mail_from=FROM)
    report = outbox(pf, down).run_once()
    assert (report.retried, report.deferred, report.sent) == (1, 2, 0)
    rows = outbox_rows(pf)
    assert [(r.status, r.attempts, r.claim) for r in rows] == [
        ("pending", 1, None),
        ("pending", 0, None),
        ("pending", 0, None),
    ]
    assert {r.next_at for r in rows} == {T0 + timedelta(minutes=1)}


def test_smtp_login(pf: Planflow, org, clock: FixedClock) -> None:
    logins: list[bytes] = []

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"pf", b"s3cret")
        if ok:
            logins.append(data.login)
        # handled=False: let the server answer a refusal with its own 535.
        return AuthResult(success=ok, handled=False)

    recorder = Recorder()
    # AUTH offered without TLS (a test server has no certificate); not
    # *required*, because aiosmtpd warns about requiring it without TLS.
    controller, port = start_server(recorder, authenticator=check, auth_require_tls=False)
    try:
        add_notification(pf, "officer", "transition", "{}")
        wrong = SmtpSettings("127.0.0.1", FROM, port=port, user="pf", password="nope")
        assert outbox(pf, wrong).run_once().retried == 1  # 535: the session is refused
        assert recorder.messages == []
        clock.advance(timedelta(minutes=1))
        right = SmtpSettings("127.0.0.1", FROM, port=port, user="pf", password="s3cret")
        assert outbox(pf, right).run_once().sent == 1
        assert recorder.recipients == ["officer@example.org"]
        assert logins == [b"pf"]
    finally:
        controller.stop()


# -- daily digest ------------------------------------------------------------------------------


def test_digest_is_one_mail_per_user_per_day(pf: Planflow, org, smtp, clock: FixedClock) -> None:
    set_user(pf, "reviewer", language="zh", email_preference="digest")
    set_user(pf, "reviewer2", language="ko", email_preference="digest")
    first = submitted_plan(pf, "Plan One")
    second = submitted_plan(pf, "Plan Two")
    add_notification(pf, "officer", "transition", '{"title": "Now"}')
    box = outbox(pf, smtp.settings(digest_hour=9))

    report = box.run_once()
    assert (report.sent, report.digested) == (1, 4)
    assert smtp.recorder.recipients == ["officer@example.org"]
    assert box.send_digests().total == 0  # 08:00 is before the digest hour

    clock.set(T0.replace(hour=9))
    digests = box.send_digests()
    assert (digests.sent, digests.total) == (2, 2)
    (zh,) = smtp.recorder.to("reviewer@example.org")
    (ko,) = smtp.recorder.to("reviewer2@example.org")
    assert zh["Subject"] == "[planflow] 2027-01-04 每日汇总：共 2 条通知"
    assert ko["Subject"] == "[planflow] 2027-01-04 일일 요약: 알림 2건"
    body = zh.get_content()
    assert "计划「Plan One」" in body and "计划「Plan Two」" in body
    assert f"{BASE_URL}/plans/{first}" in body and f"{BASE_URL}/plans/{second}" in body
    assert zh["Message-ID"] == f"<planflow.digest.{pf.user_id('reviewer')}.2027-01-04@example.org>"
    assert statuses(pf) == ["sent"] * 5

    # Later the same day: a new notification waits for tomorrow's digest.
    clock.set(T0.replace(hour=15))
    submitted_plan(pf, "Plan Three")
    assert box.run_once().digested == 2
    assert box.send_digests().total == 0
    assert len(smtp.recorder.messages) == 3
    clock.set(T0.replace(hour=9) + timedelta(days=1))
    assert box.send_digests().sent == 2
    (_, zh2) = smtp.recorder.to("reviewer@example.org")
    assert "Plan Three" in zh2.get_content() and "Plan One" not in zh2.get_content()
    assert zh2["Subject"] == "[planflow] 2027-01-05 每日汇总：共 1 条通知"


def test_digest_hour_is_local_time(pf: Planflow, org, smtp, clock: FixedClock) -> None:
    set_user(pf, "officer", email_preference="digest")
    add_notification(pf, "officer", "transition", '{"title": "P"}')
    box = outbox(pf, smtp.settings(digest_hour=7, timezone=ZoneInfo("Asia/Seoul")))
    assert box.run_once().digested == 1
    clock.set(datetime(2027, 1, 4, 21, 59, tzinfo=UTC))  # 06:59 on 5 January in Seoul
    assert box.send_digests().total == 0
    clock.set(datetime(2027, 1, 4, 22, 0, tzinfo=UTC))  # 07:00 in Seoul
    assert box.send_digests().sent == 1
    (mail,) = smtp.recorder.to("officer@example.org")
    assert "2027-01-05" in mail["Subject"]


def test_two_senders_send_one_digest_per_user(pf: Planflow, org, smtp, second_db: Database) -> None:
    people = ["reviewer", "reviewer2", "officer", "inspector", "member1"]
    for name in people:
        set_user(pf, name, email_preference="digest")
        for n in range(3):
            add_notification(pf, name, "transition", f'{{"title": "{name} {n}"}}')
    settings = smtp.settings()
    meet = threading.Barrier(2)  # each holds its first digest until the other has one too
    one = Outbox(
        pf.db, pf.clock, settings, pf.registry, "sender-1", transport=Meeting(settings, meet)
    )
    two = Outbox(
        second_db, pf.clock, settings, pf.registry, "sender-2", transport=Meeting(settings, meet)
    )
    assert one.run_once().digested == 15
    reports = in_threads(one.send_digests, two.send_digests)
    assert all(r.sent > 0 for r in reports), reports
    assert sum(r.sent for r in reports) == 5
    assert smtp.recorder.recipients == sorted(f"{p}@example.org" for p in people)
    assert statuses(pf) == ["sent"] * 15
    assert one.send_digests().total == two.send_digests().total == 0


def test_a_digest_refused_for_now_is_retried_the_same_day(
    pf: Planflow, org, smtp, clock: FixedClock
) -> None:
    set_user(pf, "officer", email_preference="digest")
    add_notification(pf, "officer", "transition", '{"title": "P"}')
    box = outbox(pf, smtp.settings())
    box.run_once()
    smtp.recorder.refuse_next = 1
    assert box.send_digests().retried == 1
    assert statuses(pf) == ["digest"]
    clock.advance(timedelta(minutes=1))
    assert box.send_digests().sent == 1
    assert statuses(pf) == ["sent"]
    assert len(smtp.recorder.messages) == 1


# -- not configured ----------------------------------------------------------------------------


def test_without_settings_mail_stays_in_the_outbox_and_the_log_says_so_once(
    pf: Planflow, org, caplog: pytest.LogCaptureFixture
) -> None:
    set_user(pf, "reviewer2", email_preference="digest")
    submitted_plan(pf)
    box = outbox(pf, None)
    caplog.set_level("INFO", logger="planflow.integrations.mail")
    for _ in range(3):
        assert box.run_once().total == 0
        assert box.send_digests().total == 0
    assert statuses(pf) == ["pending", "pending"]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.getMessage() for r in warnings] == [NOT_CONFIGURED]
    assert [r.name for r in caplog.records] == ["planflow.integrations.mail"]


# -- settings ----------------------------------------------------------------------------------


def test_settings_from_env() -> None:
    assert SmtpSettings.from_env({}) is None
    assert SmtpSettings.from_env({"PLANFLOW_SMTP_HOST": " "}) is None
    plain = SmtpSettings.from_env({"PLANFLOW_SMTP_HOST": "mx", "PLANFLOW_MAIL_FROM": "a@b.org"})
    assert plain is not None
    assert (plain.port, plain.security, plain.user, plain.digest_hour) == (25, "none", None, 7)
    assert plain.timezone is UTC and plain.base_url is None
    full = SmtpSettings.from_env(
        {
            "PLANFLOW_SMTP_HOST": "smtp.example.org",
            "PLANFLOW_SMTP_SECURITY": "SSL",
            "PLANFLOW_SMTP_USER": "pf",
            "PLANFLOW_SMTP_PASSWORD": "pw",
            "PLANFLOW_MAIL_FROM": "Planflow <pf@example.org>",
            "PLANFLOW_MAIL_BASE_URL": "https://pf.example.org/",
            "PLANFLOW_DIGEST_HOUR": "18",
            "PLANFLOW_TIMEZONE": "Asia/Shanghai",
            "PLANFLOW_SMTP_TIMEOUT": "5",
        }
    )
    assert plain.timeout == 30 and full.timeout == 5
    assert full is not None
    assert (full.port, full.security, full.user, full.password) == (465, "ssl", "pf", "pw")
    assert (full.base_url, full.digest_hour, str(full.timezone)) == (
        "https://pf.example.org",
        18,
        "Asia/Shanghai",
    )
    assert "pw" not in repr(full)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PLANFLOW_SMTP_PORT", "smtp", "PLANFLOW_SMTP_PORT must be a whole number"),
        ("PLANFLOW_SMTP_PORT", "70000", "between 1 and 65535"),
        ("PLANFLOW_SMTP_SECURITY", "tls", "PLANFLOW_SMTP_SECURITY must be one of"),
        ("PLANFLOW_SMTP_USER", "pf", "must be set together"),
        ("PLANFLOW_MAIL_FROM", "", "PLANFLOW_MAIL_FROM (the sender address) is required"),
        ("PLANFLOW_MAIL_FROM", "planflow", "is not an e-mail address"),
        ("PLANFLOW_MAIL_BASE_URL", "pf.example.org", "must start with http"),
        ("PLANFLOW_DIGEST_HOUR", "24", "between 0 and 23"),
        ("PLANFLOW_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("PLANFLOW_SMTP_TIMEOUT", "0", "between 1 and 300 seconds"),
        ("PLANFLOW_SMTP_TIMEOUT", "soon", "PLANFLOW_SMTP_TIMEOUT must be a whole number"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(name: str, value: str, message: str) -> None:
    env = {"PLANFLOW_SMTP_HOST": "mx", "PLANFLOW_MAIL_FROM": "a@b.org", name: value}
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SmtpSettings.from_env(env)


def test_a_digest_chosen_through_the_library_goes_out_from_the_scheduler_once_a_day(
    pf: Planflow, org, smtp, clock: FixedClock
) -> None:
    """The whole path a user takes: the preference set by ``pf.inbox`` (as the settings
    page, the API and the command line do), the scheduler's tick sending the digest."""
    from planflow.scheduling.scheduler import Scheduler

    assert pf.inbox.set_email_preference("reviewer", "digest") == "digest"
    pf.inbox.set_email_preference("reviewer2", "off")
    submitted_plan(pf, "Plan One")
    scheduler = Scheduler(pf, worker_id="digest-test", outbox=outbox(pf, smtp.settings()))
    scheduler.tick()  # 08:00, the default digest hour is 07:00: today's digest goes now
    assert smtp.recorder.recipients == ["reviewer@example.org"]
    assert "Plan One" in smtp.recorder.to("reviewer@example.org")[0].get_content()
    clock.set(T0.replace(hour=15))
    submitted_plan(pf, "Plan Two")
    scheduler.tick()
    scheduler.tick()
    assert len(smtp.recorder.messages) == 1  # one a day, however often the tick runs
    clock.set(T0.replace(hour=7) + timedelta(days=1))
    scheduler.tick()
    scheduler.tick()
    assert len(smtp.recorder.messages) == 2
    assert "Plan Two" in smtp.recorder.to("reviewer@example.org")[1].get_content()
    assert smtp.recorder.to("reviewer2@example.org") == []  # switched off
