"""W2, the escalation scan: the deadline processor against hand-written SQL.

M plans wait in ``under_review`` of ``annual_plan``, their review deadlines
spread evenly over 60 days. With the clock set so that about 1% of the
deadlines have passed (``expected_overdue(m)`` of them), one run of
``planflow.scheduling.deadline_processor.DeadlineProcessor`` is timed: it must escalate each overdue
review exactly once (level + 1, the task reaching the federation's reviewer,
an audit record, notifications). The floor does the same scan in
hand-written SQL: one query for the due plans, then for each an UPDATE of
its level and an audit INSERT in its own transaction. ``ratio_to_floor`` is
planflow's seconds over the floor's (1.0 would be the floor; the target is 5
or less).

Population is not timed, and runs in a process of its own so that the peak
RSS reported is the measuring process's. It writes, in bulk, exactly the
rows planflow's own path would have written for each plan (``create`` with
its content, ``submit`` by the branch's chair, ``start_review`` by the
union's reviewer: the hash-chained audit records, the frozen revision, the
submission's notification, the task and its timer), which
``tests/test_bench_w2.py`` checks against plans made through the real API.
One departure keeps the run "escalation only", as W2 is written: each plan's
timer already points at the escalation (the reminder, two working days
before the deadline, is treated as sent), so the processor has no reminders
to send.

Deadlines fall on working days of the default calendar (Monday to Friday),
as planflow puts them: they are spread evenly over the working time of the
60 days from ``WINDOW_START``.

This module runs one measurement; the plans' moments are ``w2_timeline``,
the bulk rows ``w2_population``, the floor ``w2_floor`` and the check of a
run ``w2_verify``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

from bench.common import Scratch, peak_rss_mib, run_child, scratch_database
from bench.w2_floor import populate_floor, run_floor
from bench.w2_population import populate, read_org
from bench.w2_timeline import ORG_AT, WORKFLOW, Timeline, expected_overdue, run_clock
from bench.w2_verify import COUNT_DUE, verify
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.calendar import BusinessCalendar
from planflow.scheduling.deadline_processor import DeadlineProcessor, DeadlineReport
from planflow.storage.tx import read_tx, write_tx

PLANFLOW_WORKER = "w2-bench"
SECOND_WORKER = "w2-bench-second"


# -- the population, in a process of its own ------------------------------------------------


def populate_both(scratch: Scratch, m: int) -> dict[str, Any]:
    """planflow's M plans and the floor's, untimed; run by ``populate_in_child``."""
    started = time.perf_counter()
    pf = Planflow(scratch.url, clock=FixedClock(ORG_AT), calendar=BusinessCalendar())
    try:
        pf.init()
        pf.mark_simulation()  # its clock runs in 2027: future-dated records
        populate(pf, m)
        page_size = None
        if pf.db.is_sqlite:
            page_size = int(pf.db.pinned_connection().execute("PRAGMA page_size").fetchone()[0])
    finally:
        pf.close()
    populate_floor(scratch, m, page_size)
    return {
        "population_seconds": time.perf_counter() - started,
        "population_peak_rss_mib": peak_rss_mib(),
        "sqlite_page_size": page_size,
    }


def populate_in_child(scratch: Scratch, m: int) -> dict[str, Any]:
    """Populate in another process, so that the measuring one's peak RSS is the run's."""
    return run_child("bench.w2", {"populate": asdict(scratch), "m": m})


# -- planflow ----------------------------------------------------------------------------


def process(pf: Planflow, worker: str) -> DeadlineReport:
    """One run of the deadline processor: what W2 times."""
    return DeadlineProcessor(pf.service, worker).run()


def run_planflow(
    pf: Planflow, clock: FixedClock, timeline: Timeline, now: datetime
) -> dict[str, Any]:
    org = read_org(pf)
    spec = pf.registry.get(WORKFLOW)
    clock.set(now)
    overdue = expected_overdue(timeline.m)
    problems: list[str] = []
    with read_tx(pf.db) as tx:
        due = tx.scalars(COUNT_DUE, {"now": tx.ts(now)})
    if due != [overdue]:
        problems.append(f"population: {due} timers due at {now.isoformat()}, {overdue} meant")
    # What a scheduler process that has been running holds: the organisation
    # snapshot, the definition, its database connection.
    pf.org_snapshot()
    pf.service.definitions.spec_for(pf.db, spec.name, spec.version)
    with write_tx(pf.db):
        pass

    started = time.perf_counter()
    report = process(pf, PLANFLOW_WORKER)
    seconds = time.perf_counter() - started
    rss = peak_rss_mib()

    second = process(pf, SECOND_WORKER)
    problems += verify(pf, org, timeline, now, report, second)
    return {
        "report": report,
        "second": second,
        "seconds": seconds,
        "peak_rss_mib": rss,
        "problems": problems,
    }


# -- one measurement ---------------------------------------------------------------------


def measure(m: int, database_url: str | None) -> dict[str, Any]:
    """One W2 measurement: planflow and the floor, timed in this process, in one run."""
    with scratch_database(database_url, "w2") as scratch:
        population = populate_in_child(scratch, m)
        clock = FixedClock(ORG_AT)
        pf = Planflow(scratch.url, clock=clock, calendar=BusinessCalendar())
        try:
            timeline = Timeline.of(pf.registry.get(WORKFLOW), pf.service.calendar, m)
            now = run_clock(timeline)
            floor = run_floor(scratch, m, now)
            ours = run_planflow(pf, clock, timeline, now)
        finally:
            pf.close()
    problems = floor["problems"] + ours["problems"]
    report: DeadlineReport = ours["report"]
    second: DeadlineReport = ours["second"]
    return {
        "workload": "w2",
        "database": scratch.kind,
        "m": m,
        "overdue": expected_overdue(m),
        "escalated": report.escalated,
        "seconds": round(ours["seconds"], 3),
        "floor_seconds": round(floor["seconds"], 3),
        # planflow's time over the floor's: 1.0 would be the floor; the target is <= 5.
        "ratio_to_floor": round(ours["seconds"] / floor["seconds"], 3),
        "floor_escalated": floor["escalated"],
        "second_run_escalated": second.escalated,
        "run": {
            "reminded": report.reminded,
            "late_reminders": report.late_reminders,
            "escalated": report.escalated,
            "at_top": report.at_top,
            "auto_actions": report.auto_actions,
            "skipped": report.skipped,
            "failed": len(report.failed),
        },
        "second_run_applied": second.applied,
        "clock": now.isoformat(),
        "peak_rss_mib": round(ours["peak_rss_mib"], 1),
        "population_seconds": round(population["population_seconds"], 3),
        "population_peak_rss_mib": round(population["population_peak_rss_mib"], 1),
        "sqlite_page_size": population["sqlite_page_size"],
        "audit_chain_checked": "all plans",
        "verified": not problems,
        "problems": problems,
    }


def measure_in_child(m: int, database_url: str | None) -> dict[str, Any]:
    return run_child("bench.w2", {"m": m, "database_url": database_url})


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    if "populate" in args:
        result = populate_both(Scratch(**args["populate"]), int(args["m"]))
    else:
        result = measure(int(args["m"]), args.get("database_url"))
    print(json.dumps(result))
