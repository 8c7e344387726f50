"""What the system wrote into the record (``planflow.core.notes``), in the user's words.

A note carries its own texts in every language (the e-mails share them);
this module gives it the user's words for roles, actions, metrics and
criteria, from the plan's definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext  # type: ignore[import-untyped]

from planflow.core import notes
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.notes import NoteLabels

from ..i18n import action_label, current_language, role_label

ERROR_NAMES: dict[str, Callable[[], str]] = {
    "guard_failed": lambda: gettext("a condition of the action is not met"),
    "action_not_allowed": lambda: gettext("not possible in this state"),
    "permission_denied": lambda: gettext("not permitted"),
}


def note_labels(spec: WorkflowSpec | None) -> NoteLabels:
    """The user's words for the names a note carries, from the plan's definition."""
    lang = current_language()

    def metric(name: str) -> str:
        sheet = spec.inspection if spec is not None else None
        return sheet.metric_label(name, lang) if sheet is not None else name

    def action(name: str) -> str:
        return action_label(spec, name) if spec is not None else name

    def criterion(code: str) -> str:
        sheet = spec.inspection if spec is not None else None
        return sheet.criterion_label(code, lang) if sheet is not None else code

    def error(code: str) -> str:
        said = ERROR_NAMES.get(code)
        return str(said()) if said is not None else code

    return NoteLabels(
        metric=metric, role=role_label, action=action, error=error, criterion=criterion
    )


def note_text(note: Mapping[str, Any], spec: WorkflowSpec | None) -> str:
    """A text the system wrote into the record, in the user's language."""
    return notes.render(note, current_language(), note_labels(spec))


def record_text(comment: str | None, detail: object, spec: WorkflowSpec | None) -> str | None:
    """What an audit record says: its note in the user's language, else its comment."""
    found = notes.of_detail(detail)
    return note_text(found, spec) if found is not None else comment


def payload_text(payload: Mapping[str, Any], spec: WorkflowSpec | None) -> str | None:
    """What a notification says besides its summary: its note, else its comment."""
    found = notes.note_of(payload.get("note"))
    if found is not None:
        return note_text(found, spec)
    comment = payload.get("comment")
    return comment if isinstance(comment, str) and comment else None
