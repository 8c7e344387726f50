"""Token scopes in the reader's language, with their wire names after them.

The library and the HTTP API name a token's scope ``read``, ``write`` or
``admin``; a programmer needs that name (the CLI and the API docs use it),
a person choosing a scope on a Chinese or Korean page needs to read what it
allows. So each scope reads as words with its wire name after it, as
webhook events do (``webhook_texts``).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from markupsafe import escape
from wtforms import SelectChoice  # type: ignore[import-untyped]

SCOPE_LABELS = {
    "read": _l("Look only"),
    "write": _l("Look and act"),
    "admin": _l("Look, act and administer"),
}


def scope_label(scope: str) -> str:
    """``Look and act (write)``; an unknown scope is its name."""
    label = SCOPE_LABELS.get(scope)
    return f"{label} ({scope})" if label is not None else scope


def scope_choices(scopes: Iterable[str]) -> list[SelectChoice]:
    """Options for a form, in the reader's language (labels are looked up when drawn)."""
    return [SelectChoice(s, _LazyScopeLabel(s)) for s in scopes]


class _LazyScopeLabel:
    """An option label worded when the form is drawn, in that request's language."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __str__(self) -> str:
        return scope_label(self.scope)

    def __html__(self) -> str:
        return str(escape(str(self)))
