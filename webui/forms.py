"""The forms of the web UI: fields, limits and messages, in one place.

Every form is a Flask-WTF form, so it carries the CSRF token and validates
before a view acts. Limits match the library's (a plan title of 300
characters, a comment of 4000); text may not contain control characters,
which PostgreSQL refuses and nobody types on purpose. Messages are
translated; the views add the library's own refusals to the same fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from flask_wtf.file import FileField  # type: ignore[import-untyped]
from werkzeug.datastructures import FileStorage, MultiDict
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

from planflow.core.ids import MAX_ID
from planflow.core.text import refused_character
from planflow.services.content import MAX_COMMENT

from .accounts import MAX_PASSWORD, MIN_PASSWORD
from .i18n import LANGUAGE_NAMES, LANGUAGES

MAX_TITLE = 300
#: What the content editor takes in one form; a plan beyond this is edited in parts.
MAX_SECTIONS = 40
MAX_ITEMS_PER_SECTION = 150
#: The longest plain text the editor imports at once.
MAX_IMPORT = 100_000
CHOOSE = _l("Choose one of the options.")


class PlanflowForm(FlaskForm):  # type: ignore[misc]
    """The base of every form of the UI: each field takes only the kind of part it expects.

    Flask-WTF hands a form the request's files together with its text parts
    (and a JSON body as if it were a form), so a client that sends a file
    part, or a JSON number or list, where text is expected puts a
    ``FileStorage`` or a non-string into a text field, and validators that
    call ``len()`` on it fail with a 500. Such parts are taken out before the
    fields see them, and the form does not validate: the field says it
    takes text.
    """

    class Meta:
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            data = super().wrap_formdata(form, formdata)  # type: ignore[misc]
            if data is None:
                return None
            # Parts are named with the form's prefix (``f.name``), fields by their own key.
            field_of = {f.name: key for key, f in form._fields.items()}
            file_parts = {f.name for f in form._fields.values() if isinstance(f, FileField)}
            kept: MultiDict[str, Any] = MultiDict()
            refused: list[str] = []
            for part, value in data.items(multi=True):
                wanted = FileStorage if part in file_parts else str
                if isinstance(value, wanted):
                    kept.add(part, value)
                elif part in field_of:
                    refused.append(field_of[part])
            form.refused_parts = tuple(refused)
            return kept

    #: The fields a client sent something other than their kind of part for.
    refused_parts: tuple[str, ...] = ()

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators=extra_validators))
        for name in self.refused_parts:
            field = self._fields[name]
            field.errors = [*field.errors, _l("This field takes text, not a file or other data.")]
            ok = False
        return ok


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _a_real_day(form: Any, field: Any) -> None:
    """A due date shaped like one (the Regexp before says so) that is no day: 2027-02-30.

    Said here, in the picker's words, before the library's ``bad_date`` (worded
    for imported documents) could say it again.
    """
    if isinstance(field.data, str) and not field.errors:
        try:
            date.fromisoformat(field.data)
        except ValueError:
            raise ValidationError(_l("This date does not exist.")) from None


class PlainText:
    """The library's text rule (``clean_text``), checked before anything is sent to it:
    no control characters (tabs and line breaks only where ``multiline``), no
    bidirectional controls."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Any) -> None:
        value = field.data
        if isinstance(value, str) and refused_character(value, multiline=self.multiline):
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


class LoginForm(PlanflowForm):
    username = StringField(
        _l("User name"), filters=[_strip], validators=[_required(), _max(80), PlainText()]
    )
    password = PasswordField(_l("Password"), validators=[_required(), _max(MAX_PASSWORD)])


class PasswordForm(PlanflowForm):
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


class LanguageForm(PlanflowForm):
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        invalid_choice_message=CHOOSE,
    )
    next = HiddenField()


class NewPlanForm(PlanflowForm):
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


class _CommentAtVersion(PlanflowForm):
    """What every action on a plan carries: a comment or reason, and the version of
    the plan the user was looking at (a stale page is refused)."""

    comment = TextAreaField(
        _l("Comment or reason"),
        filters=[_strip],
        validators=[_max(MAX_COMMENT), PlainText(multiline=True)],
    )
    expected_version = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=MAX_ID)])


class ActionForm(_CommentAtVersion):
    """The plan page's action form: a comment, and one button per action."""

    # Set by the button pressed (name="action"); the library decides if it is allowed.
    action = StringField(validators=[InputRequired(), Regexp(r"^[A-Za-z0-9_]{1,64}$")])


class UrgeForm(PlanflowForm):
    """The plan page's "Urge" button: nothing but the CSRF token (the library decides)."""


class CommentForm(PlanflowForm):
    body = TextAreaField(
        _l("Comment"),
        filters=[_strip],
        validators=[_required(), _max(MAX_COMMENT), PlainText(multiline=True)],
    )


class MarkReadForm(PlanflowForm):
    #: Empty: mark every notification read.
    notification = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


class StepForm(_CommentAtVersion):
    """One action's own step (``webui.steps``): its reason or comment, the version
    the user saw, and for a return the state it goes back to ("" is the
    definition's own return)."""

    target = StringField(validators=[Optional(), Regexp(r"^[a-z0-9_]{0,64}$")])


class BulkForm(PlanflowForm):
    """Bulk approve / return from the review queue: the action and one comment. The
    plans come as ``plan`` fields, ``ID@VERSION`` each (``webui.reviews``)."""

    action = StringField(validators=[InputRequired(), Regexp(r"^(approve|return)$")])
    #: A return to a chosen earlier state (empty: the definition's own return); the
    #: library refuses a state a plan's definition does not allow, plan by plan.
    #: Something that is no state's name at all is refused here, naming the field.
    return_to = StringField(
        _l("Return to"),
        validators=[
            Optional(),
            Regexp(
                r"^[a-z0-9_]{1,64}$",
                message=_l("Choose one of the states offered to return the plans to."),
            ),
        ],
    )
    comment = TextAreaField(
        _l("Comment or reason"),
        filters=[_strip],
        validators=[_max(MAX_COMMENT), PlainText(multiline=True)],
    )
