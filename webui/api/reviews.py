"""A reviewer's gestures through the API: return to a chosen step, bulk approve/return.

One library call each as the token's user (``Planflow.return_to``,
``Planflow.bulk``): the rules are the library's, as on the web page and the
command line. A bulk answers 200 with one outcome per plan, done or refused
with its code and params; only a selection that cannot be meant is a 422.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint
from pydantic import BaseModel, Field
from spectree import Response as Responses

from ..users import planflow
from .auth import caller, require_scope
from .schemas import FireResult, Problem, Strict
from .spec import validate

PLAN = "<int(max=2147483647):plan_id>"
READ_ERRORS = {"HTTP_403": Problem, "HTTP_422": Problem}
_ID = Field(ge=1, le=2**31 - 1)


def register(bp: Blueprint) -> None:
    bp.add_url_rule(f"/plans/{PLAN}/return-to", "return_to", return_to, methods=["POST"])
    bp.add_url_rule("/plans/bulk", "bulk", bulk, methods=["POST"])


class ReturnRequest(Strict):
    state: str = Field(min_length=1, max_length=64, description="The earlier state to go to.")
    comment: str = Field(min_length=1, max_length=4000, description="Why (required).")
    expected_version: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="The version you saw; a plan changed since answers 409 and writes nothing.",
    )


class BulkItem(Strict):
    plan_id: int = _ID
    expected_version: int = Field(ge=1, le=2**31 - 1, description="The version you saw.")


class BulkRequest(Strict):
    action: Literal["approve", "return"]
    items: list[BulkItem] = Field(min_length=1, max_length=100)
    comment: str | None = Field(None, max_length=4000)
    return_to: str | None = Field(
        None, min_length=1, max_length=64, description="return: the earlier state to go to."
    )


class BulkOutcome(BaseModel):
    plan_id: int
    done: bool
    to_state: str | None = None
    version: int | None = None
    code: str | None = Field(None, description="Why refused: a code of docs/codes.md.")
    params: dict[str, Any] = Field(default_factory=dict)


class BulkResult(BaseModel):
    items: list[BulkOutcome]


@validate(
    json=ReturnRequest,
    resp=Responses(HTTP_200=FireResult, HTTP_404=Problem, HTTP_409=Problem, **READ_ERRORS),
    tags=["plans"],
)
def return_to(plan_id: int, json: ReturnRequest) -> FireResult:
    """Send the plan back to an earlier state its definition allows (退回到指定节点).

    Only the holders of the plan's task; a state the definition does not allow
    is 422 with ``return_target_not_allowed``. Scope ``write``.
    """
    require_scope("write")
    done = planflow().return_to(
        plan_id, json.state, caller(), json.comment, expected_version=json.expected_version
    )
    return FireResult.model_validate(done)


@validate(json=BulkRequest, resp=Responses(HTTP_200=BulkResult, **READ_ERRORS), tags=["plans"])
def bulk(json: BulkRequest) -> BulkResult:
    """Approve or return several plans, each its own transition with its own checks.

    One outcome per plan in the order sent: done (its new state and version)
    or refused (code and params; a plan changed since is ``stale_version``).
    A plan twice in the selection is 422 and nothing is done. Scope ``write``.
    """
    require_scope("write")
    items = [(i.plan_id, i.expected_version) for i in json.items]
    outcomes = planflow().bulk(items, json.action, caller(), json.comment, return_to=json.return_to)
    return BulkResult(
        items=[
            BulkOutcome(
                plan_id=o.plan_id,
                done=o.done,
                to_state=o.to_state,
                version=o.version,
                code=o.code,
                params=dict(o.params),
            )
            for o in outcomes
        ]
    )
