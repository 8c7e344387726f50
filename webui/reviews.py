"""Blueprint ``reviews``: the review queue of someone who oversees part of the tree.

Which plans are on the queue, in which order, is the library's rule
(``Planflow.review_queue``, ``planflow.services.review_queue``): the plans
waiting for the user in an oversight role, then the submitted plans of the
units they oversee that wait for someone else. This module reads the pages
asked for and renders them.

Each row links to the plan page, where the library offers the actions. The
plans waiting for the user can also be approved or returned together: the
selection is confirmed on a page of its own (with the one comment), then
``Planflow.bulk`` takes each plan through its own transition, and the result
page lists every plan, done or refused with the reason in the reader's language.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from planflow.app import Planflow
from planflow.core.ids import MAX_ID
from planflow.errors import NotFound, PlanflowError, ValidationError
from planflow.services.bulk import MAX_BULK
from planflow.views import BulkOutcome

from .access import current_org
from .codes import ERRORS
from .errors import describe, status_of
from .forms import BulkForm
from .i18n import current_language, state_label
from .plan_views import spec_of
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
        for_others=queue.for_others,
        people=pf.display_names([t.on_behalf_of or "" for t in queue.for_others])
        if queue.for_others
        else {},
        now=now,
    )


@bp.route("/open/<int(max=2147483647):plan_id>", methods=["POST"])
def open_task(plan_id: int) -> Response:
    """The queue's "Review" button: opening the task starts it where the definition
    says so (``on_open:``, e.g. start review), through the one transition path;
    then the plan page. A POST, because it may change the plan; the version the
    queue showed keeps a plan changed since from being started blindly."""
    # CSRFProtect has checked the token the queue's form sent with the button.
    seen = request.form.get("version", type=int)
    if seen is None or not 0 <= seen <= MAX_ID:
        # No version, or garbage: the page opens and nothing is started blindly.
        return redirect(url_for("plans.detail", plan_id=plan_id))
    try:
        started = planflow().open_task(plan_id, me().username, seen)
    except NotFound:
        abort(404)
    if started is not None:
        # What the reviewer did, in their words: the plan they now review, by its title.
        title = planflow().plan(plan_id).title
        flash(gettext("You are now reviewing “%(title)s”.", title=title), "info")
    return redirect(url_for("plans.detail", plan_id=plan_id))


_ITEM = re.compile(r"^([1-9][0-9]{0,9})@([0-9]{1,10})$")


def _selection() -> list[tuple[int, int]] | None:
    """The ``plan`` fields (``ID@VERSION``) of the request; None if one is not that."""
    items = []
    for value in request.form.getlist("plan")[: MAX_BULK + 1]:
        match = _ITEM.match(value)
        if match is None:
            return None
        items.append((int(match.group(1)), int(match.group(2))))
    return items


def outcome_text(outcome: BulkOutcome) -> str:
    """Why a plan of a bulk action was refused, in the reader's language."""
    render = ERRORS.get(outcome.code or "")
    if render is None:
        return outcome.message
    try:
        return str(render(outcome.params))
    except (KeyError, TypeError, ValueError):
        return outcome.message


def _return_targets(pf: Planflow, plan_ids: list[int]) -> list[tuple[str, str]]:
    """The earlier states every selected plan may be returned to now, (state, label),
    in the first plan's order: a bulk return to a chosen step offers only those."""
    user, lang = me().username, current_language()
    common: list[tuple[str, str]] | None = None
    for plan_id in plan_ids:
        try:
            options = [(o.state, o.label) for o in pf.return_options(plan_id, user, lang)]
        except PlanflowError:
            return []
        allowed = {state for state, _ in options}
        common = options if common is None else [c for c in common if c[0] in allowed]
        if not common:
            return []
    return common or []


@bp.route("/bulk", methods=["POST"])
def bulk() -> tuple[str, int]:
    """Step one: the selection and the action, to confirm with one comment."""
    pf, user = planflow(), me()
    form = BulkForm()
    items = _selection()
    if not form.validate() or not items:
        # A field the form names (the state to return to): said with its label.
        message = next(
            (f"{f.label.text}: {f.errors[0]}" for f in form if f.errors and f.label.text),
            None,
        )
        html = render_template(
            "reviews/bulk.html", form=form, plans=[], problem=True, message=message
        )
        return html, 422
    plans = []
    for plan_id, version in items:
        try:
            plans.append((pf.plan(plan_id, as_user=user.username), version))
        except PlanflowError:
            continue  # gone or hidden since the queue was read: not offered
    targets = _return_targets(pf, [p.id for p, _ in plans]) if form.action.data == "return" else []
    confirmed = request.form.get("confirmed") == "1"
    if not confirmed or not plans:
        html = render_template(
            "reviews/bulk.html", form=form, plans=plans, problem=False, targets=targets
        )
        return html, 200
    try:
        outcomes = pf.bulk(
            [(p.id, v) for p, v in plans],
            form.action.data,
            user.username,
            form.comment.data,
            return_to=(form.return_to.data or None) if form.action.data == "return" else None,
        )
    except ValidationError as error:
        message = describe(error)
        html = render_template(
            "reviews/bulk.html",
            form=form,
            plans=plans,
            problem=True,
            message=message,
            targets=targets,
        )
        return html, status_of(error)
    shown = {p.id: p for p, _ in plans}
    results = []
    for o in outcomes:
        plan = shown[o.plan_id]
        said = state_label(spec_of(pf, plan), o.to_state) if o.done else outcome_text(o)
        results.append((o, plan.title, said))
    return render_template("reviews/bulk_done.html", results=results, action=form.action.data), 200
