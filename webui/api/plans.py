"""Plans through the API: list, one plan with its actions, fire an action; my tasks.

Each endpoint is one or two library calls as the token's user
(``planflow.Planflow``): the rules (who sees what, who may do what, the
guards, the version check) are the library's, so the API, the web UI and
the command line agree by construction.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from spectree import Response as Responses

from planflow.errors import NotFound

from ..i18n import current_language
from ..users import planflow
from .auth import caller, require_scope
from .errors import InvalidRequest
from .schemas import (
    FireRequest,
    FireResult,
    MyTask,
    MyTasks,
    NewPlan,
    Plan,
    PlanItem,
    PlanPage,
    PlanQuery,
    Problem,
    UrgeDone,
    UrgeRequest,
)
from .spec import api_spec, validate

#: Ids beyond what the database's integer holds match no address: a 404, not an overflow.
PLAN = "<int(max=2147483647):plan_id>"

#: Refusals any read may give; 401, 503 (and 400/415 for a body) are on every operation.
READ_ERRORS = {"HTTP_403": Problem, "HTTP_422": Problem}


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/openapi.json", "openapi", openapi)
    bp.add_url_rule("/docs", "docs", docs)
    bp.add_url_rule("/plans", "plans", list_plans, methods=["GET"])
    bp.add_url_rule("/plans", "create_plan", create_plan, methods=["POST"])
    bp.add_url_rule(f"/plans/{PLAN}", "plan", one_plan, methods=["GET"])
    bp.add_url_rule(
        f"/plans/{PLAN}/actions/<string(maxlength=64):action>",
        "fire",
        fire,
        methods=["POST"],
    )
    bp.add_url_rule(f"/plans/{PLAN}/urge", "urge", urge, methods=["POST"])
    bp.add_url_rule("/me/tasks", "my_tasks", my_tasks, methods=["GET"])
    bp.add_url_rule("/me/followed", "followed", followed, methods=["GET"])


def openapi() -> dict[str, object]:
    """The OpenAPI 3.1 document of this API."""
    return api_spec.document()


def docs() -> str:
    """The API's documentation page: Swagger UI (vendored) over ``openapi``."""
    return render_template("api/docs.html")


@validate(query=PlanQuery, resp=Responses(HTTP_200=PlanPage, **READ_ERRORS), tags=["plans"])
def list_plans(query: PlanQuery) -> PlanPage:
    """The plans the caller may see, filtered and a page at a time.

    The same list as the web UI's, by the same rule.
    """
    try:
        page = planflow().plans(
            as_user=caller(),
            state=query.state,
            year=query.year,
            unit_code=query.unit,
            search=query.q,
            order=query.order,
            page=query.page,
            page_size=query.page_size,
        )
    except NotFound as missing:
        if missing.kind != "unit":
            raise
        # The library's refusal as a field's: its code and params, worded by the reader's language.
        found = {"code": missing.code, "params": dict(missing.params)}
        raise InvalidRequest([{"field": "unit", "message": str(missing)} | found]) from None
    return PlanPage(
        items=[PlanItem.model_validate(p) for p in page.items],
        page=page.number,
        page_size=page.size,
        has_more=page.more,
    )


@validate(
    json=NewPlan, resp=Responses(HTTP_201=Plan, HTTP_404=Problem, **READ_ERRORS), tags=["plans"]
)
def create_plan(json: NewPlan) -> tuple[Plan, int]:
    """Start a plan at a unit for a year (drafters of that unit). Scope ``write``.

    It starts empty, in the definition's first state; fill it with
    ``PUT /plans/{plan_id}/content``.
    """
    require_scope("write")
    pf = planflow()
    plan_id = pf.create_plan(
        unit_code=json.unit,
        year=json.year,
        title=json.title,
        actor=caller(),
        workflow=json.workflow,
    )
    return plan_as_caller(plan_id), 201


@validate(resp=Responses(HTTP_200=Plan, HTTP_404=Problem, **READ_ERRORS), tags=["plans"])
def one_plan(plan_id: int) -> Plan:
    """One plan, with the actions of its state the caller holds the role for.

    An action with ``ready: false`` would be refused now; ``blocked_by``
    says why. A plan the caller may not see answers 404, like a missing one.
    """
    return plan_as_caller(plan_id)


def plan_as_caller(plan_id: int) -> Plan:
    pf = planflow()
    view = pf.plan(plan_id, as_user=caller())
    actions = pf.available_actions(plan_id, caller(), current_language())
    return Plan.of_view(view, actions)


@validate(
    json=FireRequest,
    resp=Responses(HTTP_200=FireResult, HTTP_404=Problem, HTTP_409=Problem, **READ_ERRORS),
    tags=["plans"],
)
def fire(plan_id: int, action: str, json: FireRequest) -> FireResult:
    """Take an action on a plan (submit, approve, return_for_revision …) as the caller.

    Send the ``version`` you saw as ``expected_version``: if the plan changed
    since, nothing is written and the answer is 409 with ``current_version``.
    A refusal by a guard is 422 with each reason's code in ``params``.
    Needs a token with scope ``write``.
    """
    require_scope("write")
    # A request with no body at all (and no content type): no comment, no version check.
    json = json or FireRequest()
    result = planflow().fire(
        plan_id,
        action,
        caller(),
        comment=json.comment,
        expected_version=json.expected_version,
    )
    return FireResult.model_validate(result)


@validate(
    json=UrgeRequest,
    resp=Responses(HTTP_200=UrgeDone, HTTP_404=Problem, **READ_ERRORS),
    tags=["plans"],
)
def urge(plan_id: int, json: UrgeRequest) -> UrgeDone:
    """Remind the holders of the plan's open task now (催办), as its submitter or drafter.

    At most once per task per the definition's interval: sooner is 422 with
    ``urge_too_soon`` and ``next_at``. Scope ``write``.
    """
    require_scope("write")
    json = json or UrgeRequest()
    return UrgeDone.model_validate(planflow().urge(plan_id, caller(), json.comment))


@validate(resp=Responses(HTTP_200=MyTasks, **READ_ERRORS), tags=["tasks"])
def my_tasks() -> MyTasks:
    """The caller's open tasks, escalated and overdue first."""
    entries = planflow().tasks(caller())
    return MyTasks(items=[MyTask.of(t) for t in entries])


@validate(resp=Responses(HTTP_200=MyTasks, **READ_ERRORS), tags=["tasks"])
def followed() -> MyTasks:
    """The open plans whose task the caller has done their part of and that wait for
    others (a vote in an n-of-m round, an approved part): no longer tasks, to follow."""
    entries = planflow().inbox.followed(caller())
    return MyTasks(items=[MyTask.of(t) for t in entries])
