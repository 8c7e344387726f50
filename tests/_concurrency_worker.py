"""The worker process of tests/test_concurrency.py.

Each worker opens its own ``Planflow`` on the shared database, reads the
version of every plan it will pin *before* anyone writes, then plays one
``Task`` per round: all workers wait at a shared barrier and fire at the same
moment. Every attempt is reported on the results queue as an ``Attempt``;
a worker always ends by reporting ``Done`` (with the error that stopped it,
if any) and closing its ``Planflow``.

This module is imported by name in a process started with the "spawn"
context, so it must stay importable without pytest and without conftest.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.errors import StaleVersion

#: How long a worker waits at a barrier for the others before giving up.
BARRIER_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Task:
    """One attempt in one round."""

    plan_id: int
    action: str
    actor_id: int
    comment: str | None
    #: Send the version read before the race as ``expected_version``.
    pin_version: bool


@dataclass(frozen=True)
class Attempt:
    worker: int
    round: int
    task: Task
    #: "ok", "StaleVersion" or the name of any other exception type.
    outcome: str
    expected_version: int | None
    #: ok: the new version; StaleVersion: (expected, current); else the message.
    detail: Any
    #: Wall-clock start (time.time()) and duration of the attempt.
    started: float
    seconds: float


@dataclass(frozen=True)
class Done:
    worker: int
    error: str | None = None


def run(
    worker: int,
    database_url: str,
    workflows_dir: str,
    now: datetime,
    rounds: list[Task],
    barrier: Any,
    results: Any,
) -> None:
    """Play ``rounds`` against the other workers; report every attempt on ``results``."""
    pf: Planflow | None = None
    error: str | None = None
    try:
        pf = Planflow(database_url, clock=FixedClock(now), workflows_dir=workflows_dir)
        # Warm the caches (organisation, definitions) so that round 0 is a fair race.
        pf.org_snapshot()
        for name in ("annual_plan", "committee_plan"):
            pf.service.definitions.spec_for(pf.db, name, pf.registry.get(name).version)
        versions = {t.plan_id: pf.plan(t.plan_id).version for t in rounds if t.pin_version}
        for number, task in enumerate(rounds):
            barrier.wait(timeout=BARRIER_TIMEOUT_S)
            expected = versions.get(task.plan_id) if task.pin_version else None
            started, start = time.time(), time.perf_counter()
            try:
                change = pf.service.fire(
                    task.plan_id, task.action, task.actor_id, task.comment, expected
                )
                outcome, detail = "ok", change.new_version
            except StaleVersion as e:
                outcome, detail = "StaleVersion", (e.expected, e.current)
            except Exception as e:  # reported, and judged by the test
                outcome, detail = type(e).__name__, str(e)
            results.put(
                Attempt(
                    worker,
                    number,
                    task,
                    outcome,
                    expected,
                    detail,
                    started,
                    time.perf_counter() - start,
                )
            )
    except BaseException:
        error = traceback.format_exc()
        barrier.abort()  # release the others instead of letting them wait for us
    finally:
        if pf is not None:
            pf.close()
        results.put(Done(worker, error))
