"""A worker process of tests/test_unit_move_race.py: plan actions while a unit moves.

``python _move_race_worker.py URL KIND STOP_FILE PLANS_JSON`` prints ``ready``, acts on
the plans until STOP_FILE exists and prints one JSON line of what it did:

* ``review``: each of the reviewers (both unions' and the federation's) tries
  ``start_review`` (or, less often, ``approve``) on random plans, at a pace that
  leaves tasks open for the moves; refusals (the plan is not theirs any more, or
  changed under them) are counted, not errors;
* ``escalate``: the deadline processor at a clock an hour later each round,
  so overdue tasks escalate, and escalate again after a move re-routed them.

Anything else that goes wrong ends the worker with a traceback and exit 1.
Started as a script, so it must stay importable without pytest and conftest.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.errors import PlanflowError
from planflow.scheduling.deadline_processor import DeadlineProcessor

#: After every task of the test's plans is overdue (they were submitted at T0).
START = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)
REVIEWERS = ("reviewer", "reviewer2", "reviewer_2", "fed_reviewer")


def review(pf: Planflow, plans: list[int], stop: Path, done: Counter[str]) -> None:
    rng = random.Random()
    while not stop.exists():
        time.sleep(0.02)
        plan, who = rng.choice(plans), rng.choice(REVIEWERS)
        action = "approve" if rng.random() < 0.1 else "start_review"
        try:
            pf.fire(plan, action, who)
            done[action] += 1
        except PlanflowError as refused:
            done[f"refused {refused.code}"] += 1


def escalate(pf: Planflow, clock: FixedClock, stop: Path, done: Counter[str]) -> None:
    processor = DeadlineProcessor(pf.service, f"race-{time.monotonic_ns()}", batch=5, group=1)
    while not stop.exists():
        report = processor.run()
        done["effects"] += report.applied
        clock.advance(timedelta(hours=1))


def main(url: str, kind: str, stop: Path, plans: list[int]) -> None:
    clock = FixedClock(START)
    pf = Planflow(url, clock=clock)
    done: Counter[str] = Counter()
    pf.org_snapshot()  # loaded before saying ready: the first action is as fast as the rest
    print("ready", flush=True)
    try:
        if kind == "review":
            review(pf, plans, stop, done)
        else:
            escalate(pf, clock, stop, done)
    finally:
        pf.close()
    print(json.dumps(done))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), json.loads(sys.argv[4]))
