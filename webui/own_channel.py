"""Blueprint ``own_channel``: a person's own webhook or group robot, if an admin allows it.

Thin over ``pf.webhooks.add_own`` / ``own`` / ``remove_own``: the channel is
told of the changes that notify its owner, in the events they choose; it may
never reach a private address. While no admin allows own channels the page
says so and offers nothing (the library refuses with ``user_channels_off``).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from planflow.core.webhooks import EVENT_TYPES
from planflow.errors import NotFound, PlanflowError

from .channel_form import KIND_NAMES, ChannelForm, added, events_field, removed
from .users import me, planflow, require_login, signed_in

bp = Blueprint("own_channel", __name__, url_prefix="/notifications/channel")
require_login(bp)

#: What a person's channel can hear of: what notifies people (no audit, no subtree-wide news).
OWN_EVENTS = tuple(e for e in EVENT_TYPES if e != "audit.verification_failed")


class OwnChannelForm(ChannelForm):
    events = events_field(OWN_EVENTS)


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
        form.refused(error)
        return _page(form, 422)
    return added(new, "own_channel.index")


@bp.route("/<int:webhook_id>/remove", methods=["POST"])
def remove(webhook_id: int) -> Response:
    try:
        planflow().webhooks.remove_own(me().username, webhook_id)
    except NotFound:
        abort(404)
    return removed("own_channel.index")
