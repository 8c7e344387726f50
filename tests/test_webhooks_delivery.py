"""Webhook delivery against a real HTTP receiver (``webhook_receiver``), on both databases.

The receiver checks every signature as the README says a receiver should.
Covered: one state change, one delivery, a valid signature; 500 then 200
with the backoff honoured on the test clock; 4xx fails at once, 429 and 5xx
retry up to the last attempt; two senders at once send each event once; a
sender that dies after the POST leaves the row to be sent again after its
lease, with the same event id; a host that resolves to a private address at
delivery time is not connected to; a removed webhook's deliveries are
cancelled; the scheduler's tick delivers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Org
from sqlmodel import col, select
from test_webhooks import submitted
from webhook_receiver import Receiver, serving

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.integrations.webhooks import Answer, HttpTransport, WebhookReport, WebhookSender
from planflow.scheduling.scheduler import Scheduler
from planflow.storage.db import Database
from planflow.storage.tables import WebhookDelivery
from planflow.views import WebhookDeliveryView

T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as found:
        yield found


def register(pf: Planflow, rx: Receiver, *events: str, unit: str = "union") -> int:
    new = pf.webhooks.add(unit, rx.url, events or ("plan.state_changed",), allow_private=True)
    rx.secret = new.secret
    return new.webhook.id


def sender(pf: Planflow, db: Database | None = None, **kwargs: object) -> WebhookSender:
    return WebhookSender(db or pf.db, pf.clock, "test-sender", **kwargs)  # type: ignore[arg-type]


def only(pf: Planflow) -> WebhookDeliveryView:
    [d] = pf.webhooks.deliveries()
    return d


def test_a_state_change_is_delivered_once_with_a_valid_signature(
    pf: Planflow, org: Org, receiver: Receiver
) -> None:
    register(pf, receiver)
    plan_id = submitted(pf)
    report = sender(pf).run_once()
    assert (report.delivered, report.total) == (1, 1)
    [got] = receiver.got
    assert got.signature_valid
    assert got.timestamp == str(int(T0.timestamp()))
    assert got.event_type == got.body["type"] == "plan.state_changed"
    assert got.event_id == got.body["id"]
    assert got.body["plan"]["id"] == plan_id
    assert (got.body["from_state"], got.body["to_state"]) == ("draft", "submitted")
    assert sender(pf).run_once().total == 0  # nothing is sent twice
    d = only(pf)
    assert (d.status, d.attempts, d.last_status_code, d.event_id) == (
        "delivered",
        1,
        200,
        got.event_id,
    )
    assert d.delivered_at == T0
    assert [a.status for a in d.log] == [200]
    # The check can fail: a receiver with another secret refuses the same event.
    receiver.secret = "whsec_someone-else"
    pf.webhooks.redeliver(d.id)
    assert sender(pf).run_once().delivered == 1
    assert [r.signature_valid for r in receiver.got] == [True, False]


def test_500_then_200_retries_after_the_backoff(
    pf: Planflow, org: Org, receiver: Receiver, clock: FixedClock
) -> None:
    register(pf, receiver)
    submitted(pf)
    receiver.answers = [500]
    box = sender(pf, backoff=timedelta(seconds=30))
    assert box.run_once().retried == 1
    d = only(pf)
    assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, 500)
    assert d.next_attempt_at == T0 + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    assert box.run_once().total == 0  # not due yet
    clock.advance(timedelta(seconds=1))
    assert box.run_once().delivered == 1
    assert [r.status for r in receiver.got] == [500, 200]
    assert all(r.signature_valid for r in receiver.got)
    assert len(set(receiver.event_ids())) == 1  # the same event, the same id
    d = only(pf)
    assert (d.status, d.attempts, d.last_status_code) == ("delivered", 2, 200)
    assert [a.status for a in d.log] == [500, 200]


def test_backoff_doubles_and_the_last_attempt_fails_for_good(
    pf: Planflow, org: Org, receiver: Receiver, clock: FixedClock
) -> None:
    register(pf, receiver)
    submitted(pf)
    receiver.answers = [503, 429, 502, 503]
    box = sender(pf, max_attempts=3, backoff=timedelta(minutes=1))
    assert box.backoff_delay(1) == timedelta(minutes=1)
    assert box.backoff_delay(2) == timedelta(minutes=2)
    assert box.backoff_delay(30) == timedelta(hours=1)  # the cap
    assert box.run_once().retried == 1
    clock.advance(timedelta(minutes=1))
    assert box.run_once().retried == 1
    clock.advance(timedelta(minutes=2))
    assert box.run_once().failed == 1
    clock.advance(timedelta(hours=2))
    assert box.run_once().total == 0
    d = only(pf)
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 3, 502)
    assert [x.id for x in pf.webhooks.deliveries(failed=True)] == [d.id]


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_a_refusal_fails_at_once(pf: Planflow, org: Org, receiver: Receiver, status: int) -> None:
    register(pf, receiver)
    submitted(pf)
    receiver.answers = [status]
    assert sender(pf).run_once().failed == 1
    d = only(pf)
    assert (d.status, d.attempts, d.last_status_code, d.last_error) == (
        "failed",
        1,
        status,
        f"HTTP {status}",
    )


def test_redelivery_sends_the_same_event_again(pf: Planflow, org: Org, receiver: Receiver) -> None:
    register(pf, receiver)
    submitted(pf)
    receiver.answers = [404]
    sender(pf).run_once()
    again = pf.webhooks.redeliver(only(pf).id)
    assert (again.status, again.attempts) == ("pending", 0)
    assert sender(pf).run_once().delivered == 1
    assert [r.status for r in receiver.got] == [404, 200]
    assert len(set(receiver.event_ids())) == 1
    assert [a.status for a in only(pf).log] == [404, 200]


class Meeting(HttpTransport):
    """Holds each sender's first POST until the other sender has claimed rows too.

    Forces the interleaving under test (both hold claims at once) instead of
    hoping the thread scheduler produces it.
    """

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__(timeout=5)
        self.barrier = barrier
        self.first = True
        self.lock = threading.Lock()

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool
    ) -> Answer:
        with self.lock:  # a PostgreSQL sender POSTs from several threads
            first, self.first = self.first, False
        if first:
            self.barrier.wait(30)
        return super().post(url, body, headers, allow_private=allow_private)


@pytest.fixture
def second_db(database_url: str) -> Iterator[Database]:
    """Another connection pool on the same database: a second scheduler process."""
    db = Database(database_url)
    yield db
    db.dispose()


def until_idle(box: WebhookSender) -> WebhookReport:
    total = WebhookReport()
    while (batch := box.run_once()).total:
        total.add(batch)
    return total


def in_threads(*jobs: Callable[[], WebhookReport]) -> list[WebhookReport]:
    results: list[WebhookReport | BaseException | None] = [None] * len(jobs)

    def run(n: int) -> None:
        try:
            results[n] = jobs[n]()
        except BaseException as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [r for r in results if isinstance(r, WebhookReport)]


def test_two_senders_at_once_send_each_event_once(
    pf: Planflow, org: Org, receiver: Receiver, second_db: Database
) -> None:
    register(pf, receiver, "plan.comment")
    plan_id = submitted(pf)
    for n in range(24):
        pf.content.add_comment(plan_id, f"Comment {n}", actor="reviewer")
    meet = threading.Barrier(2)
    one = sender(pf, batch_size=4, transport=Meeting(meet))
    two = WebhookSender(second_db, pf.clock, "other", batch_size=4, transport=Meeting(meet))
    reports = in_threads(lambda: until_idle(one), lambda: until_idle(two))
    assert all(r.delivered > 0 for r in reports), reports
    assert sum(r.delivered for r in reports) == 24
    ids = receiver.event_ids()
    assert len(ids) == len(set(ids)) == 24
    assert sorted(r.body["comment"] for r in receiver.got) == sorted(
        f"Comment {n}" for n in range(24)
    )
    assert all(r.signature_valid for r in receiver.got)
    assert {d.status for d in pf.webhooks.deliveries()} == {"delivered"}


class Died(BaseException):
    """The process is killed: nothing after the POST runs."""


class DiesAfterPosting(HttpTransport):
    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool
    ) -> Answer:
        super().post(url, body, headers, allow_private=allow_private)
        raise Died()


def test_a_sender_killed_mid_delivery_is_taken_over_after_its_lease(
    pf: Planflow, org: Org, receiver: Receiver, clock: FixedClock, second_db: Database
) -> None:
    register(pf, receiver)
    submitted(pf)
    lease = timedelta(minutes=5)
    with pytest.raises(Died):
        sender(pf, transport=DiesAfterPosting(), lease=lease).run_once()
    assert len(receiver.got) == 1  # the receiver got it; the sender never recorded that
    with pf.db.read_session() as s:
        [row] = s.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id))).all()
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.claim is not None and row.next_attempt_at == T0 + lease
    survivor = WebhookSender(second_db, pf.clock, "survivor", lease=lease)
    assert survivor.run_once().total == 0  # the lease still holds
    clock.advance(lease)
    assert survivor.run_once().delivered == 1
    # At least once: the receiver saw the event twice, with one id to dedupe by.
    assert len(receiver.got) == 2 and len(set(receiver.event_ids())) == 1
    assert all(r.signature_valid for r in receiver.got)
    assert only(pf).status == "delivered"


def test_a_name_that_now_resolves_to_a_private_address_is_not_connected_to(
    pf: Planflow, org: Org, receiver: Receiver
) -> None:
    """DNS rebinding: registered while public, resolving to 127.0.0.1 at delivery time."""
    pf.webhooks.service.resolve = lambda host, port: ["93.184.216.34"]
    url = f"http://hooks.example.org:{receiver.port}/hooks/planflow?source=test"
    pf.webhooks.add("union", url, ["plan.state_changed"])
    submitted(pf)
    rebinding = HttpTransport(timeout=5, resolver=lambda host, port: ["127.0.0.1"])
    assert sender(pf, transport=rebinding).run_once().failed == 1
    assert receiver.got == []
    d = only(pf)
    assert d.status == "failed" and d.last_error is not None
    assert d.last_error.startswith("webhook_url_private")


def test_a_receiver_that_is_down_is_retried(pf: Planflow, org: Org) -> None:
    down = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens there
    pf.webhooks.add("union", down, ["plan.state_changed"], allow_private=True)
    submitted(pf)
    assert sender(pf).run_once().retried == 1
    d = only(pf)
    assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, None)
    assert d.last_error is not None and "ConnectionRefused" in d.last_error


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_removed_webhooks_deliveries_are_cancelled(
    pf: Planflow, org: Org, receiver: Receiver
) -> None:
    hook = register(pf, receiver)
    submitted(pf)
    pf.webhooks.remove(hook)
    assert sender(pf).run_once().cancelled == 1
    assert receiver.got == []
    assert only(pf).status == "cancelled"


def test_the_scheduler_tick_delivers(pf: Planflow, org: Org, receiver: Receiver) -> None:
    register(pf, receiver)
    submitted(pf)
    report = Scheduler(pf, worker_id="tick").tick()
    assert report.webhooks.delivered == 1
    assert "webhooks delivered: 1" in report.describe()
    assert len(receiver.got) == 1 and receiver.got[0].signature_valid
