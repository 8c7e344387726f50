"""Blueprint ``dashboard``: what waits for me, and the plans I worked on lately.

Tasks come from the library's inbox (overdue and escalated first); a task
is overdue when its due time has passed on the library's clock.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlmodel import col

from planflow.storage.tables import Plan

from .access import current_viewer
from .plan_lists import plan_rows
from .users import me, planflow, require_login

bp = Blueprint("dashboard", __name__)
require_login(bp)

RECENT = 10


@bp.route("/")
def index() -> str:
    pf, user = planflow(), me()
    viewer = current_viewer(pf, user.id)
    tasks = pf.inbox.tasks(user.id, limit=50)
    return render_template(
        "dashboard/index.html",
        tasks=tasks,
        now=pf.clock.now(),
        recent=plan_rows(
            pf,
            [viewer.plan_filter()],
            [col(Plan.updated_at).desc(), col(Plan.id).desc()],
            limit=RECENT,
        ),
    )
