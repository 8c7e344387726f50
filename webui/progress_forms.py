"""The forms of a plan's execution pages: an item's progress report, the self-assessment.

Both check only the shape of what was typed (a choice, a number, text
without control characters, lengths) and say so in the user's language; the
rules of substance are the library's (``ExecutionService``,
``InspectionService.record_self_assessment``), whose refusals the views put
next to the same fields. Numbers stay text in the form, so a refused value
is shown again exactly as it was typed.

The forms carry no CSRF field of their own: several of them share one page
under different prefixes, and ``CSRFProtect`` checks the token of every POST
before any view runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from babel.units import format_unit
from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_babel import gettext as _gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
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
    ValidationError,
)

from planflow.core.definitions.spec import ScoringSheet, WorkflowSpec
from planflow.core.ids import MAX_ID
from planflow.services.execution import MAX_REPORT, STATUSES
from planflow.services.inspections.rounds import MAX_NOTE
from planflow.services.progress_board import ProgressBoard, Refusal
from planflow.storage.evidence_files import KINDS, EvidenceRefused

from .forms import CHOOSE, PlainText, PlanflowForm
from .i18n import state_label

STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "blocked": _l("Blocked"),
}
assert set(STATUS_LABELS) == set(STATUSES)
#: The longest number a field takes (a score or a measured value needs far less).
MAX_NUMBER = 40
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def gettext(message: str, **variables: Any) -> str:
    """flask-babel's gettext, typed (pybabel extract finds it under this name)."""
    return str(_gettext(message, **variables))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _max(n: int) -> Any:
    return Length(max=n, message=_l("At most %(max)d characters, please."))


def parse_number(text: str | None) -> float | None:
    """A number typed in a form (``None`` when blank); ``ValueError`` if it is not one.

    Plain decimals only: no exponent, no "NaN" or "inf". A number too long
    for a float becomes infinite, which the library refuses in its own words.
    """
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not _NUMBER.fullmatch(value):
        raise ValueError(value)
    return float(value)


class Number:
    """A field holding a plain decimal number (or nothing)."""

    def __call__(self, form: Any, field: Any) -> None:
        try:
            parse_number(field.data)
        except ValueError:
            raise ValidationError(_l("Give a number, e.g. 95 or 87.5.")) from None


def _number_field(label: Any) -> Any:
    return StringField(
        label,
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=MAX_NUMBER, message=_l("This number is too long.")),
            Number(),
        ],
    )


def _version_field() -> Any:
    # The version of the plan the page showed: a save after someone else's is refused.
    return IntegerField(validators=[InputRequired(), NumberRange(min=0, max=MAX_ID)])


class ProgressForm(PlanflowForm):
    """One item's report; an optional file goes with it (the page has one per item)."""

    class Meta:
        csrf = False  # see the module docstring

    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(key, label) for key, label in STATUS_LABELS.items()],
        invalid_choice_message=CHOOSE,
    )
    report = TextAreaField(
        _l("Progress report"),
        filters=[_strip],
        validators=[_max(MAX_REPORT), PlainText(multiline=True)],
    )
    measured = _number_field(_l("Measured value"))
    evidence = FileField(_l("Evidence file"))
    expected_version = _version_field()

    def measured_value(self) -> float | None:
        """The measured value (call after ``validate``)."""
        return parse_number(self.measured.data)

    @classmethod
    def for_targets(cls, count: int) -> type[ProgressForm]:
        """The form of an item with ``count`` targets: ``measured`` for the first, then
        ``measured_2`` … ``measured_<count>`` for the others."""
        if count <= 1:
            return cls
        fields = {
            f"measured_{n}": _number_field(_l("Measured value (target %(n)d)", n=n))
            for n in range(2, count + 1)
        }
        return type("ProgressTargetsForm", (cls,), fields)

    def more_values(self) -> list[float | None]:
        """The values for the second and later targets (call after ``validate``)."""
        values, n = [], 2
        while f"measured_{n}" in self._fields:
            values.append(parse_number(self._fields[f"measured_{n}"].data))
            n += 1
        return values


class SelfAssessmentForm(PlanflowForm):
    """The unit's column of a scoring sheet; ``for_sheet`` adds a row per criterion."""

    class Meta:
        csrf = False  # see the module docstring

    expected_version = _version_field()

    @classmethod
    def for_sheet(cls, sheet: ScoringSheet) -> type[SelfAssessmentForm]:
        """A form class with ``score_<n>``, ``measured_<n>`` (targets only), ``note_<n>``.

        Fields are numbered in sheet order, not named by criterion code:
        codes are whatever the definition says, names must be safe in HTML.
        """
        fields: dict[str, Any] = {}
        for n, criterion in enumerate(sheet.criteria()):
            fields[f"score_{n}"] = _number_field(_l("Your score"))
            if criterion.target is not None:
                fields[f"measured_{n}"] = _number_field(_l("Measured value"))
            fields[f"note_{n}"] = TextAreaField(
                _l("Note"),
                filters=[_strip],
                validators=[_max(MAX_NOTE), PlainText(multiline=True)],
            )
        return type("SheetForm", (cls,), fields)

    def row(self, n: int) -> tuple[Any, Any | None, Any]:
        """The score, measured (or None) and note fields of criterion ``n``."""
        return (
            self[f"score_{n}"],
            self._fields.get(f"measured_{n}"),
            self[f"note_{n}"],
        )


# -- the words for the library's refusals ----------------------------------------------------


def file_size(size: int) -> str:
    """A number of bytes as people read it ("512 bytes", "1.5 kB", "10 MB")."""
    locale = get_locale()
    if size < 1024:
        return format_unit(size, "digital-byte", length="long", locale=locale)
    if size < 1024 * 1024:
        return format_unit(size / 1024, "digital-kilobyte", "short", "#,##0.#", locale)
    return format_unit(size / 1024 / 1024, "digital-megabyte", "short", "#,##0.#", locale)


def states_text(spec: WorkflowSpec, states: Iterable[str]) -> str:
    return ", ".join(state_label(spec, s) for s in states)


def file_refusal(error: EvidenceRefused, limit: int) -> str:
    """Why a file was refused, in the user's language (``limit``: the size limit in bytes)."""
    params = error.params
    if error.reason == "too_big":
        size = params.get("size")
        return gettext(
            "This file is %(size)s; evidence files may be at most %(limit)s.",
            size=file_size(size) if isinstance(size, int) else "?",
            limit=file_size(limit),
        )
    if error.reason == "kind":
        kinds = ", ".join(kind.name.upper() for kind in KINDS)
        return gettext("Files of this kind cannot be attached. Allowed: %(kinds)s.", kinds=kinds)
    if error.reason == "declared":
        return gettext(
            "Your browser sent this file as %(declared)s, which does not match its name."
            " Check the file's extension.",
            declared=params.get("declared") or "?",
        )
    if error.reason == "content" and params.get("looks"):
        return gettext(
            "The file is named as a %(kind)s file, but its content is a %(looks)s file."
            " Rename it or choose the right file.",
            kind=str(params.get("kind", "")).upper(),
            looks=str(params.get("looks")).upper(),
        )
    fixed = {
        "empty": gettext("This file is empty."),
        "content": gettext("The file's content does not match its name."),
        "no_name": gettext("The file has no name. Rename it and choose it again."),
        "path": gettext("The file name contains folder names. Choose the file itself."),
        "control": gettext(
            "The file name contains control characters. Rename the file and choose it again."
        ),
    }
    return str(fixed.get(error.reason, str(error)))


def board_refusal(spec: WorkflowSpec, board: ProgressBoard) -> str | None:
    """Why the viewer cannot report progress on this page now (None: they can)."""
    if board.refusal is Refusal.ROLE:
        return gettext(
            "Only the drafter or submitter of the plan's own unit can report progress."
            " You can read the reports and download the evidence."
        )
    if board.refusal is Refusal.STATE:
        return gettext(
            "Progress can be reported only while the plan is %(states)s; it is now %(state)s.",
            states=states_text(spec, board.work_states),
            state=state_label(spec, board.state),
        )
    return None
