"""Tests of the W2 benchmark (``bench.w2``) and ``python -m bench w2``.

They check that the population is what planflow itself writes, that a
measurement escalates exactly the overdue plans and verifies it, and that
the verification fails when anything is wrong; they assert nothing about
timings (the machine is shared and noisy).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from conftest import WORKFLOWS
from sqlalchemy import create_engine, text
from stored import stored_plan

from bench import w2, w2_floor, w2_population, w2_timeline
from bench.cli import main
from bench.common import Scratch
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.calendar import BusinessCalendar
from planflow.core.task_planning import Effect, next_effect
from planflow.scheduling.deadline_processor import DeadlineProcessor, DeadlineReport
from planflow.storage import audit_repo
from planflow.storage.audit_keys import audit_key
from planflow.storage.db import normalise_url
from planflow.storage.tx import Sql, read_tx, write_tx

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="PLANFLOW_TEST_POSTGRES_URL is not set: no PostgreSQL to bench on"
)

RESULT_KEYS = {
    "workload",
    "database",
    "m",
    "escalated",
    "seconds",
    "floor_seconds",
    "ratio_to_floor",
    "second_run_escalated",
    "peak_rss_mib",
    "verified",
}


def check_result(result: dict[str, Any], m: int, database: str) -> None:
    assert set(result) >= RESULT_KEYS, RESULT_KEYS - set(result)
    assert result["problems"] == []
    assert result["verified"] is True
    assert (result["workload"], result["database"], result["m"]) == ("w2", database, m)
    overdue = w2_timeline.expected_overdue(m)
    assert result["escalated"] == result["floor_escalated"] == result["overdue"] == overdue
    assert result["second_run_escalated"] == result["second_run_applied"] == 0
    assert result["run"] == {
        "reminded": 0,
        "late_reminders": 0,
        "escalated": overdue,
        "at_top": 0,
        "auto_actions": 0,
        "skipped": 0,
        "failed": 0,
    }
    for key in ("seconds", "floor_seconds", "ratio_to_floor", "peak_rss_mib"):
        assert isinstance(result[key], int | float) and result[key] > 0, key


def schema_exists(name: str) -> bool:
    assert POSTGRES_URL
    engine = create_engine(normalise_url(POSTGRES_URL))
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :n"),
                {"n": name},
            ).first()
        return found is not None
    finally:
        engine.dispose()


@pytest.fixture
def scratches(monkeypatch: pytest.MonkeyPatch) -> list[Scratch]:
    """Records every scratch database ``w2.measure`` uses."""
    seen: list[Scratch] = []
    real = w2.scratch_database

    @contextmanager
    def recording(base_url: str | None, name: str) -> Iterator[Scratch]:
        with real(base_url, name) as scratch:
            seen.append(scratch)
            yield scratch

    monkeypatch.setattr(w2, "scratch_database", recording)
    return seen


# -- the deadlines and the population ------------------------------------------------------


def test_about_one_percent_is_overdue() -> None:
    assert w2_timeline.expected_overdue(100_000) == 1000
    assert w2_timeline.expected_overdue(2000) == 20
    assert w2_timeline.expected_overdue(150) == 1
    assert w2_timeline.expected_overdue(1) == 1


def test_deadlines_are_spread_evenly_over_the_working_days_of_60_days() -> None:
    calendar = BusinessCalendar()
    dues = list(w2_timeline.deadlines(1000, calendar))
    assert len(dues) == 1000
    assert all(a < b for a, b in pairwise(dues))
    assert all(calendar.is_working_day(d.date()) for d in dues)
    assert dues[0] >= w2_timeline.WINDOW_START and dues[-1] < w2_timeline.WINDOW_START + timedelta(
        days=60
    )
    # Within a day, one deadline every (working time / M).
    days = w2_timeline.working_days(calendar)
    step = timedelta(days=len(days)) / 1000
    same_day = [(a, b) for a, b in pairwise(dues) if a.date() == b.date()]
    assert same_day and all(abs((b - a) - step) <= timedelta(microseconds=1) for a, b in same_day)
    # Each working day of the window gets its share.
    per_day = {d: 0 for d in days}
    for d in dues:
        per_day[d.date()] += 1
    assert max(per_day.values()) - min(per_day.values()) <= 1


def test_the_clock_passes_exactly_the_first_one_percent() -> None:
    pf = Planflow("sqlite://", calendar=BusinessCalendar(), workflows_dir=WORKFLOWS)
    try:
        timeline = w2_timeline.Timeline.of(
            pf.registry.get(w2_timeline.WORKFLOW), BusinessCalendar(), 2000
        )
    finally:
        pf.close()
    now = w2_timeline.run_clock(timeline)
    passed = [i for i in range(2000) if timeline.plan(i).escalation.at <= now]
    assert passed == list(range(20))
    h = timeline.plan(0)
    # The review took ten working days; the escalation is due at the deadline.
    assert (h.due - h.since).days == 14 and h.escalation.at == h.due
    assert (h.escalation.kind, h.escalation.level) == ("escalate", 1)


def _columns(tx: Any, sql: str, *params: Any) -> list[dict[str, Any]]:
    tx.cursor.execute(sql, params)
    names = [c[0] for c in tx.cursor.description]
    return [dict(zip(names, row, strict=True)) for row in tx.cursor.fetchall()]


def test_population_rows_are_what_planflow_itself_writes(database_url: str) -> None:
    """Plans made through the real API have the rows ``plan_rows`` bulk-inserts."""
    m = 7  # deadlines about a week apart: different weekdays, different moments
    clock = FixedClock(w2_timeline.ORG_AT)
    pf = Planflow(database_url, clock=clock, calendar=BusinessCalendar(), workflows_dir=WORKFLOWS)
    try:
        w2_population.create_org(pf)
        org = w2_population.read_org(pf)
        spec = pf.registry.get(w2_timeline.WORKFLOW)
        timeline = w2_timeline.Timeline.of(spec, pf.service.calendar, m)
        calendar = pf.service.calendar
        remind_before = timeline.timer.remind_before
        assert remind_before is not None
        for i in range(m):
            h = timeline.plan(i)
            branch = org.branch_of(i + 1)
            clock.set(h.created)
            plan_id = pf.service.create_plan(
                unit_id=branch,
                year=w2_population.YEAR,
                title=f"Plan {i}",
                actor_id=org.drafter[branch],
                content_json=w2_population.CONTENT,
                item_count=w2_population.ITEMS,
            )
            assert plan_id == i + 1
            clock.set(h.submitted)
            pf.service.fire(plan_id, "submit", org.chair[branch])
            clock.set(h.since)
            pf.service.fire(plan_id, "start_review", org.union_reviewer[org.union_of[branch]])

        generated = w2_population.Rows()
        with write_tx(pf.db) as tx:
            for i in range(m):
                w2_population.plan_rows(tx, spec, org, i + 1, timeline.plan(i), generated)
        ph = "?" if pf.db.is_sqlite else "%s"
        with read_tx(pf.db) as tx:
            for i in range(m):
                plan_id, h = i + 1, timeline.plan(i)
                want = generated.plans[i]
                [got] = _columns(tx, f"SELECT * FROM plan WHERE id = {ph}", plan_id)
                # planflow's first timer is the reminder; the population's is
                # the one that follows it (the reminder counts as sent).
                assert (got["timer_kind"], got["timer_at"]) == (
                    "remind",
                    tx.ts(calendar.subtract(h.due, remind_before)),
                )
                assert (want["timer_kind"], want["timer_at"]) == ("escalate", tx.ts(h.due))
                assert {k: got[k] for k in want if not k.startswith("timer_")} == {
                    k: v for k, v in want.items() if not k.startswith("timer_")
                }
                assert (got["task_level"], got["task_escalated_unit_id"], got["grade"]) == (
                    0,
                    None,
                    None,
                )
                records = _columns(
                    tx, f"SELECT * FROM audit_record WHERE plan_id = {ph} ORDER BY seq", plan_id
                )
                # The key is computed by the INSERT (storage.audit_keys), not passed.
                assert [r.pop("id") for r in records] == [
                    audit_key(plan_id, r["seq"]) for r in records
                ]
                assert records == [a for a in generated.audits if a["plan_id"] == plan_id]
                revisions = _columns(
                    tx,
                    "SELECT plan_id, number, content, content_hash, created_by, created_at"
                    f" FROM plan_revision WHERE plan_id = {ph}",
                    plan_id,
                )
                assert revisions == [r for r in generated.revisions if r["plan_id"] == plan_id]
                notices = _columns(
                    tx,
                    "SELECT user_id, plan_id, kind, payload, created_at FROM notification"
                    f" WHERE plan_id = {ph}",
                    plan_id,
                )
                assert notices == [n for n in generated.notifications if n["plan_id"] == plan_id]

        # After its reminder, planflow's timer is the population's.
        for i in range(m):
            h = timeline.plan(i)
            remind_at = calendar.subtract(h.due, remind_before)
            assert h.escalation == next_effect(
                timeline.timer, h.due, calendar, after=Effect(remind_at, "remind")
            )
            clock.set(remind_at)
            report = DeadlineProcessor(pf.service, "test").run()
            assert report.reminded == 1
            plan = stored_plan(pf, i + 1)
            assert (plan.timer_kind, plan.timer_at) == ("escalate", h.escalation.at)
    finally:
        pf.close()


def test_populate_leaves_a_database_planflow_goes_on_with(database_url: str) -> None:
    clock = FixedClock(w2_timeline.ORG_AT)
    pf = Planflow(database_url, clock=clock, calendar=BusinessCalendar(), workflows_dir=WORKFLOWS)
    try:
        org = w2_population.populate(pf, 120)
        counts = pf.counts()
        assert (counts["plans"], counts["audit_records"]) == (120, 360)
        assert {p.state for p in pf.plans(page_size=1000).items} == {"under_review"}
        report = audit_repo.verify(pf.db)
        assert report.ok and (report.plans, report.records) == (120, 360)
        # The id sequence is past the populated plans (PostgreSQL).
        branch = org.branch_of(1)
        assert (
            pf.service.create_plan(
                unit_id=branch,
                year=w2_population.YEAR,
                title="One more",
                actor_id=org.drafter[branch],
            )
            == 121
        )
    finally:
        pf.close()


def test_the_floor_scans_the_same_deadlines_in_a_file_like_planflows(tmp_path: Path) -> None:
    path = tmp_path / "w2.sqlite3"
    scratch = Scratch("sqlite", f"sqlite:///{path}", str(path))
    w2_floor.populate_floor(scratch, 300, page_size=1024)
    conn = sqlite3.connect(scratch.raw + ".floor")
    try:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 1024
        assert conn.execute("SELECT COUNT(*) FROM floor_plan").fetchone()[0] == 300
    finally:
        conn.close()
    calendar = BusinessCalendar()
    days = w2_timeline.working_days(calendar)
    now = w2_timeline.deadline(2, 300, days) + timedelta(seconds=1)  # three due, as with planflow
    result = w2_floor.run_floor(scratch, 300, now)
    assert (result["escalated"], result["problems"]) == (3, [])
    again = w2_floor.run_floor(scratch, 300, now)
    assert again["escalated"] == 0 and again["problems"]  # nothing left, so not as meant


# -- measurements ------------------------------------------------------------------------


def test_measure_on_sqlite(scratches: list[Scratch]) -> None:
    result = w2.measure(m=2000, database_url=None)
    check_result(result, 2000, "sqlite")
    assert result["escalated"] == 20
    [scratch] = scratches
    assert not Path(scratch.raw).parent.exists()  # the temporary folder is gone


@pytest.mark.postgres
@needs_postgres
def test_measure_on_postgresql(scratches: list[Scratch]) -> None:
    assert POSTGRES_URL
    result = w2.measure(m=2000, database_url=POSTGRES_URL)
    check_result(result, 2000, "postgresql")
    [scratch] = scratches
    assert scratch.schema and scratch.schema.startswith("bench_w2_")
    assert not schema_exists(scratch.schema)  # created for the run, dropped after it


def test_cli_bench_w2_json_runs_in_a_child(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["w2", "--m", "300", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    [line] = out.splitlines()
    check_result(json.loads(line), 300, "sqlite")


@pytest.mark.postgres
@needs_postgres
def test_cli_bench_w2_json_on_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    assert POSTGRES_URL
    assert main(["w2", "--m", "300", "--json", "--database-url", POSTGRES_URL]) == 0
    [line] = capsys.readouterr().out.splitlines()
    check_result(json.loads(line), 300, "postgresql")


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str | None]]:
    """Run the CLI's measurements in this process (no child interpreter)."""
    calls: list[tuple[int, str | None]] = []

    def measure(m: int, database_url: str | None) -> dict[str, Any]:
        calls.append((m, database_url))
        return w2.measure(m, database_url)

    monkeypatch.setattr(w2, "measure_in_child", measure)
    return calls


def test_cli_bench_w2_text(
    in_process: list[tuple[int, str | None]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["w2", "--m", "200", "--m", "300"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert in_process == [(200, None), (300, None)]
    assert lines[0].startswith("W2 sqlite m=200: escalated 2 of 2 overdue in ")
    assert lines[1].startswith("W2 sqlite m=300: escalated 3 of 3 overdue in ")
    assert all("planflow/floor" in line and line.endswith("verified: True") for line in lines)


def test_cli_bench_w2_defaults_to_100000_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake(m: int, database_url: str | None) -> dict[str, Any]:
        calls.append(m)
        return {"verified": True, "problems": [], "m": m}

    monkeypatch.setattr(w2, "measure_in_child", fake)
    assert main(["w2", "--json"]) == 0
    assert calls == [100_000]


def test_cli_bench_w2_exits_1_when_not_verified(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(m: int, database_url: str | None) -> dict[str, Any]:
        return {"verified": False, "problems": ["the run escalated 1, 2 were overdue"], "m": m}

    monkeypatch.setattr(w2, "measure_in_child", broken)
    code = main(["w2", "--m", "200", "--json"])
    assert json.loads(capsys.readouterr().out)["verified"] is False
    assert code == 1


# -- the verification cannot pass vacuously ------------------------------------------------

M = 200  # two overdue plans
Plant = Callable[[Planflow], None]


def _run(pf: Planflow, sql: str, **params: Any) -> None:
    with write_tx(pf.db) as tx:
        tx.run(
            Sql("w2_test", sql),
            {k: tx.ts(v) if isinstance(v, datetime) else v for k, v in params.items()},
        )


def make_due(plan_id: int, before: timedelta) -> Plant:
    """The plan's review was due ``before`` the clock (and its escalation with it)."""

    def plant(pf: Planflow) -> None:
        at = pf.clock.now() - before
        _run(
            pf,
            "UPDATE plan SET task_due_at = :at, timer_at = :at, timer_hint = :at WHERE id = :id",
            at=at,
            id=plan_id,
        )

    return plant


def claimed_elsewhere(plan_id: int) -> Plant:
    def plant(pf: Planflow) -> None:
        until = pf.clock.now() + timedelta(days=1)
        _run(
            pf,
            "UPDATE plan SET timer_claimed_by = 'elsewhere', timer_claimed_until = :until"
            " WHERE id = :id",
            until=until,
            id=plan_id,
        )

    return plant


def fed_reviewer_leaves(pf: Planflow) -> None:
    with pf.session() as s:
        pf.org_repo.set_active(s, "fed.reviewer", False)


def record_altered(pf: Planflow) -> None:
    _run(pf, "UPDATE audit_record SET comment = 'edited' WHERE plan_id = 1 AND seq = 4")


def notice_lost(pf: Planflow) -> None:
    _run(pf, "DELETE FROM notification WHERE plan_id = 2 AND kind = 'escalate'")


TAMPERING: dict[str, tuple[Plant | None, Plant | None, str]] = {
    # name: (before the timed run, before the second run, a problem it must cause)
    "a plan not overdue is escalated": (
        make_due(M, timedelta(hours=1)),
        None,
        "not overdue: [200]",
    ),
    "an overdue plan is missed": (claimed_elsewhere(1), None, "missed: [1]"),
    "a long-overdue plan has more than one timer effect": (
        make_due(1, timedelta(days=20)),
        None,
        "more than one new audit record: [1]",
    ),
    "nobody above to escalate to": (fed_reviewer_leaves, None, "the run escalated 0"),
    "the second run escalates": (None, make_due(M, timedelta(hours=1)), "the second run applied 1"),
    "an escalation record is altered": (None, record_altered, "audit chain: plan 1, record 4"),
    "a notification is lost": (None, notice_lost, "notices for 4 meant"),
}


@pytest.fixture(scope="module")
def population_of_m(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """W2's population of M plans on SQLite, made once for the cases below (in a child,
    as ``w2.measure`` makes it): its folder, and what the child reported."""
    folder = tmp_path_factory.mktemp("w2_population")
    path = folder / "w2.sqlite3"
    population = w2.populate_in_child(Scratch("sqlite", f"sqlite:///{path}", str(path)), M)
    return folder, population


@pytest.fixture
def populated_once(
    monkeypatch: pytest.MonkeyPatch, population_of_m: tuple[Path, dict[str, Any]]
) -> None:
    """``w2.measure(M, None)`` starts from a copy of ``population_of_m``'s files (planflow's
    and the floor's) instead of populating its own: the population is the same each
    time (no randomness), and the cases tamper with the copy."""
    folder, population = population_of_m

    def copy(scratch: Scratch, m: int) -> dict[str, Any]:
        assert (scratch.kind, m) == ("sqlite", M)
        for file in folder.iterdir():
            shutil.copyfile(file, scratch.raw + file.name.removeprefix("w2.sqlite3"))
        return population

    monkeypatch.setattr(w2, "populate_in_child", copy)


@pytest.mark.parametrize("case", list(TAMPERING))
@pytest.mark.usefixtures("populated_once")
def test_verification_fails_when_the_work_is_wrong(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_run, before_second, problem = TAMPERING[case]
    real = w2.process
    runs: list[str] = []

    def process(pf: Planflow, worker: str) -> DeadlineReport:
        runs.append(worker)
        plant = before_run if len(runs) == 1 else before_second
        if plant is not None:
            plant(pf)
        return real(pf, worker)

    monkeypatch.setattr(w2, "process", process)
    result = w2.measure(M, None)
    assert runs == [w2.PLANFLOW_WORKER, w2.SECOND_WORKER]
    assert result["verified"] is False
    assert any(problem in p for p in result["problems"]), result["problems"]


@pytest.mark.usefixtures("populated_once")
def test_untampered_small_run_verifies() -> None:
    """The control for the cases above: the same M, nothing planted."""
    check_result(w2.measure(M, None), M, "sqlite")
