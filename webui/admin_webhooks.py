"""Blueprint ``admin_webhooks``: webhooks and group robots, and their delivery log.

Thin over the library (``pf.webhooks``, the same calls as ``planflow
webhooks``/``robots`` and the API): the page lists the webhooks and robots
of the units the admin manages, adds one (a webhook's signing secret is
shown once, on the page that follows), removes one, and shows the newest
deliveries with their attempts, each failed or delivered one with a button
to send it again. Refusals (a private address, a robot without its secret)
come back next to the form, in the admin's language.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField  # type: ignore[import-untyped]

from planflow.core.webhooks import EVENT_TYPES
from planflow.errors import NotFound, PlanflowError

from .access import org_now
from .admin import admin_scope, require_admin, unit_choices
from .channel_form import KIND_NAMES, ChannelForm, added, events_field, removed
from .forms import CHOOSE
from .users import me, planflow

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin/webhooks")
require_admin(bp)

#: Deliveries the page shows.
SHOWN = 50


class WebhookForm(ChannelForm):
    unit = SelectField(_l("For the plans of"), invalid_choice_message=CHOOSE)
    events = events_field(EVENT_TYPES)
    allow_private = BooleanField(_l("Allow private addresses (a receiver on your own network)"))


def _form(form: WebhookForm | None = None) -> WebhookForm:
    form = form or WebhookForm(formdata=None)
    form.unit.choices = unit_choices(org_now(planflow()), admin_scope())
    return form


def _page(form: WebhookForm | None = None, status: int = 200) -> tuple[str, int]:
    pf = planflow()
    actor = me().username
    hooks = pf.webhooks.list(with_removed=True, actor=actor)
    html = render_template(
        "admin/webhooks.html",
        hooks=[h for h in hooks if h.active],
        removed={h.id for h in hooks if not h.active},
        deliveries=pf.webhooks.deliveries(limit=SHOWN, actor=actor),
        form=_form(form),
        kind_names=KIND_NAMES,
        own_channels=pf.webhooks.user_channels(),
    )
    return html, status


@bp.route("/")
def index() -> tuple[str, int]:
    return _page()


@bp.route("/add", methods=["POST"])
def add() -> Response | tuple[str, int]:
    form = _form(WebhookForm())
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        new = planflow().webhooks.add(
            form.unit.data,
            form.url.data,
            list(form.events.data),
            allow_private=bool(form.allow_private.data),
            actor=me().username,
            kind=form.kind.data,
            secret=form.secret.data or None,
            language=form.language.data,
        )
    except PlanflowError as error:
        form.refused(error)
        return _page(form, 422)
    return added(new, "admin_webhooks.index")


# The two buttons carry only the CSRF token, which CSRFProtect checks for every POST.


@bp.route("/<int:webhook_id>/remove", methods=["POST"])
def remove(webhook_id: int) -> Response:
    try:
        planflow().webhooks.get(webhook_id, actor=me().username)
        planflow().webhooks.remove(webhook_id, actor=me().username)
    except NotFound:
        abort(404)
    return removed("admin_webhooks.index")


@bp.route("/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
def redeliver(delivery_id: int) -> Response:
    pf = planflow()
    try:
        found = pf.webhooks.delivery(delivery_id)
        pf.webhooks.get(found.webhook_id, actor=me().username)
        pf.webhooks.redeliver(delivery_id, actor=me().username)
    except NotFound:
        abort(404)
    flash(gettext("It will be sent again at the next delivery pass."), "success")
    return redirect(url_for("admin_webhooks.index", _anchor="log"))


@bp.route("/user-channels", methods=["POST"])
def user_channels() -> Response:
    """Allow people their own channel, or stop allowing it (admins of the whole tree)."""
    if not admin_scope().everything:
        abort(403)
    on = request.form.get("on") == "1"
    planflow().webhooks.set_user_channels(on, actor=me().username)
    flash(
        gettext("People may now add their own webhook or robot.")
        if on
        else gettext("People can no longer add their own webhook or robot."),
        "success",
    )
    return redirect(url_for("admin_webhooks.index"))
