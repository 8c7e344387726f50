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
    FieldList,
    Form,
    FormField,
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

from planflow.core.content.items import MAX_SHORT, MAX_TARGETS, MAX_TEXT, OPS
from planflow.core.content.items import MAX_TITLE as MAX_SECTION_TITLE
from planflow.core.ids import MAX_ID
from planflow.core.text import refused_character
from planflow.services.content import MAX_COMMENT

from .accounts import MAX_PASSWORD, MIN_PASSWORD
from .i18n import LANGUAGE_NAMES, LANGUAGES
from .target_texts import OP_LABELS

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


# -- the content editor ------------------------------------------------------------------
# One form holds the whole plan: sections, each with its items. The nested forms are
# plain WTForms forms (the CSRF token belongs to the outer form only). The content's
# own rules (required text, lengths, dates inside the plan year, numbers) are the
# library's: ``PlanContent.from_dict`` checks them and the editor puts its findings
# next to the fields. What is checked here is only the shape of the form itself.


class TargetEntryForm(Form):  # type: ignore[misc]
    """One more target of an item: the same four fields as the item's first."""

    metric = StringField(_l("Another target: what is measured"), filters=[_strip])
    op = SelectField(
        _l("Comparison"),
        choices=[SelectChoice(op, OP_LABELS[op]) for op in OPS],
        default=OPS[0],
        invalid_choice_message=CHOOSE,
    )
    value = StringField(_l("Target value"), filters=[_strip])
    unit = StringField(_l("Unit of the value"), filters=[_strip])


def target_typed(row: Any) -> bool:
    """Something typed in a target's fields (the comparison alone is a default)."""
    return bool(row.metric.data or row.value.data or row.unit.data)


class ItemEntryForm(Form):  # type: ignore[misc]
    """One numbered item. ``owner_unit`` and ``due_month`` get their choices per request."""

    key = HiddenField(filters=[_strip])
    text = TextAreaField(_l("What will be done"), filters=[_strip])
    owner_unit = SelectField(_l("Owning unit"), default="", invalid_choice_message=CHOOSE)
    due_month = SelectField(_l("Due month"), default="", invalid_choice_message=CHOOSE)
    due_date = StringField(
        _l("or due date"),
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(
                r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                message=_l(
                    "This is not a date: choose a day in the date picker"
                    " (without one, type it like 2027-03-31)."
                ),
            ),
            _a_real_day,
        ],
    )
    metric = StringField(_l("Target: what is measured"), filters=[_strip])
    op = SelectField(
        _l("Comparison"),
        choices=[SelectChoice(op, OP_LABELS[op]) for op in OPS],
        default=OPS[0],
        invalid_choice_message=CHOOSE,
    )
    value = StringField(_l("Target value"), filters=[_strip])
    unit = StringField(_l("Unit of the value"), filters=[_strip])
    # The item's second and later targets ("100% qualified, more than 60% advanced"): the
    # first keeps the fields above, so that a form of one target reads as it always did.
    more_targets = FieldList(FormField(TargetEntryForm), max_entries=MAX_TARGETS - 1)

    def target_rows(self) -> list[Any]:
        """The forms of the item's targets in order (the first, then the others), typed or not."""
        return [self, *(entry.form for entry in self.more_targets)]

    def validate_due_date(self, field: Any) -> None:
        if field.data and self.due_month.data:
            raise ValidationError(_l("Give a month or a date, not both."))

    def is_blank(self) -> bool:
        """Nothing typed: the row is left out when the plan is saved."""
        typed = (self.text, self.due_month, self.due_date)
        targets = any(target_typed(row) for row in self.target_rows())
        return not any(f.data for f in typed) and not self.owner_unit.data and not targets


class SectionEntryForm(Form):  # type: ignore[misc]
    key = HiddenField(filters=[_strip])
    title = StringField(_l("Section title"), filters=[_strip])
    items = FieldList(FormField(ItemEntryForm), max_entries=MAX_ITEMS_PER_SECTION)


class ContentEditorForm(PlanflowForm):
    """The content editor. ``op`` is the button pressed: save, or a change of the form."""

    # The version of the plan the editing started from: a stale save is refused.
    expected_version = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=MAX_ID)])
    sections = FieldList(FormField(SectionEntryForm), max_entries=MAX_SECTIONS)
    import_text = TextAreaField(
        _l("Plain text of a plan"),
        validators=[Length(max=MAX_IMPORT, message=_l("At most %(max)d characters, please."))],
    )
    op = StringField()


#: Character limits of the editor's fields, as the library checks them (for maxlength).
CONTENT_LIMITS = {"title": MAX_SECTION_TITLE, "text": MAX_TEXT, "short": MAX_SHORT}


# -- personal access tokens and calendar feeds (``webui/tokens.py``) ----------------------


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
