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

from flask import Blueprint, render_template
from sqlalchemy import ColumnElement
from sqlmodel import col

from planflow.storage.tables import Plan

from .access import OWN_UNIT_ROLES, current_viewer
from .plan_views import QueueRow, queue_order, queue_rows
from .users import me, planflow, require_login

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
require_login(bp)

#: The most rows each list shows.
LIMIT = 200


@bp.route("/")
def index() -> str:
    pf, user = planflow(), me()
    viewer = current_viewer(pf, user.id)
    now = pf.clock.now()
    tasks = [t for t in pf.inbox.tasks(user.id, limit=LIMIT + 1) if t.role not in OWN_UNIT_ROLES]
    escalated_to_me = {t.plan_id for t in tasks if t.escalated_to_me}
    mine: list[QueueRow] = []
    if tasks:
        ids = sorted(t.plan_id for t in tasks[:LIMIT])
        # The inbox decided which plans; read them again for the columns shown here.
        mine = queue_rows(pf, [col(Plan.id).in_(ids)], [col(Plan.id)], limit=LIMIT)
        mine.sort(key=lambda row: row.sort_key(now))
    others: list[QueueRow] = []
    if viewer.oversight:
        where: list[ColumnElement[bool]] = [
            viewer.plan_filter(),
            col(Plan.revision) > 0,
            col(Plan.task_role).is_not(None),
            col(Plan.task_role).not_in(sorted(OWN_UNIT_ROLES)),
        ]
        if not viewer.oversees_all:
            where.append(col(Plan.unit_id).in_(sorted(viewer.oversight)))
        if mine:
            where.append(col(Plan.id).not_in([row.id for row in mine]))
        others = queue_rows(pf, where, queue_order(now), limit=LIMIT + 1)
    return render_template(
        "reviews/index.html",
        mine=mine,
        more_mine=len(tasks) > LIMIT,
        escalated_to_me=escalated_to_me,
        others=others[:LIMIT],
        more_others=len(others) > LIMIT,
        oversees=bool(viewer.oversight),
        limit=LIMIT,
        now=now,
    )
