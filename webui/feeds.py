"""Blueprints for calendar feeds: the .ics address, and making and revoking addresses.

``/feeds/<secret>.ics`` is fetched by calendar apps, without a cookie or a
header: the secret in the address is the only key (``services.feed_tokens``).
It opens this one read-only feed and nothing else; an unknown or revoked
secret is a plain 404. The events come from the library (``pf.feeds.feed``);
this module only writes them out (``integrations.ics``) with links back
to the plans. Making and revoking addresses is on the settings page (``webui/tokens.py``).
"""

from __future__ import annotations

from flask import Blueprint, abort, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.errors import NotFound
from planflow.integrations.ics import to_ics

from .users import me, planflow

#: The public address calendar apps fetch (no sign-in: the secret is the key).
bp = Blueprint("feeds", __name__, url_prefix="/feeds")


@bp.route("/<secret>.ics")
def ics(secret: str) -> Response:
    pf = planflow()
    try:
        feed = pf.feeds.feed(secret)
    except NotFound:
        abort(404)
    body = to_ics(
        feed,
        pf.clock.now(),
        link=lambda plan_id: url_for("plans.detail", plan_id=plan_id, _external=True),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="planflow.ics"'
    # The address is a secret: no shared cache may keep it.
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def unit_choices() -> list[SelectChoice]:
    """The user's own feed, and every unit whose plans the user sees."""
    units = planflow().feeds.units_for(me().username)
    own = SelectChoice("", gettext("My tasks and my units"))
    return [own, *(SelectChoice(u.code, u.name) for u in units)]


def feed_url(secret: str) -> str:
    return url_for("feeds.ics", secret=secret, _external=True)
