"""Blueprint ``email_settings``: how a person wants their notifications e-mailed.

Immediately, one daily digest, or off: thin over ``pf.inbox.email_preference``
and ``set_email_preference``. The choice is checked by the library (an unknown
value is refused there with ``unknown_email_preference``), not by this form,
so every client refuses the same values with the same words.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice  # type: ignore[import-untyped]

from planflow.errors import ValidationError
from planflow.services.email_preferences import EMAIL_PREFERENCES

from .errors import describe
from .forms import PlanflowForm
from .users import me, planflow, require_login

bp = Blueprint("email_settings", __name__, url_prefix="/notifications/email")
require_login(bp)

#: Each choice's label and the sentence under it, in the reader's language.
CHOICES = {
    "immediately": (
        _l("Immediately"),
        _l("One e-mail for each notification, as it happens."),
    ),
    "digest": (
        _l("Daily digest"),
        _l("One e-mail a day listing what happened since the last one."),
    ),
    "off": (
        _l("Off"),
        _l("No e-mail; notifications are shown only in planflow."),
    ),
}
assert tuple(CHOICES) == EMAIL_PREFERENCES


class EmailPreferenceForm(PlanflowForm):
    # validate_choice=False: the library refuses a value it does not know.
    preference = RadioField(
        _l("E-mail me"),
        choices=[SelectChoice(c, CHOICES[c][0]) for c in EMAIL_PREFERENCES],
        validate_choice=False,
    )


def _page(form: EmailPreferenceForm, status: int = 200) -> tuple[str, int]:
    return render_template("notifications/email.html", form=form, hints=CHOICES), status


@bp.route("/", methods=["GET"])
def index() -> tuple[str, int]:
    form = EmailPreferenceForm(formdata=None)
    form.preference.data = planflow().inbox.email_preference(me().username)
    return _page(form)


@bp.route("/", methods=["POST"])
def save() -> Response | tuple[str, int]:
    form = EmailPreferenceForm()
    if not form.validate():  # a file part where the choice belongs, say: the field says so
        return _page(form, 422)
    chosen = form.preference.data
    try:
        planflow().inbox.set_email_preference(me().username, chosen)
    except ValidationError as error:
        form.preference.errors = [describe(error)]
        form.preference.data = None
        return _page(form, 422)
    flash(gettext("Your e-mail setting was saved: %(choice)s.", choice=CHOICES[chosen][0]), "info")
    return redirect(url_for("email_settings.index"))
