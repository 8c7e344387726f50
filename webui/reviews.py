"""Blueprint ``reviews``: the review queue of someone who oversees part of the tree.

Which plans are on the queue, in which order, is the library's rule
(``Planflow.review_queue``, ``planflow.services.review_queue``): the plans
waiting for the user in an oversight role, then the submitted plans of the
units they oversee that wait for someone else. This module reads the pages
asked for and renders them.

Nothing here changes anything: each row links to the plan page, where the
library offers the actions.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from .access import current_org
from .queue_views import queue_lines
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


@bp.route("/")
def index() -> str:
    pf, user = planflow(), me()
    now = pf.clock.now()
    queue = pf.review_queue(
        user.username,
        mine_page=_page("mine"),
        others_page=_page("others"),
        page_size=PAGE_SIZE,
        org=current_org(pf),  # the layout's too: read once a request
    )
    return render_template(
        "reviews/index.html",
        mine=queue_lines(pf, queue.mine.items, now),
        mine_total=queue.mine.total or 0,
        mine_page=queue.mine.number,
        others=queue_lines(pf, queue.others.items, now),
        others_total=queue.others.total or 0,
        others_page=queue.others.number,
        page_size=PAGE_SIZE,
        oversees=queue.oversees,
        now=now,
    )
