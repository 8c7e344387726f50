"""The lazy timer hint: the deadline index moves only when a timer comes sooner.

``plan.timer_hint`` is a lower bound of ``plan.timer_at`` and is what the
deadline processor's index holds. These tests check the bound on both
databases, that a later timer leaves the hint alone, that a sooner one moves
it, that the processor moves (or clears) a hint that came due early without
applying anything, and that the migration carries every timer over. The
clock is moved, never slept on; T0 is Monday 2027-01-04 08:00 UTC.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Org, migrate_schema
from sqlalchemy import create_engine, inspect, text
from stored import stored_plan
from test_scheduler import content, process, trail

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.services.changes import StepContext
from planflow.storage import plan_store as ps
from planflow.storage import timer_store as ts
from planflow.storage.db import Database
from planflow.storage.schema import upgrade
from planflow.storage.tx import Tx

MON = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
TUE = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
#: Submitted on Monday: due in 5 working days (Monday 11th), reminded a day before.
SUBMITTED_REMINDER = datetime(2027, 1, 8, 8, 0, tzinfo=UTC)
#: Under review from Tuesday: due in 10 working days (19th), reminded 2 days before.
REVIEW_REMINDER = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def timers(pf: Planflow, plan_id: int) -> tuple[datetime | None, datetime | None]:
    plan = stored_plan(pf, plan_id)
    return plan.timer_at, plan.timer_hint


def assert_bounds_hold(pf: Planflow) -> None:
    with pf.db.engine.connect() as conn:
        broken = conn.execute(
            text(
                "SELECT id FROM plan WHERE timer_at IS NOT NULL"
                " AND (timer_hint IS NULL OR timer_hint > timer_at)"
            )
        ).all()
    assert broken == []


def submitted_monday_reviewed_tuesday(pf: Planflow, clock: FixedClock) -> int:
    clock.set(MON)
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    pf.content.set_content(plan_id, content(), actor="drafter_a", expected_version=None)
    pf.fire(plan_id, "submit", "chair_a")
    assert timers(pf, plan_id) == (SUBMITTED_REMINDER, SUBMITTED_REMINDER)
    clock.set(TUE)
    pf.fire(plan_id, "start_review", "reviewer")
    return plan_id


def test_a_later_timer_leaves_the_hint(pf: Planflow, org: Org, clock: FixedClock) -> None:
    plan_id = submitted_monday_reviewed_tuesday(pf, clock)
    assert timers(pf, plan_id) == (REVIEW_REMINDER, SUBMITTED_REMINDER)
    assert_bounds_hold(pf)


def test_the_processor_moves_a_hint_that_came_due_early(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = submitted_monday_reviewed_tuesday(pf, clock)
    clock.set(SUBMITTED_REMINDER)
    report = process(pf).run()
    assert (report.applied, report.skipped, report.hints_moved) == (0, 0, 1)
    assert timers(pf, plan_id) == (REVIEW_REMINDER, REVIEW_REMINDER)
    assert trail(pf, plan_id)[-1] == "start_review"  # nothing happened to the plan
    assert process(pf, "w2").run().hints_moved == 0
    # The real timer still fires, once.
    clock.set(REVIEW_REMINDER)
    assert process(pf).run().reminded == 1
    assert process(pf, "w2").run().applied == 0
    assert trail(pf, plan_id)[-1] == "remind"
    assert_bounds_hold(pf)


def test_a_stale_hint_does_not_delay_or_repeat_the_timer_behind_it(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    """No processor ran while the hint was early: the timer fires on time all the same."""
    plan_id = submitted_monday_reviewed_tuesday(pf, clock)
    clock.set(REVIEW_REMINDER)
    report = process(pf).run()
    assert (report.reminded, report.hints_moved) == (1, 0)
    assert trail(pf, plan_id).count("remind") == 1
    assert process(pf, "w2").run().applied == 0
    assert_bounds_hold(pf)


def test_a_sooner_timer_moves_the_hint(pf: Planflow, org: Org, clock: FixedClock) -> None:
    plan_id = submitted_monday_reviewed_tuesday(pf, clock)
    clock.set(SUBMITTED_REMINDER)
    process(pf).run()  # the hint is now the review's reminder, Friday 15th
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="Add targets")
    pf.fire(plan_id, "resubmit", "chair_a")
    # Resubmitted on Friday 8th: due Friday 15th, reminded on Thursday 14th.
    thursday = datetime(2027, 1, 14, 8, 0, tzinfo=UTC)
    assert timers(pf, plan_id) == (thursday, thursday)
    clock.set(thursday)
    assert process(pf).run().reminded == 1
    assert_bounds_hold(pf)


def test_a_hint_without_a_timer_is_cleared(pf: Planflow, org: Org, clock: FixedClock) -> None:
    plan_id = submitted_monday_reviewed_tuesday(pf, clock)
    pf.fire(plan_id, "approve", "reviewer")  # approved: no task, no timer
    assert timers(pf, plan_id) == (None, SUBMITTED_REMINDER)
    clock.set(SUBMITTED_REMINDER)
    report = process(pf).run()
    assert (report.applied, report.hints_moved) == (0, 1)
    assert timers(pf, plan_id) == (None, None)
    assert trail(pf, plan_id)[-1] == "approve"


# PostgreSQL only: on SQLite the transition holds the write lock from BEGIN,
# so nothing can move the hint between its SELECT and its UPDATE.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_a_hint_move_waits_for_the_transition_and_keeps_the_bound(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    """The processor moves the hint while a transition holds the plan: it waits for the
    commit (the transition locked the row when it read it), then sees the new timer."""
    assert pf.db.is_postgres
    clock.set(MON)
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    pf.content.set_content(plan_id, content(), actor="drafter_a", expected_version=None)
    pf.fire(plan_id, "submit", "chair_a")
    clock.set(TUE)
    other = create_engine(pf.db.url)
    moved = threading.Event()

    def move_hint() -> None:
        # What the processor's FIX_TIMER_HINTS does to one plan: the hint to its timer.
        with other.begin() as conn:
            conn.execute(text("UPDATE plan SET timer_hint = timer_at WHERE id = :p"),
                         {"p": plan_id})  # fmt: skip
        moved.set()

    mover = threading.Thread(target=move_hint)

    def meanwhile(_tx: Tx, _row: ps.PlanRow, _change: StepContext) -> None:
        # Another process, between this transition's SELECT and its UPDATE.
        mover.start()
        assert not moved.wait(0.5)  # it waits for the row this transition holds

    pf.service.fire(plan_id, "start_review", pf.user_id("reviewer"), also=meanwhile)
    mover.join(10)
    other.dispose()
    assert moved.is_set()
    assert timers(pf, plan_id) == (REVIEW_REMINDER, REVIEW_REMINDER)


def test_the_fix_statement_leaves_due_timers_and_future_hints_alone(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = submitted_monday_reviewed_tuesday(pf, clock)
    with pf.db.write() as conn:
        raw: Any = conn.connection.dbapi_connection
        tx = Tx(raw.cursor(), pf.db.dialect)
        assert ts.fix_timer_hints(tx, REVIEW_REMINDER) == 0  # its timer is due: claim it
        assert ts.fix_timer_hints(tx, MON) == 0  # nothing is due yet
    assert timers(pf, plan_id) == (REVIEW_REMINDER, SUBMITTED_REMINDER)


# -- the migration ----------------------------------------------------------------------


PLAN_0006 = (
    "INSERT INTO plan (unit_id, year, title, workflow_name, workflow_version, state, version,"
    " created_by, created_at, updated_at, content, item_count, items_without_due, revision,"
    " audit_seq, audit_hash, task_level, timer_at, timer_kind) VALUES (1, 2027, :title,"
    " 'annual_plan', 1, 'submitted', 1, 1, '2027-01-04 08:00:00.000000',"
    " '2027-01-04 08:00:00.000000', '{}', 0, 0, 1, 1, 'h', 0, :timer_at, :kind)"
)


def _index_columns(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        [ix] = [i for i in inspect(conn).get_indexes("plan") if i["name"] == "ix_plan_timer"]
    return [str(c) for c in ix["column_names"]]


def test_the_migration_carries_every_timer_over(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0006")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO unit (code, name, created_at) VALUES ('u', 'U', :t)"),
                         {"t": MON})  # fmt: skip
            conn.execute(
                text("INSERT INTO app_user (username, display_name, email, language, active,"
                     " session_version, email_preference, created_at)"
                     " VALUES ('a', 'A', '', 'en', true, 1, 'immediately', :t)"),
                {"t": MON},
            )  # fmt: skip
            for title, timer in [("with", "2027-01-08 08:00:00.000000"), ("without", None)]:
                conn.execute(text(PLAN_0006), {"title": title, "timer_at": timer,
                                               "kind": "remind" if timer else None})  # fmt: skip
        assert _index_columns(db) == ["timer_at"]
        upgrade(db)
        assert _index_columns(db) == ["timer_hint"]
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT title, timer_at = timer_hint, timer_hint IS NULL FROM plan"
                     " ORDER BY title")
            ).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [("with", True, False), ("without", None, True)]
        migrate_schema(db, "0006", "downgrade")
        assert _index_columns(db) == ["timer_at"]
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("plan")}
            count = conn.execute(text("SELECT COUNT(*) FROM plan")).scalar()
        assert "timer_hint" not in columns and count == 2
    finally:
        db.dispose()
