"""The form and answers that adding or removing a webhook or group robot share.

Two pages add one: an admin's (``admin_webhooks``: for a unit's subtree,
perhaps to a private address) and a person's own (``own_channel``: told of
what notifies them). The fields they have in common, where a refusal from
the library is shown, the page that follows an add (a webhook's secret,
shown once) and the note after a removal are spelt here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import (  # type: ignore[import-untyped]
    Field,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional  # type: ignore[import-untyped]
from wtforms.widgets import CheckboxInput, ListWidget  # type: ignore[import-untyped]

from planflow.core.robots import KINDS, LANGUAGES, MAX_SECRET
from planflow.core.webhooks import MAX_URL
from planflow.errors import PlanflowError
from planflow.views import NewWebhook

from .errors import describe
from .forms import CHOOSE, PlanflowForm
from .i18n import LANGUAGE_NAMES
from .webhook_texts import event_choices

KIND_NAMES = {
    "webhook": _l("Webhook (signed JSON)"),
    "dingtalk": _l("DingTalk group robot"),
    "wecom": _l("WeCom group robot"),
    "feishu": _l("Feishu group bot"),
}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def events_field(events: Sequence[str]) -> Any:
    """The events a channel may subscribe to, as checkboxes."""
    return SelectMultipleField(
        _l("Events"),
        choices=event_choices(tuple(events)),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one event."))],
    )


class ChannelForm(PlanflowForm):
    """Kind, address, secret and language; a page adds its ``events`` (``events_field``)."""

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
    secret = PasswordField(
        _l("Robot's signing secret"),
        filters=[_strip],
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

    def refused(self, error: PlanflowError) -> None:
        """Show the library's refusal next to the field it is about (else the address)."""
        names = {
            "robot_secret_required": "secret",
            "robot_language_unknown": "language",
            "webhook_kind_unknown": "kind",
            "webhook_event_unknown": "events",
            "webhook_events_required": "events",
            "not_found": "unit",
            "permission_denied": "unit",
        }
        field: Field = self._fields.get(names.get(error.code, "url")) or self.url
        field.errors = [*field.errors, describe(error)]


def added(new: NewWebhook, back: str) -> Response | tuple[str, int]:
    """The answer to a webhook or robot just added (here and on a person's own page):
    a webhook's secret is shown once, on this answer only (no redirect: it must
    not sit in the session); a robot's was the vendor's, so back to ``back``."""
    if new.secret:
        html = render_template("admin/webhook_secret.html", hook=new.webhook, secret=new.secret)
        return html, 201
    flash(gettext("The robot was added."), "success")
    return redirect(url_for(back))


def removed(back: str) -> Response:
    """The answer to a webhook or robot just removed."""
    flash(gettext("It was removed; what was not sent yet is cancelled."), "success")
    return redirect(url_for(back))
