"""The inspection calendar, visit dates and what an inspector may do now.

``planflow.services.inspections.calendar`` and ``planflow.services.inspections.visits``.

Every test runs on SQLite and PostgreSQL (``pf``/``org``). The clock stands at
Monday 4 January 2027 08:00 UTC: an inspection scheduled then is due on
2 February 08:00 UTC (29 days); a rectification on 3 February (30 days).
Also here: inspection notes go through ``clean_text`` (``planflow.services.inspections.service``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from inspection_support import fire, score_sheet
from sqlmodel import col
from stored import CountStatements, stored_plan, stored_records

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.core.definitions.loader import load_definition
from planflow.core.inspection.scoring import CriterionScore
from planflow.core.text import TextError
from planflow.errors import PermissionDenied, StaleVersion, ValidationError
from planflow.services.inspections.calendar import CalendarEntry, InspectionCalendar
from planflow.services.inspections.visits import (
    INSPECTED,
    PLAN_VISIT,
    RECTIFICATION,
    SCHEDULED,
    VisitDateRefused,
)
from planflow.storage.tables import Plan

FEB_1, FEB_28 = date(2027, 2, 1), date(2027, 2, 28)
#: inspection_scheduled, then visit_confirmed, then the inspection (see the file).
WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
TWO_STEP = Path(__file__).parent / "data" / "calendar_workflows" / "two_step_inspection.yaml"
CODES = ("A1", "A2", "B1", "B2", "C1", "D1", "D2", "E1", "E2")
POINTS = (10, 10, 10, 10, 20, 10, 10, 10, 10)


def scheduled(pf: Planflow, unit: str = "branch_a") -> int:
    drafter, chair = ("drafter_a", "chair_a") if unit == "branch_a" else ("drafter_b", "chair_b")
    plan_id = pf.create_plan(unit_code=unit, year=2027, title=f"Plan of {unit}", actor=drafter)
    content = PlanContent(2027).add_section("Members", key="s1").add_item("s1", "Congress", due=4)
    pf.content.set_content(plan_id, content, actor=drafter, expected_version=None)
    for action, actor in [
        ("submit", chair),
        ("start_review", "reviewer"),
        ("approve", "reviewer"),
        ("schedule_inspection", "officer"),
    ]:
        pf.fire(plan_id, action, actor)
    return plan_id


def cal_of(pf: Planflow) -> InspectionCalendar:
    return InspectionCalendar(pf.services.inspections)


def month(pf: Planflow, first: date = FEB_1, last: date = FEB_28, **kw: Any) -> list[CalendarEntry]:
    return cal_of(pf).entries([], first, last, **kw)


def fail_round(pf: Planflow, plan_id: int) -> None:
    inspector = pf.user_id("inspector")
    scores = [CriterionScore(c, inspector_score=p) for c, p in zip(CODES, POINTS, strict=True)]
    scores[1] = CriterionScore("A2", inspector_score=5)
    pf.services.inspections.record_scores(plan_id, inspector, scores)
    fire(pf, plan_id, "inspect", "inspector")
    pf.services.inspections.finish(plan_id, inspector)


# -- placing inspections ------------------------------------------------------------------


def test_an_inspection_sits_on_its_due_date_until_a_visit_is_planned(
    pf: Planflow, org: object
) -> None:
    plan_id = scheduled(pf)
    inspector = pf.user_id("inspector")
    [entry] = month(pf, actor_id=inspector)
    assert (entry.plan_id, entry.kind, entry.day, entry.round) == (
        plan_id,
        SCHEDULED,
        date(2027, 2, 2),
        1,
    )
    assert entry.visit_date is None and not entry.overdue and entry.may_plan_visit
    assert (entry.unit_code, entry.title, entry.state) == (
        "branch_a",
        "Plan of branch_a",
        "inspection_scheduled",
    )
    cal_of(pf).set_visit_date(plan_id, inspector, date(2027, 2, 14))
    [entry] = month(pf)
    assert (entry.day, entry.visit_date) == (date(2027, 2, 14), date(2027, 2, 14))
    assert not entry.may_plan_visit  # nobody was asked about
    # A visit in another month moves it there.
    cal_of(pf).set_visit_date(plan_id, inspector, date(2027, 1, 20))
    assert month(pf) == []
    assert [e.day for e in month(pf, date(2027, 1, 1), date(2027, 1, 31))] == [date(2027, 1, 20)]


def test_the_range_is_taken_in_the_callers_time_zone(
    pf: Planflow, org: object, clock: FixedClock
) -> None:
    # Due at 08:00 UTC on 2 February: still the 2nd in Shanghai, but a plan
    # scheduled at 20:00 UTC is due at 04:00 on the 3rd there.
    scheduled(pf)
    clock.advance(timedelta(hours=12))
    scheduled(pf, "branch_b")
    shanghai = ZoneInfo("Asia/Shanghai")
    days = {e.unit_code: e.day for e in month(pf, tz=shanghai)}
    assert days == {"branch_a": date(2027, 2, 2), "branch_b": date(2027, 2, 3)}
    only_3rd = month(pf, date(2027, 2, 3), date(2027, 2, 3), tz=shanghai)
    assert [e.unit_code for e in only_3rd] == ["branch_b"]
    assert [e.unit_code for e in month(pf, date(2027, 2, 2), date(2027, 2, 2))] == [
        "branch_a",
        "branch_b",
    ]


def test_inspected_and_rectification_states_and_the_next_round(
    pf: Planflow, org: object, clock: FixedClock
) -> None:
    plan_id = scheduled(pf)
    inspector = pf.user_id("inspector")
    cal_of(pf).set_visit_date(plan_id, inspector, date(2027, 2, 10))
    fire(pf, plan_id, "inspect", "inspector")
    [entry] = month(pf)
    assert (entry.kind, entry.day) == (INSPECTED, date(2027, 2, 10))  # the visit of this round
    pf.fire(plan_id, "require_rectification", "inspector", "Fix the groups.")
    # Fired directly (no sheet outcome): the task's due date places it.
    [entry] = month(pf)
    assert (entry.kind, entry.rectification_due, entry.day) == (
        RECTIFICATION,
        None,
        date(2027, 2, 3),
    )
    plans_2 = scheduled(pf, "branch_b")
    fail_round(pf, plans_2)
    entries = {e.plan_id: e for e in month(pf)}
    assert (entries[plans_2].kind, entries[plans_2].rectification_due) == (
        RECTIFICATION,
        date(2027, 2, 3),
    )
    # Late: the rectification due date has passed.
    clock.advance(timedelta(days=31))
    assert all(e.overdue for e in month(pf))
    # Rectified: round 2 waits for a visit, which round 1's date does not set.
    pf.fire(plan_id, "rectified", "chair_a")
    entry = next(e for e in month(pf, date(2027, 3, 1), date(2027, 3, 31)) if e.plan_id == plan_id)
    assert (entry.kind, entry.round, entry.visit_date) == (SCHEDULED, 2, None)
    assert entry.day == date(2027, 3, 5)  # rectified on 4 February, due 29 days later


def test_earlier_and_foreign_plans(pf: Planflow, org: object, clock: FixedClock) -> None:
    a = scheduled(pf)
    b = scheduled(pf, "branch_b")
    where = [col(Plan.unit_id) == pf.unit_id("branch_b")]
    assert [e.plan_id for e in cal_of(pf).entries(where, FEB_1, FEB_28)] == [b]
    # first=None: everything placed up to ``last``; late ones are marked.
    clock.advance(timedelta(days=40))
    found = cal_of(pf).entries([], None, date(2027, 2, 28))
    assert [e.plan_id for e in found] == [a, b] and all(e.overdue for e in found)
    assert cal_of(pf).entries([], None, date(2027, 2, 1)) == []
    assert cal_of(pf).entries([], FEB_1, FEB_28, limit=1) != []
    assert len(cal_of(pf).entries([], FEB_1, FEB_28, limit=1)) == 1


def test_plans_elsewhere_in_their_workflow_are_not_on_the_calendar(
    pf: Planflow, org: object
) -> None:
    plan_id = scheduled(pf)
    fire(pf, plan_id, "inspect", "inspector")
    pf.fire(plan_id, "accept", "inspector")
    draft = pf.create_plan(unit_code="branch_b", year=2027, title="Draft", actor="drafter_b")
    assert draft and month(pf, date(2026, 1, 1), date(2028, 12, 31)) == []


def two_step_plan(pf: Planflow, title: str, workflow: str = "two_step_inspection") -> int:
    """A plan of ``TWO_STEP`` (or the same definition under ``workflow``) at visit_confirmed."""
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title=title, actor="drafter_a", workflow=workflow
    )
    content = PlanContent(2027).add_section("Members", key="s1").add_item("s1", "Congress", due=4)
    pf.content.set_content(plan_id, content, actor="drafter_a", expected_version=None)
    for action, actor in [
        ("submit", "chair_a"),
        ("approve", "reviewer"),
        ("schedule_inspection", "officer"),
        ("confirm_visit", "officer"),
    ]:
        pf.fire(plan_id, action, actor)
    return plan_id


def test_rounds_count_the_inspect_sources_of_the_plans_own_definition(
    pf: Planflow, org: object
) -> None:
    """inspection_scheduled starts a round in annual_plan, not in two_step_inspection."""
    pf.service.registry.register(load_definition(TWO_STEP))
    annual = scheduled(pf)
    two_step = two_step_plan(pf, "Two steps")
    inspector = pf.user_id("inspector")
    assert cal_of(pf).status(two_step, inspector).round == 1  # as the library counts it
    cal_of(pf).set_visit_date(two_step, inspector, date(2027, 2, 14))
    by_plan = {e.plan_id: e for e in month(pf)}
    assert (by_plan[annual].round, by_plan[annual].state) == (1, "inspection_scheduled")
    entry = by_plan[two_step]
    assert (entry.round, entry.state, entry.kind) == (1, "visit_confirmed", SCHEDULED)
    # The visit planned for round 1 is found (a wrong round joins no inspection row).
    assert (entry.day, entry.visit_date) == (date(2027, 2, 14), date(2027, 2, 14))


def test_rounds_count_the_inspect_sources_of_the_plans_own_version(
    pf: Planflow, org: object, tmp_path: Path
) -> None:
    """annual_plan@6 inspects in two steps; a plan started under @5 keeps @5's rounds."""
    old = scheduled(pf)
    text = TWO_STEP.read_text(encoding="utf-8")
    text = text.replace("name: two_step_inspection", "name: annual_plan")
    text = text.replace("version: 1", "version: 6")
    (tmp_path / "annual_plan_6.yaml").write_text(text, encoding="utf-8")
    pf.service.registry.register(load_definition(tmp_path / "annual_plan_6.yaml"))
    new = two_step_plan(pf, "Under version 6", workflow="annual_plan")
    assert (stored_plan(pf, old).workflow_version, stored_plan(pf, new).workflow_version) == (5, 6)
    inspector = pf.user_id("inspector")
    cal_of(pf).set_visit_date(new, inspector, date(2027, 2, 14))
    cal_of(pf).set_visit_date(old, inspector, date(2027, 2, 15))
    by_plan = {e.plan_id: e for e in month(pf)}
    assert (by_plan[new].round, by_plan[new].visit_date) == (1, date(2027, 2, 14))
    assert (by_plan[old].round, by_plan[old].visit_date) == (1, date(2027, 2, 15))


def test_a_definition_only_the_database_holds_counts_its_own_rounds(
    pf: Planflow,
    org: object,
    database_url: str,
    clock: FixedClock,
    count_statements: CountStatements,
) -> None:
    """Another process, whose files lack the definition a plan started under."""
    pf.service.registry.register(load_definition(TWO_STEP))
    plan_id = two_step_plan(pf, "Stored only")
    cal_of(pf).set_visit_date(plan_id, pf.user_id("inspector"), date(2027, 2, 14))
    other = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
    try:
        assert "two_step_inspection" not in {s.name for s in other.service.registry.all()}
        [entry] = month(other)
        assert (entry.plan_id, entry.round, entry.visit_date) == (plan_id, 1, date(2027, 2, 14))
        # Once met, the stored definition is known: one query again.
        with count_statements(other) as statements:
            assert len(month(other)) == 1
        assert [s.split()[0] for s in statements if not s.startswith("BEGIN")] == ["SELECT"]
    finally:
        other.close()


def test_the_number_of_queries_does_not_grow_with_the_entries(
    pf: Planflow, org: object, count_statements: CountStatements
) -> None:
    inspector = pf.user_id("inspector")
    scheduled(pf)
    month(pf, actor_id=inspector)  # warm the caches (definitions, organisation)
    with count_statements(pf) as one:
        assert len(month(pf, actor_id=inspector)) == 1
    for n in range(5):
        scheduled(pf, "branch_b" if n % 2 else "branch_a")
    month(pf, actor_id=inspector)
    with count_statements(pf) as six:
        assert len(month(pf, actor_id=inspector)) == 6
    assert len(six) == len(one)
    assert [s.split()[0] for s in one if not s.startswith("BEGIN")] == ["SELECT"]


# -- planning the visit ---------------------------------------------------------------------


def test_a_visit_date_is_audited_and_version_checked(pf: Planflow, org: object) -> None:
    plan_id = scheduled(pf)
    inspector = pf.user_id("inspector")
    version = stored_plan(pf, plan_id).version
    change = cal_of(pf).set_visit_date(plan_id, inspector, date(2027, 1, 4), version)
    assert change.new_version == version + 1
    record = stored_records(pf, plan_id)[-1]
    assert (record.action, record.comment, record.actor_id) == (PLAN_VISIT, "2027-01-04", inspector)
    assert record.detail == '{"previous":null,"round":1,"visit_date":"2027-01-04"}'
    with pytest.raises(StaleVersion):
        cal_of(pf).set_visit_date(plan_id, inspector, date(2027, 1, 5), version)
    cal_of(pf).set_visit_date(plan_id, inspector, None)
    assert (
        stored_records(pf, plan_id)[-1].detail
        == '{"previous":"2027-01-04","round":1,"visit_date":null}'
    )
    assert cal_of(pf).status(plan_id, inspector).visit_date is None
    # The visit row does not count as scores, nor finish anything.
    assert pf.inspections.current(plan_id) is not None
    assert pf.inspections.current(plan_id).scores == ()  # type: ignore[union-attr]


@pytest.mark.parametrize("day", [date(2027, 1, 3), date(2028, 1, 6), date(2000, 1, 1)])
def test_a_visit_in_the_past_or_too_far_ahead_is_refused(
    pf: Planflow, org: object, day: date
) -> None:
    plan_id = scheduled(pf)
    version = stored_plan(pf, plan_id).version
    with pytest.raises(VisitDateRefused) as refused:
        cal_of(pf).set_visit_date(plan_id, pf.user_id("inspector"), day)
    assert (refused.value.earliest, refused.value.latest) == (date(2027, 1, 4), date(2028, 1, 5))
    assert stored_plan(pf, plan_id).version == version


def test_today_is_the_callers_day(pf: Planflow, org: object, clock: FixedClock) -> None:
    plan_id = scheduled(pf)
    clock.set(datetime(2027, 1, 4, 20, 0, tzinfo=UTC))  # already the 5th in Shanghai
    inspector = pf.user_id("inspector")
    with pytest.raises(VisitDateRefused):
        cal_of(pf).set_visit_date(
            plan_id, inspector, date(2027, 1, 4), tz=ZoneInfo("Asia/Shanghai")
        )
    cal_of(pf).set_visit_date(plan_id, inspector, date(2027, 1, 4))


def test_only_the_inspector_plans_a_visit_and_only_before_it(pf: Planflow, org: object) -> None:
    plan_id = scheduled(pf)
    for user in ["chair_a", "officer", "reviewer"]:
        with pytest.raises(PermissionDenied):
            cal_of(pf).set_visit_date(plan_id, pf.user_id(user), date(2027, 1, 20))
    with pytest.raises(ValidationError, match="a visit date must be a date"):
        cal_of(pf).set_visit_date(plan_id, pf.user_id("inspector"), "2027-01-20")  # type: ignore[arg-type]
    fire(pf, plan_id, "inspect", "inspector")
    with pytest.raises(ValidationError, match="only while the plan is inspection_scheduled"):
        cal_of(pf).set_visit_date(plan_id, pf.user_id("inspector"), date(2027, 1, 20))


# -- what a user may do -------------------------------------------------------------------


def test_status_follows_the_inspection(pf: Planflow, org: object) -> None:
    plan_id = scheduled(pf)
    inspector, chair = pf.user_id("inspector"), pf.user_id("chair_a")
    cal = cal_of(pf)
    mine = cal.status(plan_id, inspector)
    assert (mine.kind, mine.round, mine.refusal) == (SCHEDULED, 1, None)
    assert (mine.may_plan_visit, mine.may_score, mine.may_start, mine.may_finish) == (
        True,
        True,
        True,
        False,
    )
    theirs = cal.status(plan_id, chair)
    assert isinstance(theirs.refusal, PermissionDenied)
    assert not (theirs.may_plan_visit or theirs.may_score or theirs.may_start or theirs.may_finish)
    score_sheet(pf, plan_id)
    cal.start(plan_id, inspector)
    mine = cal.status(plan_id, inspector)
    assert (mine.kind, mine.may_plan_visit, mine.may_score, mine.may_start, mine.may_finish) == (
        INSPECTED,
        False,
        True,
        False,
        True,
    )
    pf.fire(plan_id, "accept", "inspector")
    done = cal.status(plan_id, inspector)
    assert done.kind is None and not (done.may_score or done.may_finish)


# -- notes are clean text ---------------------------------------------------------------------


@pytest.mark.parametrize("note", ["bad\x00note", "bell\x07", "\ud800", "x" * 2001])
def test_inspection_notes_are_clean_text(pf: Planflow, org: object, note: str) -> None:
    plan_id = scheduled(pf)
    version = stored_plan(pf, plan_id).version
    with pytest.raises(TextError, match="the inspector note of A1"):
        pf.inspections.record_scores(
            plan_id,
            [CriterionScore("A1", inspector_score=5, inspector_note=note)],
            actor="inspector",
        )
    with pytest.raises(TextError, match="the self note of A1"):
        pf.inspections.record_self_assessment(
            plan_id,
            [CriterionScore("A1", self_score=5, self_note=note)],
            actor="chair_a",
        )
    assert stored_plan(pf, plan_id).version == version


def test_notes_are_trimmed_and_keep_their_lines(pf: Planflow, org: object) -> None:
    plan_id = scheduled(pf)
    note = "  first line\r\nsecond\tline  "
    pf.inspections.record_scores(
        plan_id,
        [CriterionScore("A1", inspector_score=5, inspector_note=note)],
        actor="inspector",
    )
    [score] = pf.inspections.current(plan_id).scores  # type: ignore[union-attr]
    assert score.inspector_note == "first line\nsecond\tline"


# -- the branch is told ---------------------------------------------------------------------


def branch_told(pf: Planflow, plan_id: int, kind: str) -> set[str]:
    return {
        username
        for username in ("chair_a", "drafter_a", "inspector", "officer", "chair_b")
        for n in pf.inbox.notifications(username)
        if n.plan_id == plan_id and n.kind == kind
    }


def test_the_branch_is_told_when_its_inspection_is_scheduled_and_its_visit_set(
    pf: Planflow, org: object
) -> None:
    plan_id = scheduled(pf)
    # Scheduling (the definition's notify:): the chair and the drafter of the branch.
    scheduled_told = {
        u
        for u in ("chair_a", "drafter_a")
        for n in pf.inbox.notifications(u)
        if n.plan_id == plan_id and n.payload.get("action") == "schedule_inspection"
    }
    assert scheduled_told == {"chair_a", "drafter_a"}
    cal_of(pf).set_visit_date(plan_id, pf.user_id("inspector"), date(2027, 2, 14))
    assert branch_told(pf, plan_id, "visit_planned") == {"chair_a", "drafter_a"}
    [note] = [n for n in pf.inbox.notifications("chair_a") if n.kind == "visit_planned"]
    assert (note.payload["visit_date"], note.payload["previous"]) == ("2027-02-14", None)
    cal_of(pf).set_visit_date(plan_id, pf.user_id("inspector"), date(2027, 2, 16))
    moved = [n for n in pf.inbox.notifications("chair_a") if n.kind == "visit_planned"]
    assert (moved[0].payload["visit_date"], moved[0].payload["previous"]) == (
        "2027-02-16",
        "2027-02-14",
    )
