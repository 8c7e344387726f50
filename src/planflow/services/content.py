"""Plan content, revisions and comments, on the service's audited path.

Editing content and commenting are not workflow transitions, but they change
what a reviewer sees, so they go through ``PlanService.mutate``: the same
version check (a stale edit fails instead of overwriting someone's work)
and the same audit chain as a transition.

Content is editable in the definition's initial state and in every state
from which the plan can be (re)submitted: that is where its drafters own it.

When an edit first makes a draft submittable (it has items, each with a due
date, where before it had not), whoever may submit it — the branch chair — is
told the draft is ready (``draft_ready``), as the drafter would otherwise tell
them by hand. An edit by the submitter themselves tells nobody.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from planflow.core.audit_chain import sha256_hex
from planflow.core.content.diff import ContentDiff as ContentDiff
from planflow.core.content.diff import diff
from planflow.core.content.model import PlanContent
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.intents import Addendum, ContentEdit, Notice
from planflow.core.org import OrgSnapshot
from planflow.core.text import MAX_COMMENT as MAX_COMMENT
from planflow.core.text import clean_text
from planflow.core.work_states import content_editors as content_editors
from planflow.core.work_states import editable_states as editable_states
from planflow.errors import NotFound, PermissionDenied, ValidationError
from planflow.services.changes import Change, StepContext
from planflow.services.plans import PlanService
from planflow.storage import plan_store as ps
from planflow.storage.audit_keys import of_plan
from planflow.storage.tables import Comment, Plan, PlanRevision
from planflow.storage.tx import Tx, read_tx

comment_t = Comment.__table__  # type: ignore[attr-defined]
revision_t = PlanRevision.__table__  # type: ignore[attr-defined]
ps_plan = Plan.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Revision:
    number: int
    content: PlanContent
    content_hash: str
    created_by: int | None
    created_at: datetime


#: The notice to the submitter that a draft has become ready to submit.
DRAFT_READY = "draft_ready"


def submitters(
    spec: WorkflowSpec, org: OrgSnapshot, row: ps.PlanRow, actor_id: int
) -> tuple[int, ...]:
    """Who may submit the plan from its state (the submission's role there), not the actor."""
    people: set[int] = set()
    for t in spec.transitions:
        if t.submission and row.state in t.sources and t.actor is not None:
            people |= org.assignees(t.actor, row.unit_id)
    people.discard(actor_id)
    return tuple(sorted(p for p in people if p in org.active_users))


class PlanContentService:
    def __init__(self, service: PlanService) -> None:
        self.service = service

    def set_content(
        self, plan_id: int, actor_id: int, content: PlanContent, *, expected_version: int | None
    ) -> Change:
        body = content.canonical_json()

        def check(tx: Tx, row: ps.PlanRow, change: StepContext) -> Addendum | None:
            spec = change.spec
            if row.state not in editable_states(spec):
                raise ValidationError(
                    f"the content cannot be changed while the plan is {row.state!r}",
                    code="content_locked",
                    params={"state": row.state},
                )
            if content.year != row.year:
                raise ValidationError(
                    f"the content is for {content.year}, the plan for {row.year}",
                    code="content_year_mismatch",
                    params={"content_year": content.year, "plan_year": row.year},
                )
            org = change.org
            allowed = any(
                actor_id in org.assignees(ref, row.unit_id) for ref in content_editors(spec)
            )
            if not allowed:
                ref = spec.creator
                raise PermissionDenied("edit", ref.role, ref.at.describe())
            was_ready = row.item_count > 0 and row.items_without_due == 0
            if was_ready or content.item_count == 0 or content.items_without_due():
                return None
            told = submitters(spec, org, row, actor_id)
            if not told:
                return None
            return Addendum(notice=Notice(DRAFT_READY, told, {"items": content.item_count}))

        return self.service.mutate(
            plan_id,
            "edit_content",
            actor_id,
            ContentEdit(body, content.item_count, len(content.items_without_due())),
            check=check,
            expected_version=expected_version,
            detail={"content_hash": sha256_hex(body), "items": content.item_count},
        )

    def add_comment(
        self, plan_id: int, actor_id: int, body: str, *, item_key: str | None = None
    ) -> Change:
        text = clean_text(body, field="comment", max_length=MAX_COMMENT, multiline=True)
        if not text:
            raise ValidationError("a comment cannot be empty", code="comment_empty")

        def write(tx: Tx, row: ps.PlanRow, change: StepContext) -> None:
            # Whoever may see the plan may comment on it (services.visibility).
            if not self.service.viewers.get(change.org, actor_id).can_view(row):
                raise NotFound("plan", plan_id)
            if item_key is not None:
                content = self._content(tx, plan_id, row.year)
                if all(item.key != item_key for _n, _s, item in content.numbered_items()):
                    raise ValidationError(
                        f"the plan has no item {item_key!r}",
                        code="unknown_item",
                        params={"item": item_key},
                    )
            tx.run(
                ps.INSERT_COMMENT,
                {
                    "plan_id": plan_id,
                    "item_key": item_key,
                    "author_id": actor_id,
                    "body": text,
                    "revision": row.revision,
                    "created_at": tx.ts(change.at),
                },
            )

        return self.service.mutate(
            plan_id,
            "comment",
            actor_id,
            check=write,
            comment=text,
            detail={"item": item_key} if item_key else {},
        )

    def content(self, plan_id: int) -> PlanContent:
        with read_tx(self.service.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            return self._content(tx, plan_id, row.year)

    @staticmethod
    def _content(tx: Tx, plan_id: int, year: int) -> PlanContent:
        return PlanContent.from_dict(json.loads(ps.load_content(tx, plan_id)), year=year)

    def revisions(self, plan_id: int) -> list[Revision]:
        with self.service.db.read() as conn:
            year = conn.execute(select(ps_plan.c.year).where(ps_plan.c.id == plan_id)).scalar()
            if year is None:
                raise NotFound("plan", plan_id)
            return revisions_on(conn, plan_id, year)

    def diff_revisions(self, plan_id: int, old: int, new: int) -> ContentDiff:
        return diff_of(self.revisions(plan_id), plan_id, old, new)

    def comments(self, plan_id: int) -> list[Comment]:
        with self.service.db.read() as conn:
            return comments_on(conn, plan_id)


def revisions_on(conn: Connection, plan_id: int, year: int) -> list[Revision]:
    """The plan's frozen revisions, oldest first (``year``: the plan's, for due months)."""
    rows = conn.execute(
        select(revision_t).where(of_plan(revision_t.c.id, plan_id)).order_by(revision_t.c.id)
    )
    return [
        Revision(
            r.number,
            PlanContent.from_dict(json.loads(r.content), year=year),
            r.content_hash,
            r.created_by,
            r.created_at,
        )
        for r in rows
    ]


def diff_of(revisions: Sequence[Revision], plan_id: int, old: int, new: int) -> ContentDiff:
    """What changed from revision ``old`` to ``new`` among the plan's ``revisions``."""
    found = {r.number: r for r in revisions}
    for number in (old, new):
        if number not in found:
            raise NotFound("revision", f"{plan_id}/{number}")
    return diff(found[old].content, found[new].content)


#: One statement object for every call (the plan page reads the comments on every view).
_COMMENTS = (
    select(comment_t).where(comment_t.c.plan_id == bindparam("plan_id")).order_by(comment_t.c.id)
)


def comments_on(conn: Connection, plan_id: int) -> list[Comment]:
    """The plan's written comments, oldest first."""
    return [
        Comment.model_validate(dict(r._mapping))
        for r in conn.execute(_COMMENTS, {"plan_id": plan_id})
    ]
