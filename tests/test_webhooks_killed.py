"""A scheduler process killed (SIGKILL) while a slow receiver is answering, on both databases.

A real ``planflow scheduler run-once`` process claims the deliveries and
POSTs; the receiver (a signed-JSON webhook, or a DingTalk robot) keeps what
it got and holds its answer; the process is killed right then. Afterwards:

* a restart inside the lease sends nothing (the dead process's claim holds);
* a restart after the lease sends every event again, at least once in all,
  and says so: the dead sender's worker in its log and ``lease_expired`` in
  each delivery's log before the 200;
* a webhook receiver sees each event id once or twice (twice exactly for
  those that reached it before the kill), so deduping by ``X-Planflow-Event-Id``
  leaves each event once, with valid signatures;
* a robot's chat group, which cannot dedupe, sees a message at most twice
  (README, "Group robots").

On PostgreSQL the two deliveries of a change are claimed as one batch and
POSTed by the pool, so the kill lands with both in flight.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from conftest import T0, Org
from robot_receiver import RobotReceiver
from robot_receiver import serving as robot_serving
from sqlmodel import col, select
from test_webhooks import submitted
from webhook_receiver import Receiver
from webhook_receiver import serving as webhook_serving

from planflow.app import Planflow
from planflow.storage.tables import WebhookDelivery

pytestmark = pytest.mark.slow

EVENTS = ("plan.state_changed", "task.created")
LEASE = timedelta(minutes=5)  # the scheduler's sender's default
STARTED = T0 + timedelta(seconds=1)


def run_once(database_url: str, now: datetime) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "planflow.cli",
            "--database-url",
            database_url,
            "scheduler",
            "run-once",
            "--now",
            now.isoformat(),
            "--allow-future",  # the tests' clock runs in 2027
        ],
        env={**os.environ, "PLANFLOW_BASE_URL": "https://planflow.example.org"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out, err)
    return out, err


@pytest.fixture(params=["webhook", "dingtalk"])
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver | RobotReceiver]:
    if request.param == "webhook":
        with webhook_serving() as found:
            yield found
    else:
        with robot_serving("dingtalk") as robot:
            robot.now = T0
            yield robot


def register(pf: Planflow, rx: Receiver | RobotReceiver) -> None:
    if isinstance(rx, Receiver):
        rx.secret = pf.webhooks.add("union", rx.url, EVENTS, allow_private=True).secret
    else:
        pf.webhooks.add(
            "union", rx.url, EVENTS, allow_private=True, kind="dingtalk", secret=rx.secret
        )


def deliveries(pf: Planflow) -> list[WebhookDelivery]:
    with pf.db.read_session() as s:
        found = s.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id))).all()
        return [WebhookDelivery.model_validate(r) for r in found]


def received(rx: Receiver | RobotReceiver) -> list[str]:
    """What the receiver can tell events apart by: the event id, or (a robot) the text."""
    with rx.lock:
        if isinstance(rx, Receiver):
            return [r.event_id for r in rx.got]
        return [g.text for g in rx.got]


def test_a_scheduler_killed_mid_delivery_delivers_every_event_after_its_lease(
    pf: Planflow, org: Org, database_url: str, receiver: Receiver | RobotReceiver
) -> None:
    register(pf, receiver)
    submitted(pf)
    assert len(deliveries(pf)) == len(EVENTS)
    receiver.slow = 120  # answers only when released: the kill lands while it "thinks"

    proc = run_once(database_url, STARTED)
    try:
        assert receiver.arrived.wait(120), "the scheduler never POSTed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    before_kill = Counter(received(receiver))
    assert 1 <= sum(before_kill.values()) <= len(EVENTS)
    receiver.slow = 0
    receiver.release.set()
    rows = deliveries(pf)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 0)] * len(EVENTS)
    assert all(r.claim is not None and r.next_attempt_at == STARTED + LEASE for r in rows)

    # Inside the lease the dead process's claims still hold.
    out, _ = finished(run_once(database_url, STARTED + LEASE - timedelta(seconds=1)))
    assert "webhooks delivered" not in out
    assert Counter(received(receiver)) == before_kill

    out, err = finished(run_once(database_url, STARTED + LEASE))
    assert f"webhooks delivered: {len(EVENTS)}" in out, out
    assert f"taken over from a stopped sender: {len(EVENTS)}" in out, out
    assert err.count("ran out with no outcome") == len(EVENTS), err
    for row in deliveries(pf):
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
        assert row.log is not None
        resumed, answered = json.loads(row.log)
        assert resumed["error"].startswith("lease_expired: sender ")
        assert answered["status"] == 200

    # At least once each; twice exactly what had reached the receiver before the kill.
    after = Counter(received(receiver))
    assert len(after) == len(EVENTS)
    assert after == {key: 1 + before_kill[key] for key in after}
    if isinstance(receiver, Receiver):
        assert set(after) == {r.event_id for r in deliveries(pf)}
        assert all(r.signature_valid for r in receiver.got)
    else:
        assert all(g.signature_valid for g in receiver.got)
        assert max(after.values()) <= 2  # a chat group sees a message at most twice
