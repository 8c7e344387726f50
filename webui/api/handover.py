"""Transfer, add an approver and CC through the API (转交, 加签, 抄送).

Each endpoint is one library call as the token's user (``Planflow.transfer``,
``add_approver``, ``cc``); refusals are the library's codes as problem
details (422 ``guard_failed`` with the refusal's code and parameters, 404
for a plan the caller may not see). Scope ``write``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint
from pydantic import Field
from spectree import Response as Responses

from ..users import planflow
from .auth import caller, require_scope
from .plans import PLAN, READ_ERRORS
from .schemas import Problem, Strict, View
from .spec import validate

#: A username, as the organisation spells it.
Username = Field(min_length=1, max_length=100)


class TransferRequest(Strict):
    to: str = Username
    comment: str | None = Field(None, max_length=4000)
    expected_version: int | None = Field(None, ge=1, le=2**31 - 1)


class AddApproverRequest(Strict):
    user: str = Username
    mode: Literal["before", "after", "alongside"]
    comment: str | None = Field(None, max_length=4000)
    expected_version: int | None = Field(None, ge=1, le=2**31 - 1)


class CcRequest(Strict):
    users: list[str] = Field(min_length=1, max_length=50)
    comment: str | None = Field(None, max_length=4000)


class HandoverDone(View):
    plan_id: int
    action: str
    version: int
    at: datetime
    notified: list[str] = Field(description="Who was told, by username.")


def register(bp: Blueprint) -> None:
    bp.add_url_rule(f"/plans/{PLAN}/transfer", "transfer", transfer, methods=["POST"])
    bp.add_url_rule(f"/plans/{PLAN}/add-approver", "add_approver", add_approver, methods=["POST"])
    bp.add_url_rule(f"/plans/{PLAN}/cc", "cc", cc, methods=["POST"])


WRITE = Responses(HTTP_200=HandoverDone, HTTP_404=Problem, HTTP_409=Problem, **READ_ERRORS)


@validate(json=TransferRequest, resp=WRITE, tags=["plans"])
def transfer(plan_id: int, json: TransferRequest) -> HandoverDone:
    """Hand the task the caller holds to another person, as the definition allows."""
    require_scope("write")
    done = planflow().transfer(plan_id, caller(), json.to, json.comment, json.expected_version)
    return HandoverDone.model_validate(done)


@validate(json=AddApproverRequest, resp=WRITE, tags=["plans"])
def add_approver(plan_id: int, json: AddApproverRequest) -> HandoverDone:
    """Add an approver before, after or alongside the caller, on this task only."""
    require_scope("write")
    done = planflow().add_approver(
        plan_id, caller(), json.user, json.mode, json.comment, json.expected_version
    )
    return HandoverDone.model_validate(done)


@validate(json=CcRequest, resp=WRITE, tags=["plans"])
def cc(plan_id: int, json: CcRequest) -> HandoverDone:
    """Copy people on the plan: told now, they may read it until it ends."""
    require_scope("write")
    return HandoverDone.model_validate(planflow().cc(plan_id, caller(), json.users, json.comment))
