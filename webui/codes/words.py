"""How the catalogue says a code's parameters: people, actions, states, times, counts.

A refusal or error names people by user id and actions and states by their
names in the definition; the reader sees display names and the labels of
the definitions at hand, and times in their own zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext  # type: ignore[import-untyped]

from ..i18n import action_label, current_language, format_when, state_label
from ..users import planflow

Params = Mapping[str, Any]


def worded(
    table: Mapping[str, Callable[[Params], object]], code: str, params: Params
) -> str | None:
    """``code`` worded by ``table`` with its parameters; None when the table lacks the
    code or the parameters do not fit its words (those of an older or newer library)."""
    render = table.get(code)
    if render is None:
        return None
    try:
        return str(render(params))
    except (KeyError, TypeError, ValueError):
        return None


def count_of(params: Params, key: str = "count") -> int:
    """The count a code's parameters carry under ``key`` (0 when it is missing)."""
    return int(params.get(key, 0))


def gesture_name(name: object) -> str:
    """A gesture a refusal names (transfer, add an approver, CC), in the user's words."""
    words = {
        "transfer": gettext("Transfer"),
        "add_approver": gettext("Add an approver"),
        "cc": gettext("CC"),
    }
    return str(words.get(str(name), name))


def person_name(user_id: object) -> str:
    """A person a notice or refusal names by user id, by their display name where known
    (a name as it was typed stays as it is)."""
    pf = planflow()
    if isinstance(user_id, str):  # a name as it was typed
        return user_id
    username = pf.org_snapshot().usernames.get(user_id) if isinstance(user_id, int) else None
    if username is None:
        return str(gettext("someone else"))
    return pf.display_names([username]).get(username, username)


def action_name(name: object) -> str:
    """A trigger a refusal names, by its label in the definitions at hand."""
    for spec in planflow().registry.all():
        if isinstance(name, str) and spec.transition_named(name) is not None:
            return action_label(spec, name)
    return str(name or "")


def state_name(name: object) -> str:
    """A state a refusal names, by its label in the definitions at hand."""
    for spec in planflow().registry.all():
        if isinstance(name, str) and name in spec.state_names:
            return state_label(spec, name)
    return str(name or "")


def when_text(iso: object) -> str:
    """An ISO time from the parameters, in the user's zone; the text itself if not a time."""
    try:
        return format_when(datetime.fromisoformat(str(iso)))
    except ValueError:
        return str(iso)


def criterion_words(criterion: Params) -> str:
    """A criterion a refusal names (``{"code", "text": {lang: text}}``), as the sheet shows
    it: its code and its text in the reader's language (English where the sheet lacks it)."""
    code = str(criterion.get("code", ""))
    texts = criterion.get("text")
    text = None
    if isinstance(texts, Mapping):
        text = texts.get(current_language()) or texts.get("en")
    return f"{code} {text}" if text else code
