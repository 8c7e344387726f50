"""The content editor's form: the whole plan in one form, sections with their items.

The nested forms are plain WTForms forms (the CSRF token belongs to the
outer form only). The content's own rules are the library's
(``PlanContent.from_dict``); only the shape of the form is checked here.
``webui/editor_form.py`` moves data between this form and a plan's content.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (  # type: ignore[import-untyped]
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

from .forms import (
    CHOOSE,
    MAX_IMPORT,
    MAX_ITEMS_PER_SECTION,
    MAX_SECTIONS,
    PlanflowForm,
    _a_real_day,
    _strip,
)
from .target_texts import OP_LABELS


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
