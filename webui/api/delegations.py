"""Delegations through the API (委托): ``/api/v1/delegations``.

Each endpoint is one call of ``Planflow.delegations`` as the token's user:
list, add (for oneself, or with ``for_user`` as an administrator), end, and
the tasks the caller may act on now as someone's deputy. Dates are ISO days
(``YYYY-MM-DD``) read by the library, so a date that is none is refused
with the library's ``invalid_date`` and the field it was in (422), exactly
as on the web page and the command line. Reads need scope ``read``, changes
``write``.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint
from pydantic import BaseModel, Field
from spectree import Response as Responses

from ..users import planflow
from .auth import caller, require_scope
from .schemas import Problem, Strict, View
from .spec import validate

ERRORS = {"HTTP_403": Problem, "HTTP_404": Problem, "HTTP_422": Problem}
DELEGATION = "<int(max=2147483647):delegation_id>"
Username = Field(min_length=1, max_length=100)
Day = Field(min_length=1, max_length=40, description="A day, YYYY-MM-DD (the organisation's).")


class Delegation(View):
    id: int
    delegator: str
    deputy: str
    starts_on: date
    ends_on: date
    workflow: str | None = Field(description="Only this workflow's tasks (null: any).")
    role: str | None = Field(description="Only the tasks waiting for this role (null: any).")
    reason: str | None
    created_by: str
    created_at: datetime
    status: str = Field(description="scheduled, in_force or ended")
    ended_at: datetime | None
    ended_by: str | None


class Delegations(BaseModel):
    items: list[Delegation]


class DelegationQuery(Strict):
    for_user: str | None = Field(None, min_length=1, max_length=100)


class NewDelegation(Strict):
    deputy: str = Username
    starts_on: str = Day
    ends_on: str = Day
    for_user: str | None = Field(
        None, min_length=1, max_length=100, description="An administrator: whom it is for."
    )
    workflow: str | None = Field(None, min_length=1, max_length=64)
    role: str | None = Field(None, min_length=1, max_length=64)
    reason: str | None = Field(None, max_length=500)


class Ended(BaseModel):
    id: int
    ended: bool = Field(description="False when it had ended already.")


class OpenTask(View):
    """An open task of the delegator's (``TaskEntry``)."""

    plan_id: int
    plan_version: int
    title: str
    unit_code: str
    year: int
    state: str
    workflow: str
    role: str
    since: datetime | None
    due_at: datetime | None
    level: int


class DelegatedTask(View):
    task: OpenTask
    on_behalf_of: str = Field(description="Whom the caller acts for on it (username).")


class DelegatedTasks(BaseModel):
    items: list[DelegatedTask]


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/delegations", "delegations", list_delegations, methods=["GET"])
    bp.add_url_rule("/delegations", "add_delegation", add_delegation, methods=["POST"])
    bp.add_url_rule(
        f"/delegations/{DELEGATION}/end", "end_delegation", end_delegation, methods=["POST"]
    )
    bp.add_url_rule("/delegations/tasks", "delegated_tasks", delegated_tasks, methods=["GET"])


@validate(query=DelegationQuery, resp=Responses(HTTP_200=Delegations, **ERRORS), tags=["me"])
def list_delegations(query: DelegationQuery) -> Delegations:
    """The delegations the caller (or, for an administrator, ``for_user``) gave or received."""
    require_scope("read")
    found = planflow().delegations.list(caller(), for_user=query.for_user)
    return Delegations(items=[Delegation.model_validate(d) for d in found])


@validate(json=NewDelegation, resp=Responses(HTTP_200=Delegation, **ERRORS), tags=["me"])
def add_delegation(json: NewDelegation) -> Delegation:
    """Name a deputy for a range of days: for every task, or one workflow's or role's."""
    require_scope("write")
    done = planflow().delegations.add(
        caller(),
        json.deputy,
        json.starts_on,
        json.ends_on,
        for_user=json.for_user,
        workflow=json.workflow,
        role=json.role,
        reason=json.reason,
    )
    return Delegation.model_validate(done)


@validate(resp=Responses(HTTP_200=Ended, **ERRORS), tags=["me"])
def end_delegation(delegation_id: int) -> Ended:
    """End a delegation now (its delegator, its deputy or an administrator)."""
    require_scope("write")
    return Ended(id=delegation_id, ended=planflow().delegations.end(caller(), delegation_id))


@validate(resp=Responses(HTTP_200=DelegatedTasks, **ERRORS), tags=["me"])
def delegated_tasks() -> DelegatedTasks:
    """The open tasks the caller may act on now as someone's deputy, and for whom."""
    require_scope("read")
    found = planflow().delegations.tasks(caller())
    return DelegatedTasks(items=[DelegatedTask.model_validate(t) for t in found])
