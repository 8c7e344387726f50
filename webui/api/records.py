"""A plan's content, revisions, comments and audit trail through the API.

Every endpoint first asks the library for the plan as the caller
(``Planflow.plan(..., as_user=...)``), which applies the one visibility
rule: a plan the caller may not see is 404 like a missing one, before any
of its records is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import Blueprint
from pydantic import BaseModel, Field
from spectree import Response as Responses

from planflow.core.content.model import PlanContent

from ..users import planflow
from .auth import caller, require_scope
from .schemas import Problem, Strict, View
from .spec import validate

PLAN = "<int(max=2147483647):plan_id>"
REVISION = "<int(max=2147483647):{}>"
ERRORS = {"HTTP_403": Problem, "HTTP_404": Problem, "HTTP_422": Problem}


class Content(BaseModel):
    """The plan's working content: sections of numbered items (workflows/README.md)."""

    plan_id: int
    version: int = Field(description="Pass it as expected_version to replace what you saw.")
    content: dict[str, Any] = Field(
        description="`sections`: each a `key`, `title` and `items`; an item has `key`, `text`, "
        "`owner_unit`, `due` (month 1-12 or a date) and `targets`, a list of "
        "`{metric, op, value, unit}` in the plan's order."
    )


class ContentUpdate(Strict):
    content: dict[str, Any] = Field(
        description="Sections of items, as GET returns it. An item's single `target` (the form "
        "before items held a list) is still accepted; send `targets` or `target`, not both."
    )
    expected_version: int | None = Field(None, ge=1, le=2**31 - 1)


class Comment(View):
    id: int = Field(
        description="The comment's id; for a `decision`, the audit record's `seq` (see /audit)."
    )
    author: str
    body: str
    item_key: str | None
    revision: int
    created_at: datetime
    kind: Literal["comment", "decision"] = Field(
        description="`comment`: written as a comment. `decision`: the comment given with a "
        "workflow action, such as the reason for a return or an approval note."
    )
    action: str | None = Field(
        description="For a `decision`: the action taken (a transition's trigger); else null."
    )
    state: str | None = Field(
        description="For a `decision`: the state the action left the plan in; else null."
    )


class Comments(BaseModel):
    items: list[Comment]


class NewComment(Strict):
    body: str = Field(min_length=1, max_length=4000)
    item_key: str | None = Field(None, max_length=64)


class Revision(BaseModel):
    number: int
    content_hash: str
    created_by: str | None
    created_at: datetime
    content: dict[str, Any]


class Revisions(BaseModel):
    items: list[Revision]


class Diff(BaseModel):
    plan_id: int
    old: int
    new: int
    changes: dict[str, Any]


class AuditRecord(View):
    seq: int
    at: datetime
    actor: str | None
    on_behalf_of: str | None
    action: str
    from_state: str | None
    to_state: str
    comment: str | None
    revision: int
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditTrail(BaseModel):
    plan_id: int
    items: list[AuditRecord]


class Saved(BaseModel):
    plan_id: int
    version: int


def register(bp: Blueprint) -> None:
    bp.add_url_rule(f"/plans/{PLAN}/content", "content", get_content, methods=["GET"])
    bp.add_url_rule(f"/plans/{PLAN}/content", "replace_content", put_content, methods=["PUT"])
    bp.add_url_rule(f"/plans/{PLAN}/comments", "comments", get_comments, methods=["GET"])
    bp.add_url_rule(f"/plans/{PLAN}/comments", "add_comment", post_comment, methods=["POST"])
    bp.add_url_rule(f"/plans/{PLAN}/revisions", "revisions", get_revisions, methods=["GET"])
    bp.add_url_rule(
        f"/plans/{PLAN}/revisions/{REVISION.format('old')}/diff/{REVISION.format('new')}",
        "diff",
        get_diff,
        methods=["GET"],
    )
    bp.add_url_rule(f"/plans/{PLAN}/audit", "audit", get_audit, methods=["GET"])


@validate(resp=Responses(HTTP_200=Content, **ERRORS), tags=["content"])
def get_content(plan_id: int) -> Content:
    """The plan's working content and the version to send back with a change."""
    pf = planflow()
    plan = pf.plan(plan_id, as_user=caller())
    return Content(
        plan_id=plan_id, version=plan.version, content=pf.content.content(plan_id).to_dict()
    )


@validate(
    json=ContentUpdate,
    resp=Responses(HTTP_200=Saved, HTTP_409=Problem, **ERRORS),
    tags=["content"],
)
def put_content(plan_id: int, json: ContentUpdate) -> Saved:
    """Replace the working content (drafters of the plan's unit, while it is editable).

    Every problem of the content is listed in ``params.details`` (422); a
    plan changed since ``expected_version`` answers 409. Scope ``write``.
    """
    require_scope("write")
    pf = planflow()
    plan = pf.plan(plan_id, as_user=caller())
    content = PlanContent.from_dict(json.content, year=plan.year)
    version = pf.content.set_content(
        plan_id, content, actor=caller(), expected_version=json.expected_version
    )
    return Saved(plan_id=plan_id, version=version)


@validate(resp=Responses(HTTP_200=Comments, **ERRORS), tags=["content"])
def get_comments(plan_id: int) -> Comments:
    """The comments on the plan and its items, with the decisions' comments, oldest first.

    A comment given with a workflow action (the reason for a return, an approval
    note) is listed too, as kind `decision` with its `action` and `state`.
    """
    pf = planflow()
    pf.plan(plan_id, as_user=caller())
    return Comments(items=[Comment.model_validate(c) for c in pf.content.comments(plan_id)])


@validate(json=NewComment, resp=Responses(HTTP_200=Saved, **ERRORS), tags=["content"])
def post_comment(plan_id: int, json: NewComment) -> Saved:
    """Comment on the plan, or on one item of it (``item_key``). Scope ``write``."""
    require_scope("write")
    version = planflow().content.add_comment(
        plan_id, json.body, actor=caller(), item_key=json.item_key
    )
    return Saved(plan_id=plan_id, version=version)


@validate(resp=Responses(HTTP_200=Revisions, **ERRORS), tags=["content"])
def get_revisions(plan_id: int) -> Revisions:
    """The content as frozen at each submission, first to last."""
    pf = planflow()
    pf.plan(plan_id, as_user=caller())
    return Revisions(
        items=[
            Revision(
                number=r.number,
                content_hash=r.content_hash,
                created_by=r.created_by,
                created_at=r.created_at,
                content=r.content.to_dict(),
            )
            for r in pf.content.revisions(plan_id)
        ]
    )


@validate(resp=Responses(HTTP_200=Diff, **ERRORS), tags=["content"])
def get_diff(plan_id: int, old: int, new: int) -> Diff:
    """What changed from revision ``old`` to revision ``new``, item by item."""
    pf = planflow()
    pf.plan(plan_id, as_user=caller())
    diff = pf.content.diff_revisions(plan_id, old, new)
    return Diff(plan_id=plan_id, old=old, new=new, changes=diff.to_dict())


@validate(resp=Responses(HTTP_200=AuditTrail, **ERRORS), tags=["audit"])
def get_audit(plan_id: int) -> AuditTrail:
    """The plan's hash-chained audit trail, first record first."""
    entries = planflow().audit_trail(plan_id, as_user=caller())
    return AuditTrail(
        plan_id=plan_id,
        items=[AuditRecord.model_validate(e) for e in entries],
    )
