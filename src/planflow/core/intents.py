"""What a change does to a plan, in domain words: the intents the service is given.

Every change to a plan goes through ``PlanService`` (``planflow.services.plans``),
which always moves the plan's version and audit head. What else the change
does to the plan is one of these intents; storage chooses the statement that
carries it out (``planflow.storage.plan_store.plan_update``), so no caller
names SQL:

- ``Note``: nothing else changes (a comment, scores, a visit, progress, evidence);
- ``Move``: a transition to another state, which gives the plan that state's
  task and first timer (``fire`` makes it from the engine's decision);
- ``ContentEdit``: the drafters' new content;
- ``TaskReroute``: the open task to another unit after the tree changed;
- ``DefinitionMigration``: the plan to another version of its definition;
- ``TimerStep``: a reminder or escalation applied by the deadline processor.

Beside the intent, a feature may contribute to the same transaction with a
``Step`` (``planflow.services.changes``): it checks, writes rows of its own and
returns an ``Addendum`` (audit detail, a notice) instead of steering the
commit. ``TimedEffect`` is what the scheduler adds when it fires a transition:
the effect's idempotency key and a due time other than the definition's.
Plain data; the pure core.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.task_planning import Effect


@dataclass(frozen=True, slots=True)
class Note:
    """The change is on the trail only: the plan row keeps its state, task and content."""


#: The one ``Note`` (it carries nothing).
NOTE = Note()


@dataclass(frozen=True, slots=True)
class Move:
    """A transition to another state; ``submitted_by`` is set on a submission."""

    submitted_by: int | None = None


@dataclass(frozen=True, slots=True)
class ContentEdit:
    """New content (canonical JSON) with the counts the guards read."""

    content_json: str
    item_count: int
    items_without_due: int


@dataclass(frozen=True, slots=True)
class TaskReroute:
    """The same open task at another unit, escalation reset, with its next timer."""

    task_unit_id: int | None
    next_timer: Effect | None


@dataclass(frozen=True, slots=True)
class DefinitionMigration:
    """The plan moves to ``target`` (another version of its definition), in ``to_state``."""

    target: WorkflowSpec
    to_state: str


@dataclass(frozen=True, slots=True)
class TimerStep:
    """A reminder or escalation: the task's level and unit, the timer after it.

    ``claimed_by`` is the scheduler that claimed the timer: the step applies
    only while that claim holds (and the plan is at the version it was read at).
    """

    level: int
    escalated_unit_id: int | None
    next_timer: Effect | None
    claimed_by: str


PlanUpdate = Note | Move | ContentEdit | TaskReroute | DefinitionMigration | TimerStep


@dataclass(frozen=True, slots=True)
class TimedEffect:
    """A transition fired by the system for a timer or a round.

    ``key`` makes a second application a no-op; ``due_at`` replaces the due
    time the definition gives the new state's task (a round's "due April 30");
    ``detail`` goes on the audit record.
    """

    key: str
    due_at: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Notice:
    """Notifications a change sends besides a transition's: kind, who, and what they say."""

    kind: str
    recipients: tuple[int, ...]
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Addendum:
    """What a ``Step`` adds to its change: audit detail and, optionally, a notice
    and the key that makes the change happen at most once (``applied_effect``)."""

    detail: Mapping[str, Any] = field(default_factory=dict)
    notice: Notice | None = None
    effect_key: str | None = None
