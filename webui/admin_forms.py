"""The forms of the admin pages: units, people, roles, and the audit check.

Limits and patterns are the library's (``planflow.storage.org_repo``): a
unit code or user name the form accepts is one the library accepts, so a
refusal the admin sees comes with a message next to the field. Choices
(parents, units, roles) are set per request from what the admin manages;
the library checks the same rule again when it acts.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (  # type: ignore[import-untyped]
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
)

from planflow.services.accounts import MAX_PASSWORD, MIN_PASSWORD
from planflow.services.org_admin import MAX_DISPLAY_NAME, MAX_EMAIL, MAX_UNIT_NAME
from planflow.storage.org_repo import CODE_RE, EMAIL_RE, USERNAME_RE

from .forms import CHOOSE, PlainText, PlanflowForm
from .i18n import LANGUAGE_NAMES, LANGUAGES


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _required() -> Any:
    return DataRequired(message=_l("This field is required."))


def _chosen() -> Any:
    return DataRequired(message=_l("Choose one of the options."))


def _max(n: int) -> Any:
    return Length(max=n, message=_l("At most %(max)d characters, please."))


def _code() -> list[Any]:
    return [
        _required(),
        Regexp(
            CODE_RE.pattern,
            message=_l(
                "Use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit."
            ),
        ),
    ]


def _name(limit: int) -> list[Any]:
    return [_required(), _max(limit), PlainText()]


def _email() -> list[Any]:
    return [
        Optional(),
        _max(MAX_EMAIL),
        PlainText(),
        Regexp(EMAIL_RE.pattern, message=_l("Give an e-mail address such as name@example.org.")),
    ]


def _new_password(required: bool) -> list[Any]:
    length = Length(
        min=MIN_PASSWORD,
        max=MAX_PASSWORD,
        message=_l("Between %(min)d and %(max)d characters, please."),
    )
    return [_required() if required else Optional(), length]


def _language() -> Any:
    return SelectField(
        _l("Language"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        invalid_choice_message=CHOOSE,
    )


class UnitAddForm(PlanflowForm):
    code = StringField(_l("Code"), filters=[_strip], validators=_code())
    name = StringField(_l("Name"), filters=[_strip], validators=_name(MAX_UNIT_NAME))
    parent = SelectField(_l("Under"), invalid_choice_message=CHOOSE)


class UnitRenameForm(PlanflowForm):
    name = StringField(_l("New name"), filters=[_strip], validators=_name(MAX_UNIT_NAME))
    # The name the admin saw: a rename made by someone else meanwhile is not overwritten.
    expected_name = HiddenField(validators=[Length(max=MAX_UNIT_NAME)])


class UnitMoveForm(PlanflowForm):
    # Not checked against the choices here: the view tells "below itself" apart.
    parent = SelectField(_l("New place: under"), validate_choice=False)


class UserCreateForm(PlanflowForm):
    username = StringField(
        _l("User name"),
        filters=[_strip],
        validators=[
            _required(),
            Regexp(
                USERNAME_RE.pattern,
                message=_l(
                    "Use 1 to 80 letters, digits, '_', '.', '@' or '-', "
                    "starting with a letter or digit."
                ),
            ),
        ],
    )
    display_name = StringField(
        _l("Display name"), filters=[_strip], validators=_name(MAX_DISPLAY_NAME)
    )
    email = StringField(_l("E-mail"), filters=[_strip], validators=_email())
    language = _language()
    password = PasswordField(_l("First password"), validators=_new_password(required=False))
    role = SelectField(_l("Role"), invalid_choice_message=CHOOSE)
    unit = SelectField(_l("At unit"), invalid_choice_message=CHOOSE)


class ProfileForm(PlanflowForm):
    display_name = StringField(
        _l("Display name"), filters=[_strip], validators=_name(MAX_DISPLAY_NAME)
    )
    email = StringField(_l("E-mail"), filters=[_strip], validators=_email())
    language = _language()
    # A fingerprint of the profile the admin saw: a change made meanwhile is not overwritten.
    stamp = HiddenField(validators=[Length(max=64)])


class PasswordResetForm(PlanflowForm):
    new = PasswordField(_l("New password"), validators=_new_password(required=True))
    confirm = PasswordField(
        _l("New password again"),
        validators=[_required(), EqualTo("new", message=_l("The two new passwords differ."))],
    )


class AssignForm(PlanflowForm):
    role = SelectField(_l("Role"), validators=[_chosen()], invalid_choice_message=CHOOSE)
    unit = SelectField(_l("At unit"), validators=[_chosen()], invalid_choice_message=CHOOSE)


class RevokeForm(PlanflowForm):
    role = HiddenField(validators=[_required(), Length(max=40)])
    unit = HiddenField(validators=[_required(), Length(max=64)])


class ConfirmForm(PlanflowForm):
    """A button and its CSRF token (activate, deactivate, verify the audit trail)."""
