"""``Planflow.content``: a plan's content, its frozen revisions, its comments.

Changes go through the audited path of ``services.content`` and return the
plan's new version (pass it as ``expected_version`` to change it again on
top of what you wrote). Whether a user may edit a plan now is the library's
rule too (``may_edit``), so every client offers the editor to the same
people it will accept a save from.
"""

from __future__ import annotations

from collections.abc import Sequence

from planflow.core.content.diff import ContentDiff
from planflow.core.content.model import PlanContent
from planflow.core.ids import require_plan_id
from planflow.core.org import OrgSnapshot
from planflow.core.work_states import content_editors, editable_states
from planflow.facade.names import Names
from planflow.services.content import PlanContentService
from planflow.services.decision_comments import DecisionComment, decision_comments
from planflow.storage.tables import Comment
from planflow.views import CommentView, PlanView, RevisionView


class ContentAPI:
    def __init__(self, service: PlanContentService, names: Names) -> None:
        self.service = service
        self.names = names

    def set_content(
        self,
        plan_id: int,
        content: PlanContent,
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> int:
        """Replace the plan's working content; returns the plan's new version.

        ``expected_version`` None overwrites whatever is there; a version refuses
        with ``StaleVersion`` when someone changed the plan since.
        """
        change = self.service.set_content(
            plan_id, self.names.user_id(actor), content, expected_version=expected_version
        )
        return change.new_version

    def add_comment(
        self, plan_id: int, body: str, *, actor: str, item_key: str | None = None
    ) -> int:
        """Comment on the plan (or on one of its items); returns the plan's new version."""
        change = self.service.add_comment(
            plan_id, self.names.user_id(actor), body, item_key=item_key
        )
        return change.new_version

    def content(self, plan_id: int) -> PlanContent:
        return self.service.content(plan_id)

    def revisions(self, plan_id: int) -> list[RevisionView]:
        require_plan_id(plan_id)
        found = self.service.revisions(plan_id)
        org = self.names.knowing(r.created_by for r in found)
        return [
            RevisionView(
                r.number,
                r.content,
                r.content_hash,
                org.usernames.get(r.created_by, "?") if r.created_by is not None else None,
                r.created_at,
            )
            for r in found
        ]

    def diff_revisions(self, plan_id: int, old: int, new: int) -> ContentDiff:
        require_plan_id(plan_id)
        return self.service.diff_revisions(plan_id, old, new)

    def comments(self, plan_id: int) -> list[CommentView]:
        """The plan's comments and its decisions' comments (kind ``decision``), oldest first.

        A return's reason or an approval note is a comment on the plan too: whoever
        reads the comments (page, API, command line) finds the reviewer's reasons there.
        """
        require_plan_id(plan_id)
        found = self.service.comments(plan_id)
        decided = decision_comments(self.service.service, plan_id)
        org = self.names.knowing([c.author_id for c in found] + [d.actor_id for d in decided])
        return comment_views(org, found, decided)

    def may_edit(self, plan: PlanView, username: str) -> bool:
        """Whether ``username`` is one of the plan's content editors (whatever its state)."""
        spec = self.service.service.definitions.spec_for(
            self.service.service.db, plan.workflow, plan.workflow_version
        )
        org = self.names.org()
        user_id = self.names.user_id(username)
        unit_id = self.names.unit_id(plan.unit.code)
        return any(user_id in org.assignees(ref, unit_id) for ref in content_editors(spec))

    def is_editable(self, plan: PlanView) -> bool:
        """Whether the plan's state lets its content change."""
        spec = self.service.service.definitions.spec_for(
            self.service.service.db, plan.workflow, plan.workflow_version
        )
        return plan.state in editable_states(spec)


def comment_views(
    org: OrgSnapshot, found: Sequence[Comment], decided: Sequence[DecisionComment]
) -> list[CommentView]:
    """The comments written and the decisions' comments, merged in the trail's order
    (``org`` names every author)."""
    written = [
        CommentView(
            c.id or 0,
            org.usernames.get(c.author_id, "?"),
            c.body,
            c.item_key,
            c.revision,
            c.created_at,
        )
        for c in found
    ]
    given = [
        CommentView(
            d.seq,
            org.usernames.get(d.actor_id, "?"),
            d.comment,
            None,
            d.revision,
            d.at,
            kind="decision",
            action=d.action,
            state=d.state,
        )
        for d in decided
    ]
    # In the trail's order: each decision after the comments written before it.
    merged: list[CommentView] = []
    taken = 0
    for decision, view in zip(decided, given, strict=True):
        merged += written[taken : decision.after_comments]
        taken = max(taken, decision.after_comments)
        merged.append(view)
    return merged + written[taken:]
