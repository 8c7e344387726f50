"""Blueprint ``notifications``: the inbox of in-app notifications, read and unread.

Reading, listing and marking go through the library's ``Inbox``; marking an
id that is not the user's is a 404 there and here.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from planflow.core.ids import MAX_ID
from planflow.errors import NotFound
from planflow.views import NotificationEntry

from .codes import payload_text, person_name
from .forms import MarkReadForm
from .i18n import action_label, format_when, state_label
from .plan_views import latest_spec
from .users import me, planflow, require_login

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
require_login(bp)

PAGE_SIZE = 50


def summary(entry: NotificationEntry) -> str:
    """What happened and who did it, in the user's language, from the payload:
    "Reviewer: Approve: Approved", "Reviewer returned the plan to: Draft"."""
    payload = entry.payload
    spec = latest_spec(planflow(), str(payload.get("workflow", "")))
    if spec is None:
        return ""
    to = payload.get("to") or payload.get("state")
    who = person_name(payload["actor"]) if isinstance(payload.get("actor"), int) else None
    if entry.kind == "returned" and isinstance(to, str):
        return str(
            gettext(
                "%(who)s returned the plan to: %(state)s",
                who=who or gettext("someone else"),
                state=state_label(spec, to),
            )
        )
    action = payload.get("action")
    text = action_label(spec, action) if isinstance(action, str) else ""
    if isinstance(to, str) and text:
        state = state_label(spec, to)
        # "退回修改: 退回修改": a language may name the step and the state it leads to alike.
        if state.casefold() != text.casefold():
            text = str(gettext("%(action)s: %(state)s", action=text, state=state))
    if who and text:
        # The colon is the language's own: "金敏智：要求整改：限期整改".
        text = str(gettext("%(who)s: %(what)s", who=who, what=text))
    due = payload.get("due_at")
    if isinstance(due, str):
        try:
            when = format_when(datetime.fromisoformat(due))
        except ValueError:
            when = due
        text = (
            f"{text} · {gettext('due %(when)s', when=when)}"
            if text
            else gettext("due %(when)s", when=when)
        )
    return text


def _said(entry: NotificationEntry) -> str | None:
    """The notification's note in the user's language, else its comment."""
    spec = latest_spec(planflow(), str(entry.payload.get("workflow", "")))
    return payload_text(entry.payload, spec)


@bp.route("/")
def index() -> str:
    pf, user = planflow(), me()
    unread_only = request.args.get("unread") == "1"
    before = request.args.get("before", type=int)
    before = before if before is not None and 1 <= before <= MAX_ID else None
    entries = pf.inbox.notifications(
        user.username, unread_only=unread_only, limit=PAGE_SIZE + 1, before_id=before
    )
    return render_template(
        "notifications/index.html",
        entries=[(n, summary(n), _said(n)) for n in entries[:PAGE_SIZE]],
        older=entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None,
        unread_only=unread_only,
        form=MarkReadForm(formdata=None),
    )


@bp.route("/read", methods=["POST"])
def mark_read() -> Response:
    form = MarkReadForm()
    if not form.validate():
        abort(400)
    ids = [form.notification.data] if form.notification.data is not None else None
    try:
        planflow().inbox.mark_read(me().username, ids)
    except NotFound:
        abort(404)
    return redirect(url_for("notifications.index"))


@bp.route("/<int(max=2147483647):notification_id>/open")
def open_one(notification_id: int) -> Response:
    """Opening a notification marks it read and shows its plan (an id that is not
    the user's is a 404, as for marking)."""
    try:
        planflow().inbox.mark_read(me().username, [notification_id])
    except NotFound:
        abort(404)
    plan_id = request.args.get("plan", type=int)
    if plan_id is None or not 1 <= plan_id <= MAX_ID:
        return redirect(url_for("notifications.index"))
    return redirect(url_for("plans.detail", plan_id=plan_id))
