"""PostgreSQL's pooled delivery: batches POSTed by a bounded pool, outcomes in one commit.

PostgreSQL only (SQLite sends one after another, ``test_webhooks_delivery``).
Covered: two senders, each with its own connection pool and a pool of
threads, drain 60 events with every event sent exactly once, while both
hold claims and POST several at a time (forced, not hoped for); the pool is
bounded; a sender whose lease is nearly spent gives back what it cannot
finish in time, for the next pass, rather than POSTing it; a 500 in a pooled batch is
retried like any other; robots in a pooled batch are recorded by the thread
that posted them and no thread keeps a database connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta

import pytest
from conftest import Org
from robot_receiver import serving as robot_serving
from test_webhooks import submitted
from test_webhooks_delivery import in_threads, register, until_idle
from webhook_receiver import Receiver, serving

from planflow.app import Planflow
from planflow.integrations.webhooks import Answer, HttpTransport, WebhookSender
from planflow.storage.db import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pf: Planflow) -> Planflow:
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite sends one delivery after another")
    return pf


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as found:
        yield found


class Counting(HttpTransport):
    """Counts POSTs in flight at once; the first POST of each sender waits for the other's."""

    def __init__(self, meet: threading.Barrier | None = None, hold: float = 0.0) -> None:
        super().__init__(timeout=5)
        self.meet = meet
        self.hold = hold
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.posts = 0

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool
    ) -> Answer:
        with self.lock:
            first = self.posts == 0
            self.posts += 1
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            if first and self.meet is not None:
                self.meet.wait(30)  # both senders hold claims now
            if self.hold:
                time.sleep(self.hold)  # a receiver across a network
            return super().post(url, body, headers, allow_private=allow_private)
        finally:
            with self.lock:
                self.in_flight -= 1


def comments(pf: Planflow, rx: Receiver, n: int) -> None:
    register(pf, rx, "plan.comment")
    plan_id = submitted(pf)
    for i in range(n):
        pf.content.add_comment(plan_id, f"Comment {i}", actor="reviewer")


def test_two_pooled_senders_send_each_event_exactly_once(
    pg: Planflow, org: Org, receiver: Receiver, database_url: str
) -> None:
    comments(pg, receiver, 60)
    meet = threading.Barrier(2)
    one_posts, two_posts = Counting(meet, hold=0.02), Counting(meet, hold=0.02)
    other_db = Database(database_url)
    try:
        one = WebhookSender(pg.db, pg.clock, "one", batch_size=10, pool=4, transport=one_posts)
        two = WebhookSender(other_db, pg.clock, "two", batch_size=10, pool=4, transport=two_posts)
        reports = in_threads(lambda: until_idle(one), lambda: until_idle(two))
    finally:
        other_db.dispose()
    assert all(r.delivered > 0 for r in reports), reports
    assert sum(r.delivered for r in reports) == 60
    ids = receiver.event_ids()
    assert len(ids) == len(set(ids)) == 60
    assert sorted(r.body["comment"] for r in receiver.got) == sorted(
        f"Comment {i}" for i in range(60)
    )
    assert all(r.signature_valid for r in receiver.got)
    # Pooled, and bounded: several POSTs at once per sender, never more than its pool.
    assert 1 < one_posts.most <= 4 and 1 < two_posts.most <= 4
    assert {d.status for d in pg.webhooks.deliveries()} == {"delivered"}
    assert {len(d.log) for d in pg.webhooks.deliveries()} == {1}


def test_what_the_lease_cannot_cover_is_left_for_the_next_pass(
    pg: Planflow, org: Org, receiver: Receiver
) -> None:
    """Lease 36 s, timeout 10 s: a POST may start only in the claim's first second (three
    timeouts for the POST, five seconds to record its outcome)."""
    comments(pg, receiver, 6)
    slow = Counting(hold=1.5)
    box = WebhookSender(
        pg.db,
        pg.clock,
        "slow",
        batch_size=6,
        pool=2,
        transport=slow,
        timeout=10,
        lease=timedelta(seconds=36),
    )
    report = box.run_once()
    assert (report.delivered, report.deferred) == (2, 4)
    assert len(receiver.got) == 2
    pending = [d for d in pg.webhooks.deliveries() if d.status == "pending"]
    assert len(pending) == 4 and all(d.attempts == 0 and d.log == () for d in pending)
    # Given back, not left to the lease: due at once, and no "lease_expired" in their log.
    assert all(d.next_attempt_at == pg.clock.now() for d in pending)
    slow.hold = 0
    report = until_idle(box)
    assert (report.delivered, report.resumed) == (4, 0)
    assert len(set(receiver.event_ids())) == 6 == len(receiver.got)
    assert {len(d.log) for d in pg.webhooks.deliveries()} == {1}


def test_a_500_in_a_pooled_batch_is_retried(pg: Planflow, org: Org, receiver: Receiver) -> None:
    comments(pg, receiver, 5)
    receiver.answers = [500]
    report = WebhookSender(pg.db, pg.clock, "p", pool=4).run_once()
    assert (report.delivered, report.retried) == (4, 1)
    [retried] = [d for d in pg.webhooks.deliveries() if d.status == "pending"]
    assert (retried.attempts, retried.last_status_code) == (1, 500)
    assert retried.next_attempt_at == pg.clock.now() + timedelta(seconds=30)


def test_pooled_robots_are_recorded_each_at_once_and_leak_no_connection(
    pg: Planflow, org: Org
) -> None:
    """A robot's outcome is written by the thread that posted it (a chat group cannot
    dedupe), on a connection borrowed from the pool and given back."""
    with robot_serving("wecom") as rx:
        pg.webhooks.add("union", rx.url, ["plan.comment"], allow_private=True, kind="wecom")
        plan_id = submitted(pg)
        box = WebhookSender(pg.db, pg.clock, "robots", batch_size=5, pool=4)
        pinned_before = len(pg.db._all_pinned)
        for round_ in range(3):
            for i in range(5):
                pg.content.add_comment(plan_id, f"Round {round_} comment {i}", actor="reviewer")
            assert box.run_once().delivered == 5
            # Each pool thread lives for one batch: none keeps a connection.
            assert len(pg.db._all_pinned) <= pinned_before + 1
            assert pg.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert len(rx.got) == 15 and all(g.signature_valid for g in rx.got)
    assert {d.status for d in pg.webhooks.deliveries()} == {"delivered"}
