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

import dataclasses
import functools
from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import ColumnElement, Connection, Row, not_
from sqlmodel import col

from planflow.services.inbox import task_clause
from planflow.storage.tables import Plan

from .access import OWN_UNIT_ROLES, Viewer, current_org, current_viewer
from .queue_views import QueueList, queue_lines
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


def _held(viewer: Viewer) -> list[tuple[str, int]]:
    return [(role, unit) for unit, role in viewer.roles if role not in OWN_UNIT_ROLES]


@functools.lru_cache(maxsize=256)
def _lists(viewer: Viewer) -> tuple[QueueList | None, QueueList | None]:
    """The statements of the two lists (None: the list is empty whatever the data).

    They depend on nothing but the roles and units in ``viewer`` (passed with
    ``user_id`` 0, so people holding the same roles share them), so a change
    of the organisation that matters gives a different viewer and new
    statements; nothing needs invalidating.
    """
    held = _held(viewer)
    mine = QueueList.where([task_clause(held)]) if held else None
    others = None
    if viewer.oversight:
        # "Not mine" first: in an overseer's part of the tree most open tasks are
        # theirs, and SQLite tests the terms in the order written.
        where: list[ColumnElement[bool]] = [
            not_(task_clause(held)),
            viewer.plan_filter(),
            col(Plan.revision) > 0,
            col(Plan.task_role).is_not(None),
            col(Plan.task_role).not_in(sorted(OWN_UNIT_ROLES)),
        ]
        if not viewer.oversees_all:
            where.append(col(Plan.unit_id).in_(sorted(viewer.oversight)))
        others = QueueList.where(where)
    return mine, others


def _read(
    conn: Connection, queue: QueueList | None, now: datetime, name: str
) -> tuple[list[Row[Any]], int, int]:
    """A page of one list, its total and the page number: the asked-for page, or the
    last one when that is past the end (the list got shorter)."""
    page = _page(name)
    if queue is None:
        return [], 0, page
    offset = (page - 1) * PAGE_SIZE
    rows = queue.page(conn, now, offset, PAGE_SIZE)
    # A page that is not full ends the list, so it tells the total; an empty
    # first page is an empty list. Only a full page, or one past the end, needs
    # the count.
    if 0 < len(rows) < PAGE_SIZE or (not rows and page == 1):
        return rows, offset + len(rows), page
    total = queue.total(conn)
    if rows:
        return rows, total, page
    if total:
        page = _last_page(total)
        rows = queue.page(conn, now, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    return rows, total, page


@bp.route("/")
def index() -> str:
    pf, user = planflow(), me()
    viewer = current_viewer(pf, user.id)
    org = current_org(pf)
    now = pf.clock.now()
    mine_list, others_list = _lists(dataclasses.replace(viewer, user_id=0))
    # One connection and transaction for both lists, not one per statement.
    with pf.db.read() as conn:
        mine, mine_total, mine_page = _read(conn, mine_list, now, "mine")
        others, others_total, others_page = _read(conn, others_list, now, "others")
    # A task is "escalated to me" when I hold its role where it was escalated, not where it waits.
    escalated_to_me = {r.id for r in mine if (r.task_unit_id, r.task_role) not in viewer.roles}
    return render_template(
        "reviews/index.html",
        mine=queue_lines(pf, org, mine, now, escalated_to_me),
        mine_total=mine_total,
        mine_page=mine_page,
        others=queue_lines(pf, org, others, now, set()),
        others_total=others_total,
        others_page=others_page,
        page_size=PAGE_SIZE,
        oversees=bool(viewer.oversight),
        now=now,
    )
