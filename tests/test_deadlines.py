"""Tests of ``planflow.core.task_planning``: a state's task and its timer effects (pure).

The annual plan's ``under_review`` task is due 10 working days after it
starts; its timer reminds 2 working days before the due date, escalates at
the due date and again every 5 working days (one level further up each
time), and returns the plan automatically 30 days after the due date.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planflow.core.calendar import BusinessCalendar
from planflow.core.definitions import Duration, TimerSpec, load_definition
from planflow.core.org import OrgSnapshot, UnitInfo
from planflow.core.task_planning import (
    MAX_ESCALATION_LEVEL,
    NO_TASK,
    Effect,
    TaskPlanner,
    next_effect,
    task_for_state,
)

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
SPEC = load_definition(WORKFLOWS / "annual_plan.yaml")
REVIEW_TIMER = SPEC.timer_for("under_review")
WEEKDAYS = BusinessCalendar()
T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # a Monday

FED, UNION, BRANCH = 1, 2, 3
REVIEWER, INSPECTOR, DRAFTER = 10, 11, 12
ORG = OrgSnapshot.build(
    1,
    [UnitInfo(FED, None, "fed", "Fed"), UnitInfo(UNION, FED, "union", "Union"),
     UnitInfo(BRANCH, UNION, "branch", "Branch")],
    [(REVIEWER, UNION, "reviewer"), (INSPECTOR, FED, "inspector"), (DRAFTER, BRANCH, "drafter")],
    [REVIEWER, INSPECTOR, DRAFTER],
)  # fmt: skip


def at(iso: str) -> datetime:
    """08:00 UTC on that day (the time of day of T0)."""
    return datetime.combine(date.fromisoformat(iso), T0.timetz())


def walk(
    timer: TimerSpec | None,
    due: datetime | None,
    calendar: BusinessCalendar = WEEKDAYS,
    *,
    not_before: datetime | None = None,
    limit: int = 500,
) -> list[Effect]:
    """Every effect, by asking ``next_effect`` for the one after the last."""
    effects: list[Effect] = []
    current = next_effect(timer, due, calendar, not_before=not_before)
    while current is not None:
        effects.append(current)
        assert len(effects) <= limit, "the timeline does not end"
        current = next_effect(timer, due, calendar, after=current)
    return effects


def reference_timeline(timer: TimerSpec, due: datetime, calendar: BusinessCalendar) -> list[Effect]:
    """The whole timeline, built directly from the definition of ``next_effect``."""
    effects = []
    if timer.remind_before is not None:
        effects.append(Effect(calendar.subtract(due, timer.remind_before), "remind"))
    if timer.escalate_after is not None:
        escalation = Effect(calendar.add(due, timer.escalate_after), "escalate", 1)
        effects.append(escalation)
        while timer.repeat_escalation is not None and escalation.level < MAX_ESCALATION_LEVEL:
            escalation = Effect(
                calendar.add(escalation.at, timer.repeat_escalation),
                "escalate",
                escalation.level + 1,
            )
            effects.append(escalation)
    if timer.auto_trigger is not None and timer.auto_after is not None:
        effects.append(Effect(calendar.add(due, timer.auto_after), "auto"))
    return sorted(effects)


# -- task_for_state -------------------------------------------------------------------


def test_under_review_task_and_first_timer() -> None:
    task = task_for_state(SPEC, ORG, WEEKDAYS, BRANCH, "under_review", T0)
    assert (task.role, task.unit_id, task.since, task.level) == ("reviewer", UNION, T0, 0)
    assert task.due_at == at("2027-01-18")  # 10 working days
    assert (task.timer_at, task.timer_kind) == (at("2027-01-14"), "remind")  # 2 before


def test_submitted_task() -> None:
    task = task_for_state(SPEC, ORG, WEEKDAYS, BRANCH, "submitted", T0)
    assert (task.role, task.unit_id, task.due_at) == ("reviewer", UNION, at("2027-01-11"))
    assert (task.timer_at, task.timer_kind) == (at("2027-01-08"), "remind")


def test_inspection_task_goes_to_the_nearest_inspector_above() -> None:
    task = task_for_state(SPEC, ORG, WEEKDAYS, BRANCH, "inspection_scheduled", T0)
    assert (task.role, task.unit_id) == ("inspector", FED)
    assert task.due_at == T0 + timedelta(days=29)
    assert (task.timer_at, task.timer_kind) == (T0 + timedelta(days=22), "remind")


def test_a_task_without_a_timer() -> None:
    task = task_for_state(SPEC, ORG, WEEKDAYS, BRANCH, "returned", T0)
    assert (task.role, task.unit_id, task.due_at) == ("drafter", BRANCH, T0 + timedelta(days=14))
    assert (task.timer_at, task.timer_kind) == (None, None)


@pytest.mark.parametrize("state", ["draft", "approved", "accepted", "archived", "abandoned"])
def test_states_without_a_task(state: str) -> None:
    assert task_for_state(SPEC, ORG, WEEKDAYS, BRANCH, state, T0) == NO_TASK


def test_a_task_nobody_can_take_is_unassigned() -> None:
    # A plan of the federation itself: there is no unit above it to review it.
    # The task exists (and is due) but has no unit: nobody may act through it.
    task = task_for_state(SPEC, ORG, WEEKDAYS, FED, "under_review", T0)
    assert (task.role, task.unit_id, task.due_at) == ("reviewer", None, at("2027-01-18"))


def test_holidays_move_the_due_date_and_the_reminder() -> None:
    calendar = BusinessCalendar(holidays=frozenset({date(2027, 1, 13)}))  # a Wednesday
    task = task_for_state(SPEC, ORG, calendar, BRANCH, "under_review", T0)
    assert task.due_at == at("2027-01-19")
    assert task.timer_at == at("2027-01-15")  # Friday: 2 working days before Tuesday


def test_an_extra_working_day_brings_the_due_date_forward() -> None:
    calendar = BusinessCalendar(extra_working_days=frozenset({date(2027, 1, 9)}))  # Saturday
    task = task_for_state(SPEC, ORG, calendar, BRANCH, "under_review", T0)
    assert task.due_at == at("2027-01-15")


# -- the timeline ---------------------------------------------------------------------


def test_under_review_timeline() -> None:
    due = at("2027-01-18")
    effects = walk(REVIEW_TIMER, due)
    assert effects[:8] == [
        Effect(at("2027-01-14"), "remind"),  # 2 working days before
        Effect(at("2027-01-18"), "escalate", 1),  # at the due date
        Effect(at("2027-01-25"), "escalate", 2),  # then every 5 working days
        Effect(at("2027-02-01"), "escalate", 3),
        Effect(at("2027-02-08"), "escalate", 4),
        Effect(at("2027-02-15"), "escalate", 5),
        Effect(at("2027-02-17"), "auto"),  # 30 days after the due date
        Effect(at("2027-02-22"), "escalate", 6),
    ]
    escalations = [e for e in effects if e.kind == "escalate"]
    assert [e.level for e in escalations] == list(range(1, MAX_ESCALATION_LEVEL + 1))
    assert len(effects) == 1 + MAX_ESCALATION_LEVEL + 1
    assert effects == reference_timeline(REVIEW_TIMER, due, WEEKDAYS)


def test_timeline_with_a_holiday_week() -> None:
    spring_festival = frozenset(date(2027, 2, d) for d in range(8, 13))  # Mon 8 - Fri 12
    calendar = BusinessCalendar(holidays=spring_festival)
    effects = walk(REVIEW_TIMER, at("2027-02-01"), calendar)
    assert effects[:4] == [
        Effect(at("2027-01-28"), "remind"),
        Effect(at("2027-02-01"), "escalate", 1),
        Effect(at("2027-02-15"), "escalate", 2),  # the holiday week does not count
        Effect(at("2027-02-22"), "escalate", 3),
    ]
    assert Effect(at("2027-03-03"), "auto") in effects


def test_a_reminder_already_past_is_skipped() -> None:
    due = at("2027-01-05")  # 1 working day after T0: "2 working days before" has passed
    first = next_effect(REVIEW_TIMER, due, WEEKDAYS, not_before=T0)
    assert first == Effect(due, "escalate", 1)
    exactly_now = next_effect(REVIEW_TIMER, at("2027-01-06"), WEEKDAYS, not_before=T0)
    assert exactly_now == Effect(at("2027-01-06"), "escalate", 1)  # remind at T0: skipped too
    upcoming = next_effect(REVIEW_TIMER, at("2027-01-07"), WEEKDAYS, not_before=T0)
    assert upcoming == Effect(at("2027-01-05"), "remind")
    # Escalations and the auto-action still apply late.
    assert next_effect(REVIEW_TIMER, due, WEEKDAYS, not_before=due + timedelta(days=90)) == first


def test_after_an_arbitrary_moment() -> None:
    due = at("2027-01-18")
    probe = Effect(at("2027-02-16"), "remind")
    assert next_effect(REVIEW_TIMER, due, WEEKDAYS, after=probe) == Effect(at("2027-02-17"), "auto")
    last = Effect(at("2099-01-01"), "escalate", 1)
    assert next_effect(REVIEW_TIMER, due, WEEKDAYS, after=last) is None


def test_without_repeat_there_is_one_escalation() -> None:
    submitted = SPEC.timer_for("submitted")
    assert walk(submitted, at("2027-01-11")) == [
        Effect(at("2027-01-08"), "remind"),
        Effect(at("2027-01-11"), "escalate", 1),
    ]


def test_no_timer_or_no_due_date_means_no_effect() -> None:
    assert next_effect(None, T0, WEEKDAYS) is None
    assert next_effect(REVIEW_TIMER, None, WEEKDAYS) is None
    assert next_effect(TimerSpec("draft"), T0, WEEKDAYS) is None
    # An auto trigger without a delay is not an effect.
    assert next_effect(TimerSpec("x", auto_trigger="auto_return"), T0, WEEKDAYS) is None


# -- properties -----------------------------------------------------------------------

durations = st.builds(
    Duration,
    days=st.integers(0, 40),
    working_days=st.integers(0, 15),
    hours=st.integers(0, 48),
)
timers = st.builds(
    TimerSpec,
    state=st.just("s"),
    remind_before=st.none() | durations,
    escalate_after=st.none() | durations,
    repeat_escalation=st.none() | durations,
    auto_trigger=st.none() | st.just("auto_return"),
    auto_after=st.none() | durations,
)
days = st.dates(min_value=date(2026, 12, 1), max_value=date(2028, 12, 31))
calendars = st.builds(
    BusinessCalendar,
    holidays=st.frozensets(days, max_size=40),
    extra_working_days=st.frozensets(days, max_size=5),
)
dues = st.datetimes(
    min_value=datetime(2027, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(timer=timers, due=dues, calendar=calendars)
def test_walking_the_timeline_is_strictly_increasing_and_ends(
    timer: TimerSpec, due: datetime, calendar: BusinessCalendar
) -> None:
    effects = walk(timer, due, calendar, limit=2 + MAX_ESCALATION_LEVEL)
    assert all(a < b for a, b in itertools.pairwise(effects))
    assert len(set(effects)) == len(effects)
    levels = [e.level for e in effects if e.kind == "escalate"]
    assert levels == list(range(1, len(levels) + 1))
    assert effects == reference_timeline(timer, due, calendar)


@settings(max_examples=150, deadline=None)
@given(due=dues, calendar=calendars, offset=st.integers(-20 * 24, 400 * 24))
def test_after_gives_the_first_effect_later_than_it(
    due: datetime, calendar: BusinessCalendar, offset: int
) -> None:
    assert REVIEW_TIMER is not None
    timeline = reference_timeline(REVIEW_TIMER, due, calendar)
    for kind, level in (("auto", 0), ("escalate", 7), ("remind", 0)):
        after = Effect(due + timedelta(hours=offset), kind, level)
        later = [e for e in timeline if e > after]
        expected = later[0] if later else None
        assert next_effect(REVIEW_TIMER, due, calendar, after=after) == expected


# -- the planner: task_for_state, remembered per start date ------------------------------

starts = st.lists(
    st.datetimes(
        min_value=datetime(2027, 1, 1), max_value=datetime(2027, 1, 20), timezones=st.just(UTC)
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(
    calendar=calendars,
    due=st.none() | durations,
    timer=timers,
    times=starts,
)
def test_the_planner_gives_what_task_for_state_gives(
    calendar: BusinessCalendar,
    due: Duration | None,
    timer: TimerSpec,
    times: list[datetime],
) -> None:
    """Whole days or hours, on one date or many: the remembered answer is the computed one."""
    review = SPEC.state("under_review")
    assert review.task is not None
    states = tuple(
        replace(s, task=replace(review.task, due=due)) if s.name == "under_review" else s
        for s in SPEC.states
    )
    timers_ = tuple(t for t in SPEC.timers if t.state != "under_review")
    spec = replace(SPEC, states=states, timers=(*timers_, replace(timer, state="under_review")))
    planner = TaskPlanner(calendar)
    # Each start twice, and starts on the same date at other times of day.
    for start in [*times, *times, *(t.replace(hour=(t.hour + 7) % 24) for t in times)]:
        for state in spec.state_names:
            for unit in (BRANCH, UNION):
                expected = task_for_state(spec, ORG, calendar, unit, state, start)
                assert planner.task_for_state(spec, ORG, unit, state, start) == expected


def test_the_planner_tells_definitions_apart_and_takes_a_given_due_time() -> None:
    planner = TaskPlanner(WEEKDAYS)
    slower = replace(
        SPEC,
        states=tuple(
            replace(s, task=replace(s.task, due=Duration(working_days=20)))
            if s.name == "under_review" and s.task
            else s
            for s in SPEC.states
        ),
    )
    fast = planner.task_for_state(SPEC, ORG, BRANCH, "under_review", T0)
    slow = planner.task_for_state(slower, ORG, BRANCH, "under_review", T0)
    assert fast.due_at == at("2027-01-18") and slow.due_at == at("2027-02-01")
    given_due = at("2027-04-30")
    task = planner.task_for_state(SPEC, ORG, BRANCH, "under_review", T0, given_due)
    assert task == task_for_state(SPEC, ORG, WEEKDAYS, BRANCH, "under_review", T0, given_due)
    assert task.due_at == given_due
