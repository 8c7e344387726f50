"""Blueprint ``notifications``: the inbox of in-app notifications, read and unread.

Reading, listing and marking go through the library's ``Inbox``; marking an
id that is not the user's is a 404 there and here.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from planflow.core.ids import MAX_ID
from planflow.errors import NotFound
from planflow.views import NotificationEntry

from .codes import payload_text
from .forms import MarkReadForm
from .i18n import action_label, state_label
from .plan_views import latest_spec
from .users import me, planflow, require_login

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
require_login(bp)

PAGE_SIZE = 50


def summary(entry: NotificationEntry) -> str:
    """ "Approve: Under review → Approved", in the user's language, from the payload."""
    payload = entry.payload
    spec = latest_spec(planflow(), str(payload.get("workflow", "")))
    action = payload.get("action")
    if spec is None or not isinstance(action, str):
        return ""
    text = action_label(spec, action)
    to = payload.get("to") or payload.get("state")
    if isinstance(to, str):
        text += f": {state_label(spec, to)}"
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
