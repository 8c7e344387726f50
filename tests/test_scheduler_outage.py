"""A scheduler while its database is away: one line in the log, not a traceback per part.

Found by the soak with faults (issue 19): during a PostgreSQL restart each
scheduler tick logged a full traceback for every part of the pass (rounds,
deadlines, delegation notices, checkpoints, e-mail, webhooks), five or six a
second per scheduler, for as long as the database stayed away, drowning what
an operator needs to see. Now the first part that finds the database
unavailable ends the pass (the others would fail the same way; the next tick
tries again), the outage is logged once as a warning without a traceback,
repeated at most every ``AWAY_REPEAT`` seconds, and its end is logged with how
long it lasted. A failure that is not the database's absence (a bug) still
logs its traceback, and the pass goes on with the other parts.

The database is taken away for real: PostgreSQL is reached through a TCP
forwarder that is stopped (connections refused) and started again; a SQLite
file is held in exclusive mode by another connection.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from outages import Outage, sqlite_locked
from sqlalchemy.engine import make_url
from test_scheduler import REMIND_AT, under_review

import planflow.storage.db as db_module
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.scheduling import scheduler as scheduler_module
from planflow.scheduling.rounds import RoundRunner
from planflow.scheduling.scheduler import Scheduler

FORWARDER = Path(__file__).with_name("_tcp_forward.py")
WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def away(
    database_url: str, pf: Planflow, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Planflow, Outage]]:
    """A Planflow on the test database, and a way to take the database away from it."""
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 100)
    # The outage lasts: no waiting for a server that refuses us (test_database_restart).
    monkeypatch.setenv("PLANFLOW_DATABASE_WAIT", "0")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        ours = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
        try:
            with sqlite_locked(database_url, [pf, ours]) as (_url, outage):
                yield ours, outage
        finally:
            ours.close()
        return
    port = _free_port()
    target = f"{url.host or '127.0.0.1'}:{url.port or 5432}"
    running: list[subprocess.Popen[str]] = []

    def up() -> None:
        proc = subprocess.Popen(
            [sys.executable, str(FORWARDER), target, f"127.0.0.1:{port}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        running.append(proc)

    def down() -> None:  # the server's connections through it die with it
        proc = running.pop()
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    up()
    via = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    ours = Planflow(via, clock=clock, workflows_dir=WORKFLOWS)
    try:
        yield ours, (down, up)
    finally:
        ours.close()
        while running:
            down()


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """planflow's own tracebacks (SQLAlchemy's pool logs one per dead connection it
    drops, "Exception during reset or similar": once per connection, not per tick)."""
    return [r.getMessage() for r in caplog.records if r.exc_info and r.name.startswith("planflow")]


def test_an_outage_is_one_warning_per_outage_and_its_end_is_logged(
    away: tuple[Planflow, Outage],
    org: Any,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pf, (down, up) = away
    under_review(pf, "a")
    scheduler = Scheduler(pf, worker_id="w-outage")
    assert scheduler.tick().errors == []
    caplog.set_level(logging.INFO, logger="planflow.scheduling")
    caplog.clear()
    down()
    reports = [scheduler.tick() for _ in range(5)]
    assert _tracebacks(caplog) == []
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("planflow")
    ]
    assert len(warnings) == 1 and "database is unavailable" in warnings[0], warnings
    for report in reports:  # the pass stopped at its first part: one error, named
        assert len(report.errors) == 1 and report.errors[0].startswith("rounds: "), report.errors
    # Still away a while later: said again, at most every AWAY_REPEAT seconds.
    monkeypatch.setattr(scheduler_module, "AWAY_REPEAT", 0.0)
    caplog.clear()
    scheduler.tick()
    still = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("planflow")
    ]
    assert len(still) == 1 and "still unavailable" in still[0], still
    up()
    clock.set(REMIND_AT)  # what fell due meanwhile is done by the first pass after
    caplog.clear()
    report = scheduler.tick()
    assert report.errors == [] and report.deadlines.reminded == 1
    back = [r.getMessage() for r in caplog.records if "database is back" in r.getMessage()]
    assert len(back) == 1, [r.getMessage() for r in caplog.records]


def test_a_failure_that_is_not_an_outage_keeps_its_traceback_and_the_pass_goes_on(
    pf: Planflow,
    org: Any,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    under_review(pf, "a")
    clock.set(REMIND_AT)

    def broken(self: RoundRunner, report: Any = None) -> None:
        raise RuntimeError("a bug in the rounds")

    monkeypatch.setattr(RoundRunner, "run", broken)
    caplog.set_level(logging.INFO, logger="planflow.scheduling")
    report = Scheduler(pf, worker_id="w-bug").tick()
    assert report.errors == ["rounds: a bug in the rounds"]
    assert report.deadlines.reminded == 1  # the other parts ran
    assert _tracebacks(caplog) == ["scheduled rounds failed"]
