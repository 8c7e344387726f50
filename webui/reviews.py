"""Blueprint ``reviews``: the review queue of someone who oversees part of the tree.

The page has two lists, each escalated first, then overdue, then the
longest waiting:

1. *Waiting for you*: the plans whose open task the user may act on, as
   the library's inbox finds them (``Inbox.tasks``: the role of the task,
   where it waits or where it was escalated to), in an oversight role
   (reviewer, committee member, inspector, officer, ...). A drafter's or
   submitter's own-unit tasks are on the dashboard, not here.
2. *Elsewhere in your part of the tree*: submitted plans of the units the
   user oversees (``access.Viewer``) that wait for someone else in such a
   role, so a federation's reviewer sees what the unions have pending and
   what is late.

Nothing here changes anything: each row links to the plan page, where the
library offers the actions.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import ColumnElement, not_
from sqlmodel import col

from planflow.inbox import task_clause
from planflow.storage.tables import Plan

from .access import OWN_UNIT_ROLES, current_viewer
from .queue_views import queue_count, queue_lines, queue_order, queue_rows
from .users import me, planflow, require_login

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
require_login(bp)

#: Rows per page of each list; a page of 50 reads well, also on a phone.
PAGE_SIZE = 50
MAX_PAGE = 10_000


def _page(name: str) -> int:
    """The page asked for in ``?name=``; anything odd is the first page."""
    page = request.args.get(name, 1, type=int)
    return min(max(page, 1), MAX_PAGE)


def _last_page(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


@bp.route("/")
def index() -> str:
    pf, user = planflow(), me()
    viewer = current_viewer(pf, user.id)
    now = pf.clock.now()
    order = queue_order(now)
    held = [(role, unit) for unit, role in viewer.roles if role not in OWN_UNIT_ROLES]
    mine_where: list[ColumnElement[bool]] = [task_clause(held)]
    mine_page = _page("mine")
    mine = queue_rows(pf, mine_where, order, offset=(mine_page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    mine_total = queue_count(pf, mine_where) if held else 0
    if not mine and mine_total:  # a page past the end (the list got shorter): the last one
        mine_page = _last_page(mine_total)
        mine = queue_rows(
            pf, mine_where, order, offset=(mine_page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    # A task is "escalated to me" when I hold its role where it was escalated, not where it waits.
    escalated_to_me = {row.id for row in mine if (row.task_unit_id, row.role) not in viewer.roles}
    others_page = _page("others")
    others = []
    others_total = 0
    if viewer.oversight:
        where: list[ColumnElement[bool]] = [
            viewer.plan_filter(),
            col(Plan.revision) > 0,
            col(Plan.task_role).is_not(None),
            col(Plan.task_role).not_in(sorted(OWN_UNIT_ROLES)),
            not_(task_clause(held)),
        ]
        if not viewer.oversees_all:
            where.append(col(Plan.unit_id).in_(sorted(viewer.oversight)))
        others = queue_rows(pf, where, order, offset=(others_page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        others_total = queue_count(pf, where)
        if not others and others_total:
            others_page = _last_page(others_total)
            others = queue_rows(
                pf, where, order, offset=(others_page - 1) * PAGE_SIZE, limit=PAGE_SIZE
            )
    return render_template(
        "reviews/index.html",
        mine=queue_lines(mine, now, escalated_to_me),
        mine_total=mine_total,
        mine_page=mine_page,
        others=queue_lines(others, now, set()),
        others_total=others_total,
        others_page=others_page,
        page_size=PAGE_SIZE,
        oversees=bool(viewer.oversight),
        now=now,
    )
