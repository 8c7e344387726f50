"""Plans as a user may see them: one plan, pages of plans, the review queue, the trail.

Every read that names a user (``as_user``) applies the one visibility rule
(``services.visibility``): a plan the user may not see answers exactly like
one that does not exist (``NotFound``), and lists hold only what they may
see. ``as_user=None`` reads without the rule, for trusted callers (the
command line without ``--as``, maintenance scripts).

Each read learns the organisation generation in the same round trip as its
rows, or just before them in the same transaction, so the rule and the
names in the views are those of the organisation as it is now.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from planflow.clock import Clock
from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound, ValidationError
from planflow.facade import convert
from planflow.facade.names import Names
from planflow.services import review_queue
from planflow.services.visibility import Viewer, ViewerCache
from planflow.storage import plan_reads as pr
from planflow.storage.db import Database
from planflow.views import AuditEntry, Page, PlanSummary, PlanView, QueueEntry, ReviewQueue

#: The largest page a list returns at once.
MAX_PAGE_SIZE = 1000
ORDERS = {"year": pr.YEAR_ORDER, "recent": pr.RECENT_ORDER, "id": (pr.p.id,)}


def _page_args(page: int, page_size: int) -> tuple[int, int]:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"a page holds 1-{MAX_PAGE_SIZE} plans, not {page_size}")
    return min(max(page, 1), review_queue.MAX_PAGE), page_size


class PlanReads:
    def __init__(
        self, db: Database, names: Names, clock: Clock, viewers: ViewerCache | None = None
    ) -> None:
        self.db = db
        self.names = names
        self.clock = clock
        self.viewers = viewers if viewers is not None else ViewerCache()

    def viewer(self, username: str, org: OrgSnapshot | None = None) -> Viewer:
        """What ``username`` may see, in ``org`` (default: the organisation as it is now)."""
        user_id = self.names.user_id(username)
        return self.viewers.get(org or self.names.current(), user_id)

    def plan(self, plan_id: int, as_user: str | None = None) -> PlanView:
        user_id = self.names.user_id(as_user) if as_user is not None else None
        with self.db.read() as conn:
            row = pr.plan_view_row(conn, plan_id)
        if row is None:
            raise NotFound("plan", plan_id)
        org = self.names.at(row.org_generation)
        if user_id is not None and not self.viewers.get(org, user_id).can_view(row):
            raise NotFound("plan", plan_id)
        return convert.plan_view(org, row)

    def check_visible(self, org: OrgSnapshot, row: Any, plan_id: int, as_user: str | None) -> None:
        """``NotFound`` unless ``as_user`` (None: anyone) may see the plan ``row``."""
        if as_user is None:
            return
        if not self.viewers.get(org, self.names.user_id(as_user)).can_view(row):
            raise NotFound("plan", plan_id)

    def plans(
        self,
        *,
        as_user: str | None,
        state: str | None = None,
        year: int | None = None,
        unit_code: str | None = None,
        search: str | None = None,
        order: str = "year",
        page: int = 1,
        page_size: int = 50,
        org: OrgSnapshot | None = None,
    ) -> Page[PlanSummary]:
        if order not in ORDERS:
            raise ValidationError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        page, size = _page_args(page, page_size)
        user_id = self.names.user_id(as_user) if as_user is not None else None
        where: list[ColumnElement[bool]] = []
        if state:
            where.append(pr.p.state == state)
        if year is not None:
            where.append(pr.p.year == year)
        if unit_code:
            where.append(pr.p.unit_id == self.names.unit_id(unit_code))
        if search:
            where.append(pr.p.title.icontains(search.strip(), autoescape=True))
        with self.db.read() as conn:
            if org is None:
                org = self.names.at(pr.org_generation(conn))
            if user_id is not None:
                where.insert(0, pr.visible_clause(self.viewers.get(org, user_id)))
            query = (
                select(*pr.SUMMARY_COLUMNS)
                .where(*where)
                .order_by(*ORDERS[order])
                .offset((page - 1) * size)
                .limit(size + 1)
            )
            rows = list(conn.execute(query))
        return Page(
            tuple(convert.plan_summary(org, r) for r in rows[:size]),
            number=page,
            size=size,
            more=len(rows) > size,
        )

    def has_review_queue(self, username: str, org: OrgSnapshot | None = None) -> bool:
        """Whether ``username``'s review queue can ever hold a plan, whatever the data.

        Its lists are built from the roles held (``review_queue.statements``):
        a drafter's or submitter's tasks, a returned plan's included, are
        theirs in "My work" (``Inbox.tasks``), never in the queue, so a menu
        offers the queue only to whom this answers True.
        """
        return any(s is not None for s in review_queue.statements(self.viewer(username, org)))

    def review_queue(
        self,
        username: str,
        *,
        mine_page: int = 1,
        others_page: int = 1,
        page_size: int = 50,
        org: OrgSnapshot | None = None,
    ) -> ReviewQueue:
        _page, size = _page_args(1, page_size)
        user_id = self.names.user_id(username)
        now = self.clock.now()
        # One connection and transaction for the generation and both lists.
        with self.db.read() as conn:
            if org is None:
                org = self.names.at(pr.org_generation(conn))
            viewer = self.viewers.get(org, user_id)
            mine_list, others_list = review_queue.statements(viewer)
            mine = review_queue.read_page(conn, mine_list, now, mine_page, size, user_id)
            others = review_queue.read_page(conn, others_list, now, others_page, size, user_id)

        def page(found: review_queue.QueuePage, to_me: bool) -> Page[QueueEntry]:
            entries = []
            for r in found.rows:
                summary = convert.plan_summary(org, r)
                assert summary.task is not None  # both lists hold plans with an open task
                entries.append(
                    QueueEntry(
                        summary, summary.task, to_me and review_queue.escalated_to(viewer, r)
                    )
                )
            more = found.number * size < found.total
            return Page(tuple(entries), found.number, size, more, found.total)

        return ReviewQueue(page(mine, True), page(others, False), bool(viewer.oversight))

    def audit_trail(self, plan_id: int, as_user: str | None = None) -> list[AuditEntry]:
        with self.db.read() as conn:
            if as_user is not None:
                row = pr.plan_view_row(conn, plan_id)
                if row is None:
                    raise NotFound("plan", plan_id)
                self.check_visible(self.names.at(row.org_generation), row, plan_id, as_user)
            records = pr.trail_rows(conn, plan_id)
            # Only a plan without records needs a look at the plan (its content can
            # be megabytes): does it exist at all?
            if not records and not pr.plan_exists(conn, plan_id):
                raise NotFound("plan", plan_id)
        people = {r.actor_id for r in records} | {r.on_behalf_of_id for r in records}
        org = self.names.knowing(people)
        return [convert.audit_entry(org, r) for r in records]
