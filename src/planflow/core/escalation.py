"""What a due reminder or escalation does to a task, as plain Python.

The deadline processor claims a plan whose timer is due and asks
``timer_outcome`` what that timer means now: which audit action to record,
the task's new escalation level and unit, who to tell, and the next timer
of the task's timeline. The service then applies the outcome through the
one transition path. Nothing here touches storage or the clock.

Escalation goes to the same role at the next unit up the tree that has
someone in it (``OrgSnapshot.escalation_unit``), one level at a time. The
people there are told "escalated to you" (``escalate``); the people it left —
the original assignees and, from the second level on, those it was escalated
to before — are told "escalated away from you" (``escalated_away``): they may
still act, but it is no longer only theirs. Each person gets one of the two. At the top of the tree
the task stays where it is: the timer records that nobody is left above,
tells the current assignees, and the remaining escalations are dropped
from the timeline (an auto-action, if the definition has one, still runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from planflow.core.calendar import BusinessCalendar
from planflow.core.definitions.spec import TimerSpec
from planflow.core.notes import ESCALATION_AT_TOP, REMINDER_LATE, note
from planflow.core.org import OrgSnapshot
from planflow.core.task_planning import Effect, next_effect


@dataclass(frozen=True, slots=True)
class OpenTask:
    """A plan's task as the claimed row shows it."""

    plan_id: int
    plan_unit_id: int
    role: str
    unit_id: int | None
    escalated_unit_id: int | None
    level: int
    due_at: datetime | None
    #: The people who hold the task personally and have not decided yet (a
    #: transfer, added approvers: ``core.handover``); None when it is held by role.
    held_by: frozenset[int] | None = None


@dataclass(frozen=True)
class TimerOutcome:
    #: The audit action: remind | escalate | escalation_at_top
    action: str
    level: int
    escalated_unit_id: int | None
    recipients: tuple[int, ...]
    next: Effect | None
    detail: dict[str, Any] = field(default_factory=dict)
    #: The notification kind for the recipients (None: nobody is told).
    notify_kind: str | None = None
    #: Who the task was escalated away from (told with ``ESCALATED_AWAY``).
    away: tuple[int, ...] = ()


#: The notification of the people an escalation left (they may still act).
ESCALATED_AWAY = "escalated_away"


def timer_outcome(
    task: OpenTask,
    kind: str,
    at: datetime,
    now: datetime,
    timer: TimerSpec | None,
    org: OrgSnapshot,
    calendar: BusinessCalendar,
) -> TimerOutcome:
    """The outcome of the ``kind`` timer (remind | escalate) due ``at``, applied ``now``."""
    current = _current_assignees(task, org)
    due = task.due_at.isoformat() if task.due_at else None
    if kind == "remind":
        following = next_effect(timer, task.due_at, calendar, after=Effect(at, "remind"))
        detail: dict[str, Any] = {"due_at": due, "level": task.level}
        if task.due_at is not None and task.due_at <= now:
            # The scheduler was down past the due date: a reminder now is
            # noise. The trail says so; the escalation that follows tells people.
            detail["skipped"] = True
            detail["note"] = note(REMINDER_LATE)
            return TimerOutcome("remind", task.level, task.escalated_unit_id, (), following, detail)
        return TimerOutcome(
            "remind", task.level, task.escalated_unit_id, current, following, detail, "remind"
        )
    if kind != "escalate":
        raise ValueError(f"not a reminder or escalation: {kind!r}")
    level = task.level + 1
    start = task.escalated_unit_id or task.unit_id or task.plan_unit_id
    target = org.escalation_unit(task.role, start) if start in org.units else None
    if target is None:
        following = next_effect(
            timer, task.due_at, calendar, after=Effect(at, "escalate", level), escalations=False
        )
        detail = {"due_at": due, "level": task.level, "unit": _code(org, start)}
        detail["note"] = note(ESCALATION_AT_TOP, role=task.role)
        return TimerOutcome(
            "escalation_at_top",
            task.level,
            task.escalated_unit_id,
            current,
            following,
            detail,
            "escalate",
        )
    following = next_effect(timer, task.due_at, calendar, after=Effect(at, "escalate", level))
    people = org.holders(task.role, target) & org.active_users
    # A person who holds the role at the target too is told it came to them, once.
    left = set(_current_assignees(task, org)) - people
    detail = {
        "due_at": due,
        "level": level,
        "from_unit": _code(org, start),
        "to_unit": _code(org, target),
    }
    return TimerOutcome(
        "escalate",
        level,
        target,
        tuple(sorted(people)),
        following,
        detail,
        "escalate",
        tuple(sorted(left)),
    )


def effect_key(kind: str, plan_id: int, level: int, at: datetime, version: int) -> str:
    """The idempotency key of one timer effect on one plan version.

    Each applied effect moves the plan to a new version, so a second firing
    of the same timer carries the old version and finds its key taken.
    """
    return f"{kind}:{plan_id}:L{level}:{at:%Y%m%dT%H%M%S}:v{version}"


def _current_assignees(task: OpenTask, org: OrgSnapshot) -> tuple[int, ...]:
    """Who holds the task now: its personal holders (else the role where it waits),
    and the role where it was escalated to."""
    people: set[int] = set()
    if task.held_by is not None:
        people |= task.held_by
    elif task.unit_id is not None:
        people |= org.holders(task.role, task.unit_id)
    if task.escalated_unit_id is not None:
        people |= org.holders(task.role, task.escalated_unit_id)
    return tuple(sorted(people & org.active_users))


def _code(org: OrgSnapshot, unit_id: int | None) -> str | None:
    info = org.units.get(unit_id) if unit_id is not None else None
    return info.code if info else None
