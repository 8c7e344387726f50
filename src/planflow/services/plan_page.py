"""Everything a plan's page shows one person, in one read (``Planflow.plan_page``).

A plan page shows the plan, its content, its trail, its comments, and what the
reader may do now: its actions (their own, and a delegator's as deputy), urge,
a return to an earlier step, the task holder's transfer, added approver and
CC. Asked one by one (``available_actions``, ``urge_option``,
``return_options``, ``handover_options`` …) each of those opens its own unit
of work and loads the plan again: about twenty statements a page. Here the
plan is loaded once, on one connection, with everything else read beside it
once (the task's parts, the CC rows, the trail, whose people's comments are
also the decisions' comments), and each answer is decided from that one load
by the same functions the separate reads use, so the two cannot disagree.

On PostgreSQL the reads run in autocommit mode (``Database.read``), as each
separate read did; on SQLite they share one deferred transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planflow.core.content.diff import ContentDiff
from planflow.core.content.model import PlanContent
from planflow.core.definitions.spec import StateSpec, WorkflowSpec
from planflow.core.engine import ActionOption
from planflow.core.guards import ACTED_ON
from planflow.core.org import OrgSnapshot
from planflow.core.work_states import content_editors, editable_states
from planflow.errors import NotFound
from planflow.services.content import comments_on, diff_of, revisions_on
from planflow.services.decision_comments import DecisionComment, decisions_in
from planflow.services.gestures import acted_on_fact, acted_on_from_trail, urge_option_of
from planflow.services.handover import holders_now, options_of
from planflow.services.plans import PlanService
from planflow.services.returns import return_targets
from planflow.storage import gesture_sql as gs
from planflow.storage import handover_sql as hs
from planflow.storage import plan_reads as pr
from planflow.storage import plan_store as ps
from planflow.storage.org_cache import current_generation, display_names
from planflow.storage.tables import Comment
from planflow.storage.tx import conn_tx, write_tx
from planflow.views import HandoverOptions, UrgeOption


@dataclass(frozen=True)
class PageRead:
    """What ``PlanPages.read`` loaded and decided, by id (the facade names it)."""

    #: The plan's view columns (``plan_reads.plan_view_row``) and its ``PlanRow``.
    view_row: Any
    row: ps.PlanRow
    spec: WorkflowSpec
    #: The organisation the decisions were taken in (the plan row's generation).
    org: OrgSnapshot
    #: One that names every person of ``records``, ``comments`` and ``cc``.
    naming: OrgSnapshot
    content: PlanContent
    records: list[Any]
    comments: list[Comment]
    decided: list[DecisionComment]
    actions: list[ActionOption]
    delegator: int | None
    #: Who approved in this round, in order, where the state counts approvals; else None.
    voters: list[int] | None
    diff: ContentDiff | None
    can_edit: bool
    urge: UrgeOption | None
    returns: tuple[StateSpec, ...]
    handover: HandoverOptions | None
    cc: list[hs.CcRow]
    #: Display names by username of everyone the above names.
    display: dict[str, str]


def counts_votes(spec: WorkflowSpec, state: str) -> bool:
    """Whether a transition out of ``state`` needs n of m approvals."""
    return any(t.quorum is not None for t in spec.transitions_from(state))


def may_edit_content(spec: WorkflowSpec, org: OrgSnapshot, row: ps.PlanRow, user_id: int) -> bool:
    """Whether the plan's state lets its content change and the user is one of its
    editors (``ContentAPI.is_editable`` and ``may_edit``)."""
    if row.state not in editable_states(spec):
        return False
    return any(user_id in org.assignees(ref, row.unit_id) for ref in content_editors(spec))


#: Whose delegation lets a deputy act on a task of a workflow and role, in an
#: organisation read as it is now (``Delegations.acting_for``: from its cache).
Deputies = Callable[[OrgSnapshot, int, str, "str | None"], list[int]]


class PlanPages:
    def __init__(self, plans: PlanService) -> None:
        self.plans = plans
        #: Set by the facade (the delegations' cache); None: read them (``delegators_for``).
        self.deputies: Deputies | None = None

    def read(
        self, plan_id: int, actor_id: int, lang: str = "en", *, mark_read: bool = False
    ) -> PageRead:
        """The page of ``plan_id`` as ``actor_id`` sees it; NotFound for a plan they may
        not see. ``mark_read``: their reading it counts as the CC receipt, as
        ``Handover.record_read`` (the only write, and only for an unread copy)."""
        service = self.plans
        db = service.db
        with db.read() as conn, conn_tx(conn) as tx:
            found = pr.plan_page_row(conn, plan_id)
            if found is None:
                raise NotFound("plan", plan_id)
            view_row, row = found
            org = service.org_cache.get(db, row.org_generation)
            if not service.viewers.get(org, actor_id).can_view(row):
                raise NotFound("plan", plan_id)
            spec = service.definitions.spec_for(db, row.workflow_name, row.workflow_version)
            content = PlanContent.from_dict(json.loads(ps.load_content(tx, plan_id)), year=row.year)
            records = pr.trail_rows(conn, plan_id)
            comments = comments_on(conn, plan_id)
            parts = service.task_parts(tx, row, spec)
            known: dict[str, object] = {}
            if service.guards.provider(ACTED_ON) is acted_on_fact:  # recall's: from the trail
                known[ACTED_ON] = acted_on_from_trail(records, row, spec)
            facts = service.facts_for(tx, row, spec, parts=parts, known=known)
            if self.deputies is not None:
                delegators = self.deputies(org, actor_id, row.workflow_name, row.task_role)
            else:
                delegators = service.delegators_for(tx, row, actor_id)
            cc = hs.load_cc(tx, plan_id)
            voters = (
                pr.voters(conn, plan_id, row.revision) if counts_votes(spec, row.state) else None
            )
            diff = None
            if row.revision >= 2:
                revisions = revisions_on(conn, plan_id, row.year)
                diff = diff_of(revisions, plan_id, row.revision - 1, row.revision)
            holders = holders_now(row, org, parts)
            now = service.clock.now()
            urge = urge_option_of(
                spec, org, row, actor_id, holders, now, lambda: gs.task_mark(tx, plan_id)
            )
            actions, delegator = service.actions_for(spec, facts, actor_id, delegators, org, lang)
            handover = options_of(spec, org, row, actor_id, parts)
            decided = decisions_in(records, spec)
            people = {r.actor_id for r in records} | {r.on_behalf_of_id for r in records}
            people |= {c.author_id for c in comments} | {c.user_id for c in cc}
            people |= {c.added_by for c in cc} | set(voters or ())
            naming = org
            if any(u is not None and u not in org.usernames for u in people):
                # Someone who acted since the plan was read: the organisation moved on.
                naming = service.org_cache.get(db, current_generation(conn))
            named = {naming.usernames.get(u) for u in people | {delegator} if u is not None}
            if handover is not None:
                named |= {*handover.transfer_to, *handover.holders, *handover.suggested}
            wanted = sorted(n for n in named if n)
            display = display_names(conn, wanted) if wanted else {}
        if mark_read and any(_unread(c, actor_id) for c in cc):
            with write_tx(db) as wtx:
                marked = hs.mark_read(wtx, plan_id, actor_id, now)
            if marked:
                cc = [c._replace(read_at=now) if _unread(c, actor_id) else c for c in cc]
        return PageRead(
            view_row=view_row,
            row=row,
            spec=spec,
            org=org,
            naming=naming,
            content=content,
            records=records,
            comments=comments,
            decided=decided,
            actions=actions,
            delegator=delegator,
            voters=voters,
            diff=diff,
            can_edit=may_edit_content(spec, org, row, actor_id),
            urge=urge,
            returns=return_targets(spec, org, row, actor_id),
            handover=handover,
            cc=cc,
            display=display,
        )


def _unread(row: hs.CcRow, user_id: int) -> bool:
    return row.user_id == user_id and row.read_at is None and row.active
