"""Tasks and their timers, as plain Python.

Entering a waiting state gives the plan a task (who must act, where, by
when) and a timeline of timer effects from the definition: a reminder
before the due date, an escalation after it, repeated escalations up the
tree, and an optional automatic action. The plan row stores the task and
only the *next* effect of the timeline; after an effect is applied the
deadline processor asks ``next_effect`` for the one after it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from planflow.core.calendar import BusinessCalendar
from planflow.core.definitions.spec import RoleRef, TimerSpec, WorkflowSpec
from planflow.core.org import OrgSnapshot

#: Escalations stop at the top of the tree; this bounds a misconfigured loop.
MAX_ESCALATION_LEVEL = 50


class TaskState(NamedTuple):
    """The task columns of a plan row (all None when the state has no task)."""

    role: str | None = None
    unit_id: int | None = None
    since: datetime | None = None
    due_at: datetime | None = None
    level: int = 0
    timer_at: datetime | None = None
    timer_kind: str | None = None


NO_TASK = TaskState()


class Effect(NamedTuple):
    at: datetime
    kind: str  # remind | escalate | auto
    level: int = 0  # the escalation level this effect reaches (escalate only)


def next_effect(
    timer: TimerSpec | None,
    due_at: datetime | None,
    calendar: BusinessCalendar,
    *,
    after: Effect | None = None,
    not_before: datetime | None = None,
    escalations: bool = True,
) -> Effect | None:
    """The first effect of the task's timeline strictly after ``after``.

    The timeline: a reminder ``remind_before`` the due date, escalation to
    level 1 ``escalate_after`` it, then one more level every
    ``repeat_escalation`` (at most ``MAX_ESCALATION_LEVEL``), and the
    auto-action ``auto_after`` the due date. Only the part of the escalation
    chain up to ``after`` is computed: this runs on every transition.
    ``escalations=False`` leaves them out (the task reached the top of the
    tree: there is nobody further up to escalate to).
    """
    if timer is None or due_at is None:
        return None
    candidates: list[Effect] = []
    if timer.remind_before is not None:
        remind = Effect(calendar.subtract(due_at, timer.remind_before), "remind")
        # A reminder whose moment has already passed when the task starts is
        # pointless; escalations and auto-actions still apply late.
        if not_before is None or remind.at > not_before:
            candidates.append(remind)
    if timer.escalate_after is not None and escalations:
        escalation = Effect(calendar.add(due_at, timer.escalate_after), "escalate", 1)
        if timer.repeat_escalation is not None:
            while after is not None and escalation <= after:
                if escalation.level >= MAX_ESCALATION_LEVEL:
                    break
                escalation = Effect(
                    calendar.add(escalation.at, timer.repeat_escalation),
                    "escalate",
                    escalation.level + 1,
                )
        candidates.append(escalation)
    if timer.auto_trigger is not None and timer.auto_after is not None:
        candidates.append(Effect(calendar.add(due_at, timer.auto_after), "auto"))
    later = [e for e in candidates if after is None or e > after]
    return min(later) if later else None


def task_for_state(
    spec: WorkflowSpec,
    org: OrgSnapshot,
    calendar: BusinessCalendar,
    plan_unit_id: int,
    state: str,
    at: datetime,
    due_at: datetime | None = None,
) -> TaskState:
    """The task a plan gets on entering ``state`` at time ``at``.

    ``due_at`` overrides the definition's due time (a scheduled round sets
    its own, e.g. "due April 30").
    """
    task = spec.state(state).task
    if task is None:
        return NO_TASK
    # None when nobody holds the role where the definition looks: the task
    # still exists (role set, no unit) and shows as unassigned. It must not
    # fall back to the plan's own unit: that would let the wrong people act.
    unit_id = org.resolve(task.assignee, plan_unit_id)
    if due_at is None and task.due:
        due_at = calendar.add(at, task.due)
    first = next_effect(spec.timer_for(state), due_at, calendar, not_before=at)
    return TaskState(
        role=task.assignee.role,
        unit_id=unit_id,
        since=at,
        due_at=due_at,
        level=0,
        timer_at=first.at if first else None,
        timer_kind=first.kind if first else None,
    )


#: Start dates a planner remembers per state before it starts afresh.
MAX_REMEMBERED_STARTS = 4096


class _Offsets(NamedTuple):
    """A task's times as offsets from its start, for one (definition, state, start date)."""

    spec: WorkflowSpec  # held so that the identity in the key cannot be reused
    #: False when a duration has hours: the times depend on the time of day.
    whole_days: bool
    assignee: RoleRef | None
    due: timedelta | None
    timer: timedelta | None
    timer_kind: str | None


class TaskPlanner:
    """``task_for_state`` with each state's timeline remembered per start date.

    Entering a waiting state computes a due date and up to three timers from
    it: a few calendar steps and a comparison of the candidates, on every
    transition. When the state's durations are whole days, every one of
    those times is the start moved by whole days that depend on the start's
    date alone (``BusinessCalendar._shift``), so the planner remembers them
    as offsets and applies them to the next start on the same date. A state
    with hours in a duration, or a due time given by the caller, is
    computed afresh every time.
    """

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self._offsets: dict[tuple[int, str, date], _Offsets] = {}

    def task_for_state(
        self,
        spec: WorkflowSpec,
        org: OrgSnapshot,
        plan_unit_id: int,
        state: str,
        at: datetime,
        due_at: datetime | None = None,
    ) -> TaskState:
        if due_at is not None:
            return task_for_state(spec, org, self.calendar, plan_unit_id, state, at, due_at)
        key = (id(spec), state, at.date())
        known = self._offsets.get(key)
        if known is None or known.spec is not spec:
            # Computed in full: this answer, and the offsets for the next start.
            task = task_for_state(spec, org, self.calendar, plan_unit_id, state, at)
            self._remember(key, spec, state, at, task)
            return task
        if not known.whole_days:
            return task_for_state(spec, org, self.calendar, plan_unit_id, state, at)
        if known.assignee is None:
            return NO_TASK
        return TaskState(
            known.assignee.role,
            org.resolve(known.assignee, plan_unit_id),
            at,  # since
            None if known.due is None else at + known.due,
            0,  # level
            None if known.timer is None else at + known.timer,
            known.timer_kind,
        )

    def _remember(
        self,
        key: tuple[int, str, date],
        spec: WorkflowSpec,
        state: str,
        at: datetime,
        task: TaskState,
    ) -> None:
        spec_task = spec.state(state).task
        known = _Offsets(
            spec,
            _whole_days(spec, state),
            spec_task.assignee if spec_task else None,
            None if task.due_at is None else task.due_at - at,
            None if task.timer_at is None else task.timer_at - at,
            task.timer_kind,
        )
        if len(self._offsets) >= MAX_REMEMBERED_STARTS:
            self._offsets.clear()
        self._offsets[key] = known


def _whole_days(spec: WorkflowSpec, state: str) -> bool:
    """Whether every duration of the state's task and timer is in whole days."""
    task = spec.state(state).task
    timer = spec.timer_for(state)
    durations = [task.due if task else None]
    if timer is not None:
        durations += [timer.remind_before, timer.escalate_after, timer.auto_after]
    return all(d is None or d.hours == 0 for d in durations)
