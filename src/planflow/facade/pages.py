"""Reading plans as a person does: a plan, its page, the lists, the review queue, tasks.

The reads themselves, with the visibility rule, are ``facade.plans``
(``PlanReads``) and ``services.plan_page``; this mixin offers them on
``Planflow`` and adds what joins several areas: the plan page's views, the
approvals of a round, and the review queue's ``for_others`` (the tasks of
the people a deputy stands in for, from ``facade.delegations``).
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from planflow.core.ids import require_plan_id
from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound, ValidationError
from planflow.facade import convert
from planflow.facade.base import FacadeBase
from planflow.facade.content import comment_views
from planflow.services.handover import receipts_of
from planflow.services.visibility import OWN_UNIT_ROLES
from planflow.storage import plan_reads
from planflow.views import (
    Page,
    PlanPage,
    PlanSummary,
    PlanView,
    ReturnOption,
    ReviewQueue,
    TaskEntry,
)


class PagesMixin(FacadeBase):
    def plan_page(
        self, plan_id: int, actor: str, lang: str = "en", *, mark_read: bool = False
    ) -> PlanPage:
        """Everything the plan's page shows ``actor``, in one read (``views.PlanPage``
        names the separate read each part equals): the plan is loaded once, and what
        ``actor`` may do (actions, urge, returns, the task holder's gestures) is
        decided from that one load. A plan ``actor`` may not see is ``NotFound``.

        ``mark_read``: ``actor`` is opening the page, so a CC of the plan to them
        counts as read (``record_cc_read``); the receipts show it.
        """
        read = self.services.pages.read(
            plan_id, self.names.user_id(actor), lang, mark_read=mark_read
        )
        org, naming = read.org, read.naming
        names = naming.usernames
        voters = None if read.voters is None else tuple(names.get(u, "?") for u in read.voters)
        return PlanPage(
            plan=convert.plan_view(org, read.view_row),
            content=read.content,
            trail=tuple(convert.audit_entry(naming, r) for r in read.records),
            comments=tuple(comment_views(naming, read.comments, read.decided)),
            actions=tuple(read.actions),
            on_behalf_of=None if read.delegator is None else org.usernames.get(read.delegator),
            approvals=voters,
            diff=read.diff,
            can_edit=read.can_edit,
            urge=read.urge,
            return_options=tuple(ReturnOption(s.name, s.label.get(lang)) for s in read.returns),
            handover=read.handover,
            receipts=tuple(receipts_of(naming, read.cc)),
            names=MappingProxyType(read.display),
        )

    def plan(self, plan_id: int, *, as_user: str | None = None) -> PlanView:
        """The plan as it is now; ``NotFound`` if there is none, or ``as_user`` may not see it."""
        require_plan_id(plan_id)
        return self._reads.plan(plan_id, as_user)

    def plans(
        self,
        *,
        as_user: str | None = None,
        state: str | None = None,
        year: int | None = None,
        unit_code: str | None = None,
        search: str | None = None,
        order: str = "year",
        page: int = 1,
        page_size: int = 50,
        org: OrgSnapshot | None = None,
    ) -> Page[PlanSummary]:
        """A page of the plans ``as_user`` may see (None: every plan), filtered.

        ``search`` finds words in the title (any case); ``order`` is ``"year"``
        (latest year, then newest plan, first), ``"recent"`` (last changed
        first) or ``"id"`` (oldest first). ``org``: the organisation as the
        caller read it a moment ago (``org_snapshot``), to apply the rule in
        without reading its generation again (None: read it now). A ``state``
        that no definition has is refused (``unknown_state``): a typo would
        otherwise read as "no such plans".
        """
        if state is not None:
            known = sorted(self.registry.state_names())
            if state not in known:
                raise ValidationError(
                    f"no workflow has a state {state!r}; the states are: {', '.join(known)}",
                    code="unknown_state",
                    params={"state": state, "known": known},
                )
        return self._reads.plans(
            as_user=as_user,
            state=state,
            year=year,
            unit_code=unit_code,
            search=search,
            order=order,
            page=page,
            page_size=page_size,
            org=org,
        )

    def approvals(self, plan_id: int, round: int | None = None) -> list[str]:
        """Who approved the plan in an n-of-m review round (``round``: the plan's revision
        then; None: the current round), by username, in the order they did."""
        require_plan_id(plan_id)
        with self.db.read() as conn:
            found = plan_reads.voters(conn, plan_id, round)
        if found is None:
            raise NotFound("plan", plan_id)
        org = self.names.knowing(found)
        return [org.usernames.get(u, "?") for u in found]

    def tasks(self, username: str, limit: int = 500) -> list[TaskEntry]:
        """The open tasks of ``username``, escalated and overdue first (``inbox.tasks``)."""
        return self.inbox.tasks(username, limit)

    def has_review_queue(self, username: str, *, org: OrgSnapshot | None = None) -> bool:
        """Whether ``username``'s review queue can hold a plan (a menu offers it then):
        they hold a role that reviews, decides or oversees somewhere, or they stand in
        for someone away whose review work is open now (``ReviewQueue.for_others``).

        A deputy with no such role of their own gets the queue while, and only while,
        it would show them something; their drafting tasks stay in "My work". For
        someone who is no one's deputy this reads nothing more (the delegations are
        cached by the organisation's generation)."""
        org = org or self.names.current()
        if self._reads.has_review_queue(username, org):
            return True
        return bool(self._for_others(username, org, frozenset()))

    def review_queue(
        self,
        username: str,
        *,
        mine_page: int = 1,
        others_page: int = 1,
        page_size: int = 50,
        org: OrgSnapshot | None = None,
    ) -> ReviewQueue:
        """The review queue of ``username`` (``views.ReviewQueue`` says what is on it);
        ``org`` as for ``plans``. ``for_others``: what they may act on as someone's
        deputy (``delegations.open_tasks``), in an oversight role, not already theirs."""
        org = org or self.names.current()  # once: the lists, the deputy's tasks
        queue = self._reads.review_queue(
            username,
            mine_page=mine_page,
            others_page=others_page,
            page_size=page_size,
            org=org,
        )
        found = self._for_others(username, org, frozenset(e.plan.id for e in queue.mine.items))
        return dataclasses.replace(queue, for_others=tuple(found)) if found else queue

    def _for_others(
        self, username: str, org: OrgSnapshot, on_page: frozenset[int]
    ) -> list[TaskEntry]:
        """The review queue's ``for_others``: the open tasks of the people ``username``
        stands in for that are review work and not theirs anyway (``on_page``: the
        plans of their own list's page)."""
        viewer = self._reads.viewer(username, org)
        units = org.unit_ids

        def theirs(t: TaskEntry) -> bool:
            # A drafter's or submitter's task is "My work", never the queue; one whose
            # role the deputy holds too is in ``mine`` already (maybe on another page).
            return (
                t.role in OWN_UNIT_ROLES
                or t.plan_id in on_page
                or (units.get(t.unit_code, 0), t.role) in viewer.roles
            )

        return self.delegations.open_tasks(username, theirs=theirs, org=org)
