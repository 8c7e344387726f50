"""The JSON shapes of the HTTP API: requests, responses and problems.

These pydantic models are the API's contract and the source of its OpenAPI
document (``spectree`` reads them); they are built from the library's
frozen views (``planflow.views``) and never from database rows. Dates are
ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from planflow.views import ActionOption, PlanView, TaskEntry

#: The largest page the list endpoints return.
MAX_PAGE_SIZE = 200


class Strict(BaseModel):
    # Unknown fields are refused, so that a misspelt field is not silently ignored.
    model_config = ConfigDict(extra="forbid")


class View(BaseModel):
    """A response read from one of the library's frozen views, attribute by attribute.

    ``View.model_validate(view)`` copies the fields this model declares (nested
    views too), so a response model lists what the API promises and nothing is
    copied by hand.
    """

    model_config = ConfigDict(from_attributes=True)


class Unit(View):
    code: str
    name: str


class Task(View):
    """What the plan waits for: the holders of ``role`` at ``unit`` must act."""

    role: str
    unit: Unit | None
    escalated_to: Unit | None
    since: datetime | None
    due_at: datetime | None
    level: int


class PlanItem(View):
    """A plan in a list."""

    id: int
    title: str
    year: int
    unit: Unit
    workflow: str
    workflow_version: int
    state: str
    version: int = Field(description="Pass it as expected_version to act on what you saw.")
    revision: int
    task: Task | None
    updated_at: datetime


class Refusal(View):
    code: str
    params: dict[str, Any]
    message: str


class Action(BaseModel):
    """An action of the plan's current state that the caller holds the role for.

    ``ready`` false: checks would refuse it now; ``blocked_by`` says which.
    """

    action: str
    label: str
    ready: bool
    blocked_by: list[Refusal]

    @classmethod
    def of(cls, option: ActionOption) -> Action:
        return cls(
            action=option.trigger,
            label=option.label,
            ready=option.ready,
            blocked_by=[Refusal.model_validate(r) for r in option.blocked_by],
        )


class Plan(PlanItem):
    """One plan as the caller may see it, with what the caller may do on it."""

    item_count: int
    created_by: str | None
    submitted_by: str | None
    grade: str | None
    created_at: datetime
    actions: list[Action] = Field(default_factory=list)

    @classmethod
    def of_view(cls, plan: PlanView, actions: list[ActionOption]) -> Plan:
        return cls.model_validate(plan).model_copy(
            update={"actions": [Action.of(a) for a in actions]}
        )


class PlanPage(BaseModel):
    items: list[PlanItem]
    page: int
    page_size: int
    has_more: bool


class PlanQuery(Strict):
    state: str | None = Field(None, max_length=64)
    year: int | None = Field(None, ge=2000, le=2100)
    unit: str | None = Field(None, max_length=64, description="A unit's code: its plans only.")
    q: str | None = Field(None, max_length=200, description="Text in the title.")
    order: Literal["year", "recent", "id"] = "year"
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class NewPlan(Strict):
    unit: str = Field(min_length=1, max_length=64, description="The unit's code.")
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=300)
    workflow: str = Field("annual_plan", min_length=1, max_length=64)


class FireRequest(Strict):
    expected_version: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="The version you saw; a plan changed since answers 409 and writes nothing.",
    )
    comment: str | None = Field(None, max_length=4000)


class FireResult(View):
    plan_id: int
    action: str
    from_state: str | None
    to_state: str
    version: int
    moved: bool
    quorum: list[int] | None = Field(None, description="[approvals so far, approvals required]")


class UrgeRequest(Strict):
    comment: str | None = Field(None, max_length=4000)


class UrgeDone(View):
    plan_id: int
    version: int
    at: datetime
    notified: list[str] = Field(description="Who was reminded, by username.")


class MyTask(BaseModel):
    plan_id: int
    plan_version: int
    title: str
    unit: Unit
    year: int
    state: str
    workflow: str
    role: str
    since: datetime | None
    due_at: datetime | None
    level: int
    escalated_to_me: bool
    #: The person away the caller acts for on this task, as their deputy (None: theirs).
    on_behalf_of: str | None = None

    @classmethod
    def of(cls, t: TaskEntry) -> MyTask:
        return cls(
            plan_id=t.plan_id,
            plan_version=t.plan_version,
            title=t.title,
            unit=Unit(code=t.unit_code, name=t.unit_name),
            year=t.year,
            state=t.state,
            workflow=t.workflow,
            role=t.role,
            since=t.since,
            due_at=t.due_at,
            level=t.level,
            escalated_to_me=t.escalated_to_me,
            on_behalf_of=t.on_behalf_of,
        )


class MyTasks(BaseModel):
    items: list[MyTask]


class FieldProblem(BaseModel):
    """A field that did not fit: ``code`` (pydantic's error type, or ``file``, ``both``)
    and its ``params`` (``max_length``, ``ge`` …) are for clients to word; ``message``
    is worded in the request's language where the code is known."""

    field: str
    message: str
    code: str
    params: dict[str, Any] = Field(default_factory=dict)


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``).

    ``code`` and ``params`` are the library's stable refusal code and its
    values (docs/codes.md): a client words them in its reader's language.
    """

    type: str
    title: str
    status: int
    detail: str
    code: str
    params: dict[str, Any] = Field(default_factory=dict)
    errors: list[FieldProblem] = Field(default_factory=list)
    current_version: int | None = Field(
        None,
        description="With stale_version (409) only: the plan's version now; read it again.",
    )
