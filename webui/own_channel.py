"""Blueprint ``own_channel``: a person's own webhook or group robot, if an admin allows it.

Thin over ``pf.webhooks.add_own`` / ``own`` / ``remove_own``: the channel is
told of the changes that notify its owner, in the events they choose; it may
never reach a private address. While no admin allows own channels the page
says so and offers nothing (the library refuses with ``user_channels_off``).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField  # type: ignore[import-untyped]
from wtforms.validators import DataRequired, Length, Optional  # type: ignore[import-untyped]
from wtforms.widgets import CheckboxInput, ListWidget  # type: ignore[import-untyped]

from planflow.core.robots import KINDS, LANGUAGES, MAX_SECRET
from planflow.core.webhooks import EVENT_TYPES, MAX_URL
from planflow.errors import NotFound, PlanflowError

from .admin_webhooks import KIND_NAMES, added
from .errors import describe
from .forms import CHOOSE, PlanflowForm
from .i18n import LANGUAGE_NAMES
from .users import me, planflow, require_login, signed_in
from .webhook_texts import event_choices

bp = Blueprint("own_channel", __name__, url_prefix="/notifications/channel")
require_login(bp)

#: What a person's channel can hear of: what notifies people (no audit, no subtree-wide news).
OWN_EVENTS = tuple(e for e in EVENT_TYPES if e != "audit.verification_failed")


class OwnChannelForm(PlanflowForm):
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k, KIND_NAMES[k]) for k in KINDS],
        invalid_choice_message=CHOOSE,
    )
    url = StringField(
        _l("Address (URL)"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(message=_l("This field is required.")),
            Length(max=MAX_URL, message=_l("At most %(max)d characters, please.")),
        ],
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=event_choices(OWN_EVENTS),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one event."))],
    )
    secret = PasswordField(
        _l("Robot's signing secret"),
        validators=[
            Optional(),
            Length(max=MAX_SECRET, message=_l("At most %(max)d characters, please.")),
        ],
    )
    language = SelectField(
        _l("Robot's language"),
        choices=[SelectChoice(c, LANGUAGE_NAMES[c]) for c in LANGUAGES],
        invalid_choice_message=CHOOSE,
    )


@bp.app_context_processor
def _helpers() -> dict[str, object]:
    def own_channels_allowed() -> bool:
        return signed_in() and planflow().webhooks.user_channels()

    return {"own_channels_allowed": own_channels_allowed}


def _page(form: OwnChannelForm | None = None, status: int = 200) -> tuple[str, int]:
    pf = planflow()
    if form is None:
        form = OwnChannelForm(formdata=None, language=me().language)
    html = render_template(
        "notifications/channel.html",
        allowed=pf.webhooks.user_channels(),
        channels=pf.webhooks.own(me().username),
        form=form,
        kind_names=KIND_NAMES,
    )
    return html, status


@bp.route("/")
def index() -> tuple[str, int]:
    return _page()


@bp.route("/add", methods=["POST"])
def add() -> Response | tuple[str, int]:
    form = OwnChannelForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        new = planflow().webhooks.add_own(
            me().username,
            form.url.data,
            list(form.events.data),
            kind=form.kind.data,
            secret=form.secret.data or None,
            language=form.language.data,
        )
    except PlanflowError as error:
        field = {"robot_secret_required": form.secret}.get(error.code, form.url)
        field.errors = [*field.errors, describe(error)]
        return _page(form, 422)
    return added(new, "own_channel.index")


@bp.route("/<int:webhook_id>/remove", methods=["POST"])
def remove(webhook_id: int) -> Response:
    try:
        planflow().webhooks.remove_own(me().username, webhook_id)
    except NotFound:
        abort(404)
    flash(gettext("It was removed; what was not sent yet is cancelled."), "success")
    return redirect(url_for("own_channel.index"))
