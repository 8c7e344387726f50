"""The forms a person sets up for themselves: API tokens, calendar feeds, deputies (委托).

Used by ``webui/tokens.py``, ``webui/feeds.py`` and ``webui/delegations.py``;
the fields, limits and messages follow ``webui/forms.py``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (  # type: ignore[import-untyped]
    InputRequired,
    NumberRange,
    Optional,
)

from planflow.core.ids import MAX_ID

from .forms import (
    CHOOSE,
    PlainText,
    PlanflowForm,
    _max,
    _required,
    _strip,
)


class TokenForm(PlanflowForm):
    name = StringField(
        _l("Name"), filters=[_strip], validators=[_required(), _max(100), PlainText()]
    )
    scope = SelectField(_l("Scope"), invalid_choice_message=CHOOSE)
    expires = SelectField(
        _l("Expires"),
        default="90",
        invalid_choice_message=CHOOSE,
        choices=[
            SelectChoice("30", _l("in 30 days")),
            SelectChoice("90", _l("in 90 days")),
            SelectChoice("365", _l("in a year")),
            SelectChoice("never", _l("never")),
        ],
    )


class RevokeForm(PlanflowForm):
    token = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class FeedForm(PlanflowForm):
    #: Empty: the user's own feed; else a unit's code.
    unit = SelectField(_l("Feed of"), default="", invalid_choice_message=CHOOSE)


class DelegationForm(PlanflowForm):
    """A deputy for a range of days (委托, ``webui.delegations``). The dates are
    read by the library, which names the field a bad one was in."""

    deputy = StringField(
        _l("Deputy (username)"), filters=[_strip], validators=[_required(), _max(100), PlainText()]
    )
    starts_on = StringField(
        _l("First day"), filters=[_strip], validators=[_required(), _max(40), PlainText()]
    )
    ends_on = StringField(
        _l("Last day"), filters=[_strip], validators=[_required(), _max(40), PlainText()]
    )
    #: "" is every workflow; the choices are the definitions at hand.
    workflow = SelectField(_l("Only the tasks of"), default="", invalid_choice_message=CHOOSE)
    #: "" is every role.
    role = SelectField(_l("Only the tasks waiting for"), default="", invalid_choice_message=CHOOSE)
    reason = TextAreaField(
        _l("Reason (optional)"), filters=[_strip], validators=[Optional(), _max(500), PlainText()]
    )


class EndDelegationForm(PlanflowForm):
    delegation = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
