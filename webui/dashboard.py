"""Blueprint ``dashboard``: what waits for me, and the plans I worked on lately.

Tasks come from the library's inbox (escalated and overdue first); a task
is overdue when its due time has passed on the library's clock. The plans
whose task the user has done their part of (a committee vote, an approved
part) are no longer tasks; they are listed apart, waiting for others
(``Planflow.inbox.followed``). The recent
plans are the library's list of the plans the user may see, last changed
first.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from .access import current_org
from .plan_lists import plan_rows
from .users import me, planflow, require_login

bp = Blueprint("dashboard", __name__)
require_login(bp)

RECENT = 10


@bp.route("/")
def index() -> str:
    pf, user = planflow(), me()
    recent = pf.plans(as_user=user.username, order="recent", page_size=RECENT, org=current_org(pf))
    tasks = pf.inbox.tasks(user.username, limit=50, org=current_org(pf))
    # Plans they did their part of (a vote, an approved part) that wait for others.
    followed = pf.inbox.followed(user.username, limit=50)
    # A deputy's tasks name the person away; a display name only then (no read otherwise).
    away = [t.on_behalf_of for t in tasks if t.on_behalf_of]
    return render_template(
        "dashboard/index.html",
        tasks=tasks,
        followed=followed,
        people=pf.display_names(away) if away else {},
        now=pf.clock.now(),
        recent=plan_rows(pf, recent.items),
    )
