"""A plan as a view, and the lists a plan appears in: pages, the review queue, tasks.

``PlanView`` is one plan as it is now; ``PlanSummary`` its line in a list,
without the content; ``Page`` a page of any list; ``ReviewQueue`` a
reviewer's plans, theirs and others'; ``TaskEntry`` an open task of one
person, and ``NotificationEntry`` what they were told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit of the organisation, by its stable code and its current name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class OpenTask:
    """What a plan waits for: the holders of ``role`` at ``unit`` must act.

    After an escalation (``level`` > 0) the holders of the role at
    ``escalated_to`` may act as well.
    """

    role: str
    unit: UnitRef | None
    escalated_to: UnitRef | None
    since: datetime | None
    due_at: datetime | None
    level: int

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now


@dataclass(frozen=True, slots=True)
class PlanView:
    """One plan as it is now (without its content: ``pf.content.content``)."""

    id: int
    unit: UnitRef
    year: int
    title: str
    workflow: str
    workflow_version: int
    state: str
    #: The optimistic lock: pass it as ``expected_version`` to act on what you saw.
    version: int
    #: Frozen submissions so far (0: never submitted).
    revision: int
    item_count: int
    task: OpenTask | None
    created_by: str | None
    submitted_by: str | None
    #: Grade of the last finished inspection.
    grade: str | None
    created_at: datetime
    updated_at: datetime
    #: What the scheduler does next about the open task (remind, escalate, auto), and when.
    next_timer: str | None = None
    next_timer_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """A plan in a list: what a row shows, read without the content."""

    id: int
    unit: UnitRef
    year: int
    title: str
    workflow: str
    workflow_version: int
    state: str
    version: int
    revision: int
    task: OpenTask | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a longer list; ``number`` counts from 1."""

    items: tuple[T, ...]
    number: int
    size: int
    #: Whether a page follows this one.
    more: bool
    #: How many there are in all, where the list counts them (None: not counted).
    total: int | None = None


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A plan on a review queue, with the task it waits on."""

    plan: PlanSummary
    task: OpenTask
    #: True when the user sees this task because it was escalated to them.
    escalated_to_you: bool


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    """The review queue of someone who oversees part of the tree.

    ``mine``: the plans whose open task the user may act on in an oversight
    role (reviewer, committee member, inspector, officer, ...), where the task
    waits or where it was escalated to. ``others``: submitted plans of the
    units the user oversees that wait for someone else in such a role. Both
    are ordered escalated first (highest level first), then overdue, then the
    longest waiting.
    """

    mine: Page[QueueEntry]
    others: Page[QueueEntry]
    #: Whether the user oversees any unit (else ``others`` is always empty).
    oversees: bool
    #: The open tasks, in an oversight role, of people the user stands in for now
    #: (each with ``on_behalf_of``), none of them also in ``mine``.
    for_others: tuple[TaskEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskEntry:
    """An open task of one person (``Planflow.tasks``)."""

    plan_id: int
    plan_version: int
    title: str
    unit_code: str
    unit_name: str
    year: int
    state: str
    workflow: str
    workflow_version: int
    role: str
    since: datetime | None
    due_at: datetime | None
    level: int
    #: True when the user sees this task because it was escalated to them.
    escalated_to_me: bool
    #: The plan's last change (a calendar feed's LAST-MODIFIED).
    updated_at: datetime | None = None
    #: The person away whose task this is, when the user acts on it as their
    #: deputy (``Planflow.delegations.open_tasks``); None: the user's own task.
    on_behalf_of: str | None = None

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now


@dataclass(frozen=True, slots=True)
class NotificationEntry:
    """An in-app notification: ``kind`` (an action, ``remind``, ``escalate``, ...) and
    what it is about in ``payload``."""

    id: int
    plan_id: int | None
    kind: str
    payload: Mapping[str, Any]
    created_at: datetime
    read_at: datetime | None
