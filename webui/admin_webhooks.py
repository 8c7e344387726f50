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

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import (  # type: ignore[import-untyped]
    BooleanField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional  # type: ignore[import-untyped]
from wtforms.widgets import CheckboxInput, ListWidget  # type: ignore[import-untyped]

from planflow.core.robots import KINDS, LANGUAGES, MAX_SECRET
from planflow.core.webhooks import EVENT_TYPES, MAX_URL
from planflow.errors import NotFound, PlanflowError
from planflow.views import NewWebhook

from .access import org_now
from .admin import admin_scope, require_admin, unit_choices
from .errors import describe
from .forms import CHOOSE, PlanflowForm
from .i18n import LANGUAGE_NAMES
from .users import me, planflow
from .webhook_texts import event_choices

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin/webhooks")
require_admin(bp)

#: Deliveries the page shows.
SHOWN = 50
KIND_NAMES = {
    "webhook": _l("Webhook (signed JSON)"),
    "dingtalk": _l("DingTalk group robot"),
    "wecom": _l("WeCom group robot"),
    "feishu": _l("Feishu group bot"),
}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class WebhookForm(PlanflowForm):
    unit = SelectField(_l("For the plans of"), invalid_choice_message=CHOOSE)
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k, KIND_NAMES[k]) for k in KINDS],
        invalid_choice_message=CHOOSE,
    )
    url = StringField(
        _l("Address (URL)"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("This field is required.")),
            Length(max=MAX_URL, message=_l("At most %(max)d characters, please.")),
        ],
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=event_choices(EVENT_TYPES),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one event."))],
    )
    secret = PasswordField(
        _l("Robot's signing secret"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=MAX_SECRET, message=_l("At most %(max)d characters, please.")),
        ],
    )
    language = SelectField(_l("Robot's language"), invalid_choice_message=CHOOSE)
    allow_private = BooleanField(_l("Allow private addresses (a receiver on your own network)"))


def _form(form: WebhookForm | None = None) -> WebhookForm:
    form = form or WebhookForm(formdata=None)
    form.unit.choices = unit_choices(org_now(planflow()), admin_scope())
    form.language.choices = [SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
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
        field = {
            "robot_secret_required": form.secret,
            "robot_language_unknown": form.language,
            "webhook_kind_unknown": form.kind,
            "webhook_event_unknown": form.events,
            "webhook_events_required": form.events,
            "not_found": form.unit,
            "permission_denied": form.unit,
        }.get(error.code, form.url)
        field.errors = [*field.errors, describe(error)]
        return _page(form, 422)
    return added(new, "admin_webhooks.index")


def added(new: NewWebhook, back: str) -> Response | tuple[str, int]:
    """The answer to a webhook or robot just added (here and on a person's own page):
    a webhook's secret is shown once, on this answer only (no redirect: it must
    not sit in the session); a robot's was the vendor's, so back to ``back``."""
    if new.secret:
        html = render_template("admin/webhook_secret.html", hook=new.webhook, secret=new.secret)
        return html, 201
    flash(gettext("The robot was added."), "success")
    return redirect(url_for(back))


# The two buttons carry only the CSRF token, which CSRFProtect checks for every POST.


@bp.route("/<int:webhook_id>/remove", methods=["POST"])
def remove(webhook_id: int) -> Response:
    try:
        planflow().webhooks.get(webhook_id, actor=me().username)
        planflow().webhooks.remove(webhook_id, actor=me().username)
    except NotFound:
        abort(404)
    flash(gettext("It was removed; what was not sent yet is cancelled."), "success")
    return redirect(url_for("admin_webhooks.index"))


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
