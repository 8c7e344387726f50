"""W2's moments: when each of the M plans was created, submitted and is due.

The M review deadlines are spread evenly over the working time (Monday to
Friday, planflow's default calendar) of the 60 days from ``WINDOW_START``;
each plan's history goes back from its deadline as planflow's calendar
would have put it. Nothing is kept per plan: ``Timeline.plan(i)`` works
plan ``i`` out again. ``run_clock`` is the benchmark's "now", when about 1%
of the deadlines (``expected_overdue``) have passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from planflow.core.calendar import BusinessCalendar
from planflow.core.definitions.spec import Duration, TimerSpec, WorkflowSpec
from planflow.core.task_planning import Effect, next_effect

WORKFLOW = "annual_plan"
STATE = "under_review"
#: When the organisation is set up (before every plan's history).
ORG_AT = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
#: The deadlines are spread over the working time of the 60 days from here.
WINDOW_START = datetime(2027, 3, 1, tzinfo=UTC)  # a Monday
WINDOW_DAYS = 60
#: Before the review started: created, then submitted (as one plan's history).
CREATED_BEFORE = timedelta(hours=2)
SUBMITTED_BEFORE = timedelta(hours=1)


def expected_overdue(m: int) -> int:
    """How many of the M deadlines have passed at the benchmark's clock: 1%, at least one."""
    return max(1, m // 100)


def working_days(calendar: BusinessCalendar) -> list[date]:
    """The working days of the 60-day window."""
    days = (WINDOW_START.date() + timedelta(days=k) for k in range(WINDOW_DAYS))
    return [d for d in days if calendar.is_working_day(d)]


def deadline(i: int, m: int, days: list[date]) -> datetime:
    """The review deadline of plan ``i`` (0-based) of M, on ``days`` (``working_days``).

    The M deadlines are evenly spread over the working time of the window:
    strictly increasing, in whole microseconds, each on a working day.
    """
    day_us = 86_400 * 1_000_000
    offset = (2 * i + 1) * (len(days) * day_us) // (2 * m)
    day = days[offset // day_us]
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight + timedelta(microseconds=offset % day_us)


def deadlines(m: int, calendar: BusinessCalendar) -> Iterator[datetime]:
    days = working_days(calendar)
    return (deadline(i, m, days) for i in range(m))


@dataclass(frozen=True, slots=True)
class PlanHistory:
    """One plan's moments: created, submitted, review started, due, first escalation."""

    created: datetime
    submitted: datetime
    since: datetime
    due: datetime
    escalation: Effect


def history(
    due: datetime, review_due: Duration, timer: TimerSpec, calendar: BusinessCalendar
) -> PlanHistory:
    """The history of a plan whose review is due at ``due``.

    The review started ``review_due`` (10 working days) before, so that
    planflow's ``calendar.add(since, review_due)`` gives ``due`` back; the
    row's timer is the one planflow stores once the reminder has been sent.
    """
    since = calendar.subtract(due, review_due)
    if calendar.add(since, review_due) != due:
        raise ValueError(f"no review start gives the deadline {due}")
    after = None
    if timer.remind_before is not None:
        after = Effect(calendar.subtract(due, timer.remind_before), "remind")
    escalation = next_effect(timer, due, calendar, after=after)
    if escalation is None or escalation.kind != "escalate":
        raise ValueError(f"the timer after the reminder is not an escalation: {escalation}")
    return PlanHistory(
        created=since - CREATED_BEFORE,
        submitted=since - SUBMITTED_BEFORE,
        since=since,
        due=due,
        escalation=escalation,
    )


@dataclass(frozen=True)
class Timeline:
    """Everything that gives plan ``i`` of M its history (nothing per plan is kept)."""

    m: int
    review_due: Duration
    timer: TimerSpec
    calendar: BusinessCalendar
    days: list[date]

    @classmethod
    def of(cls, spec: WorkflowSpec, calendar: BusinessCalendar, m: int) -> Timeline:
        task = spec.state(STATE).task
        timer = spec.timer_for(STATE)
        if task is None or task.due is None or timer is None:
            raise ValueError(f"{spec.key}: {STATE} needs a task with a due time and a timer")
        return cls(m, task.due, timer, calendar, working_days(calendar))

    def plan(self, i: int) -> PlanHistory:
        """The history of plan ``i`` (0-based; its id is ``i + 1``)."""
        return history(deadline(i, self.m, self.days), self.review_due, self.timer, self.calendar)


def run_clock(timeline: Timeline) -> datetime:
    """The benchmark's now: after the first ``expected_overdue`` escalations, before the next."""
    overdue = expected_overdue(timeline.m)
    last = timeline.plan(overdue - 1).escalation.at
    if overdue == timeline.m:
        return last + timedelta(seconds=1)
    following = timeline.plan(overdue).escalation.at
    return last + (following - last) // 2
