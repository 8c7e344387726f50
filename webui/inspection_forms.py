"""The forms of the inspectors' area: the scoring sheet and the visit date.

The sheet's fields depend on the plan's definition, so ``sheet_form`` builds
a form class for one ``ScoringSheet``: per criterion (by its position on the
sheet, since criterion codes are free text) a score, a measured value when
the criterion has a target, and a note. Here only the shape is checked (a
number is a number, a note has no control characters); whether a score fits
the criterion is the library's ``validate_scores``, whose findings the view
puts next to the fields.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (  # type: ignore[import-untyped]
    AnyOf,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from planflow.core.definitions.spec import ScoringSheet
from planflow.core.ids import MAX_ID
from planflow.core.text import MAX_COMMENT
from planflow.services.inspections.rounds import MAX_NOTE

from .forms import PlainText, PlanflowForm

#: A decimal number as people type it: "7", "7.5", "7,5", "-1".
_NUMBER = re.compile(r"^[+-]?[0-9]+(?:[.,][0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
NUMBER_HINT = _l("Give a number, e.g. 7.5.")
OPS = ("save", "start", "finish")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def parse_number(text: str | None) -> float | None:
    """The number typed in a field (None when blank); the field's validator ran first."""
    if not text:
        return None
    return float(text.replace(",", "."))


class Number:
    """Blank, or a plain decimal number (no exponent, no NaN: nobody types those)."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and not _NUMBER.match(field.data):
            raise ValidationError(NUMBER_HINT)


def _version_field() -> Any:
    # The version of the plan the user was looking at: a stale page is refused.
    return IntegerField(validators=[InputRequired(), NumberRange(min=0, max=MAX_ID)])


class SheetForm(PlanflowForm):
    """The inspector's column of the sheet; ``sheet_form`` adds the criteria's fields."""

    expected_version = _version_field()
    op = StringField(validators=[InputRequired(), AnyOf(OPS)])
    comment = TextAreaField(
        _l("Comment to the unit"),
        filters=[_strip],
        validators=[
            Length(max=MAX_COMMENT, message=_l("At most %(max)d characters, please.")),
            PlainText(multiline=True),
        ],
    )
    #: How many criteria the sheet has (set by ``sheet_form``).
    size = 0

    def score(self, index: int) -> Any:
        return self[f"score_{index}"]

    def measured(self, index: int) -> Any:
        return self._fields.get(f"measured_{index}")

    def note(self, index: int) -> Any:
        return self[f"note_{index}"]


def sheet_form(sheet: ScoringSheet) -> type[SheetForm]:
    """A form class with a score, note and (for a target) measured value per criterion."""

    class Sheet(SheetForm):
        pass

    number = [Optional(), Length(max=40, message=NUMBER_HINT), Number()]
    for index, criterion in enumerate(sheet.criteria()):
        setattr(Sheet, f"score_{index}", StringField(_l("Score"), [*number], filters=[_strip]))
        if criterion.target is not None:
            field = StringField(_l("Measured value"), [*number], filters=[_strip])
            setattr(Sheet, f"measured_{index}", field)
        note = TextAreaField(
            _l("Note"),
            filters=[_strip],
            validators=[
                Length(max=MAX_NOTE, message=_l("At most %(max)d characters, please.")),
                PlainText(multiline=True),
            ],
        )
        setattr(Sheet, f"note_{index}", note)
    Sheet.size = len(sheet.criteria())
    return Sheet


class VisitDate:
    """Blank only when removing the date; else a real day (as the date picker sends it)."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            if form.op.data == "set":
                raise ValidationError(_l("Choose the day of the visit."))
            return
        if not _DATE.match(field.data):
            raise ValidationError(
                _l(
                    "This is not a date: choose a day in the date picker"
                    " (without one, type it like 2027-03-31)."
                )
            )
        try:
            date.fromisoformat(field.data)
        except ValueError:
            raise ValidationError(_l("This date does not exist.")) from None


class VisitForm(PlanflowForm):
    """Plan (``op`` "set") or remove (``op`` "clear") the date of the inspector's visit."""

    visit_date = StringField(_l("Visit date"), filters=[_strip], validators=[VisitDate()])
    expected_version = _version_field()
    op = StringField(validators=[InputRequired(), AnyOf(("set", "clear"))])
    #: Where the form was sent from: "calendar" (with ``month`` as YYYY-MM) or the sheet.
    back = HiddenField(filters=[_strip])
    month = HiddenField(filters=[_strip])

    def visit_day(self) -> date | None:
        return date.fromisoformat(self.visit_date.data) if self.visit_date.data else None
