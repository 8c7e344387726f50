"""The details of an administrator's action, in the reader's language.

The organisation's trail stores each action's parameters as plain JSON
(``planflow.core.org_audit.ACTIONS``): keys in English, times as ISO text,
flags as true/false. That is right for a record that must hash the same
forever, and wrong for a person reading the admin page in Chinese or
Korean. This module turns one record's parameters into labelled fields:
the key's label, and the value as the rest of the UI shows such a value
(times in the configured zone, roles and languages by name, yes/no).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l

from .i18n import LANGUAGE_NAMES, role_label, when_formatter

#: Every parameter an action records, with its label (unknown ones show their key).
FIELD_LABELS = {
    "user": _l("Person"),
    "username": _l("Person"),
    "display_name": _l("Name shown"),
    "email": _l("E-mail"),
    "language": _l("Language"),
    "password_set": _l("Password set"),
    "role": _l("Role"),
    "unit": _l("Unit"),
    "name": _l("Name"),
    "token_name": _l("Name"),
    "parent": _l("Parent unit"),
    "from": _l("Before"),
    "to": _l("After"),
    "plan": _l("Plan"),
    "from_state": _l("State before"),
    "to_state": _l("State after"),
    "token": _l("Token"),
    "scope": _l("Scope"),
    "expires_at": _l("Expires"),
    "webhook": _l("Webhook"),
    "url": _l("Address"),
    "events": _l("Events"),
    "allow_private": _l("Private addresses allowed"),
    "on": _l("People may add their own channel"),
    "with_removed": _l("Including removed ones"),
}


def _yes_no(value: object) -> str:
    return str(gettext("yes") if value else gettext("no"))


def _language(value: object) -> str:
    return LANGUAGE_NAMES.get(str(value), str(value))


def _plain(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "—"
    return str(value)


#: How a key's value reads, where it is not plain text.
_VALUE_TEXTS: Mapping[str, Callable[[object], str]] = {
    "role": lambda v: role_label(str(v)),
    "language": _language,
    "password_set": _yes_no,
    "allow_private": _yes_no,
    "on": _yes_no,
    "with_removed": _yes_no,
}


def detail_fields(detail: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, value)`` pairs for one record, in the reader's language."""
    when = when_formatter()
    fields = []
    for key, value in detail.items():
        label = str(FIELD_LABELS.get(key, key.replace("_", " ")))
        if key in _VALUE_TEXTS and value is not None:
            text = _VALUE_TEXTS[key](value)
        elif key.endswith("_at") and isinstance(value, str):
            text = _moment(value, when)
        else:
            text = _plain(value)
        fields.append((label, text))
    return fields


def _moment(value: str, when: Callable[[datetime | None], str]) -> str:
    try:
        return when(datetime.fromisoformat(value))
    except ValueError:  # written by an older version in another form: show it as stored
        return value
