"""The forms of the web UI: fields, limits and messages, in one place.

Every form is a Flask-WTF form, so it carries the CSRF token and validates
before a view acts. Limits match the library's (a plan title of 300
characters, a comment of 4000); text may not contain control characters,
which PostgreSQL refuses and nobody types on purpose. Messages are
translated; the views add the library's own refusals to the same fields.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (  # type: ignore[import-untyped]
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from planflow.plans import MAX_COMMENT

from .accounts import MAX_PASSWORD, MIN_PASSWORD
from .i18n import LANGUAGE_NAMES, LANGUAGES

MAX_TITLE = 300
CHOOSE = _l("Choose one of the options.")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class PlainText:
    """Refuses control characters (tabs and line breaks only where ``multiline``)."""

    def __init__(self, multiline: bool = False) -> None:
        self.allowed = "\n\r\t" if multiline else ""

    def __call__(self, form: Any, field: Any) -> None:
        value = field.data
        if not isinstance(value, str):
            return
        for c in value:
            if unicodedata.category(c) in ("Cc", "Cs") and c not in self.allowed:
                raise ValidationError(_l("This text contains a control character; remove it."))


def _id_or_none(value: Any) -> int | None:
    """An id from a form; junk becomes None, which matches no choice."""
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isdigit() and len(text) < 11 else None


def _required() -> Any:
    return DataRequired(message=_l("This field is required."))


def _max(n: int) -> Any:
    return Length(max=n, message=_l("At most %(max)d characters, please."))


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(
        _l("User name"), filters=[_strip], validators=[_required(), _max(80), PlainText()]
    )
    password = PasswordField(_l("Password"), validators=[_required(), _max(MAX_PASSWORD)])


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField(_l("Current password"), validators=[_required(), _max(MAX_PASSWORD)])
    new = PasswordField(
        _l("New password"),
        validators=[
            _required(),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=_l("Between %(min)d and %(max)d characters, please."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[_required(), EqualTo("new", message=_l("The two new passwords differ."))],
    )


class LanguageForm(FlaskForm):  # type: ignore[misc]
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        invalid_choice_message=CHOOSE,
    )
    next = HiddenField()


class NewPlanForm(FlaskForm):  # type: ignore[misc]
    workflow = SelectField(_l("Kind of plan"), invalid_choice_message=CHOOSE)
    unit = SelectField(_l("Unit"), coerce=_id_or_none, invalid_choice_message=CHOOSE)
    year = IntegerField(
        _l("Year"),
        invalid_value_message=_l("Give the year as a number, e.g. 2027."),
        validators=[
            InputRequired(message=_l("Give the year as a number, e.g. 2027.")),
            NumberRange(min=2000, max=2100, message=_l("The year must be between 2000 and 2100.")),
        ],
    )
    title = StringField(
        _l("Title"), filters=[_strip], validators=[_required(), _max(MAX_TITLE), PlainText()]
    )


class ActionForm(FlaskForm):  # type: ignore[misc]
    """The plan page's action form: a comment, and one button per action."""

    comment = TextAreaField(
        _l("Comment or reason"),
        filters=[_strip],
        validators=[_max(MAX_COMMENT), PlainText(multiline=True)],
    )
    # The version of the plan the user was looking at: a stale page is refused.
    expected_version = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=2**31 - 1)])
    # Set by the button pressed (name="action"); the library decides if it is allowed.
    action = StringField(validators=[InputRequired(), Regexp(r"^[A-Za-z0-9_]{1,64}$")])


class CommentForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField(
        _l("Comment"),
        filters=[_strip],
        validators=[_required(), _max(MAX_COMMENT), PlainText(multiline=True)],
    )


class MarkReadForm(FlaskForm):  # type: ignore[misc]
    #: Empty: mark every notification read.
    notification = IntegerField(validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
