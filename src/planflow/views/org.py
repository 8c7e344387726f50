"""The organisation as views: units, users, roles, and deputies for people away (委托)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from planflow.views.plans import TaskEntry, UnitRef


@dataclass(frozen=True, slots=True)
class UnitView:
    """A unit of the organisation tree."""

    code: str
    name: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class UnitMoved:
    """A unit moved (``Planflow.org.move_unit``), and the open tasks that followed it."""

    unit: UnitRef
    #: The unit above it now (None: it is a root).
    parent: UnitRef | None
    #: Plans whose open task was routed again by the new tree, by id.
    rerouted: tuple[int, ...]
    #: Open tasks of the moved plans that were where the new tree sends them already.
    unchanged: int


@dataclass(frozen=True, slots=True)
class UserView:
    username: str
    display_name: str
    email: str
    language: str
    active: bool


@dataclass(frozen=True, slots=True)
class RoleView:
    """``username`` holds ``role`` at the unit ``unit``."""

    username: str
    role: str
    unit: str


@dataclass(frozen=True, slots=True)
class DelegationView:
    """A delegation (委托): ``deputy`` acts for ``delegator`` from ``starts_on`` to
    ``ends_on`` (the organisation's days, both inclusive) on the tasks of
    ``workflow`` / ``role`` (None: any). ``status`` is ``scheduled``, ``in_force``
    or ``ended`` (past its last day, or ``ended_at``, ended early by ``ended_by``)."""

    id: int
    delegator: str
    deputy: str
    starts_on: date
    ends_on: date
    workflow: str | None
    role: str | None
    reason: str | None
    created_by: str
    created_at: datetime
    status: str
    ended_at: datetime | None
    ended_by: str | None


@dataclass(frozen=True, slots=True)
class DelegatedTask:
    """An open task a deputy may act on now, and for whom (``Planflow.delegations.tasks``)."""

    task: TaskEntry
    on_behalf_of: str
