"""The importer's account in the reader's language: its warnings and why it left text out.

The importer (``planflow.core.content.importer``) reports codes with
parameters: ``warnings`` (``several_plans``, ``too_many_targets``,
``review_only``) and a reason for each piece of text it did not import.
An unknown code (a newer importer) is shown by its code, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext  # type: ignore[import-untyped]

WARNINGS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "several_plans": lambda p: gettext(
        "The document holds %(count)s plans; plan %(part)s is shown. Choose another below.",
        count=p["count"],
        part=p["part"],
    ),
    "too_many_targets": lambda p: gettext(
        "Item %(item)s names %(count)s targets; the first %(max)s were kept, the others stay "
        "in its text.",
        item=p["item"],
        count=p["count"],
        max=p["max"],
    ),
    "review_only": lambda p: gettext(
        "Plan %(part)s reads as a review of past work, not as a plan.", part=p["part"]
    ),
}

REASONS: dict[str, Callable[[], str]] = {
    "debris": lambda: gettext("web page text"),
    "other_plan": lambda: gettext("another plan in the document"),
    "review": lambda: gettext("review of past work"),
    "closing": lambda: gettext("closing"),
    "introduction": lambda: gettext("introduction"),
    "preamble": lambda: gettext("introduction"),
    "heading": lambda: gettext("heading"),
    "label": lambda: gettext("label"),
}


def warning_text(code: str, params: Mapping[str, Any]) -> str:
    render = WARNINGS.get(code)
    try:
        return str(render(params)) if render is not None else code
    except (KeyError, TypeError, ValueError):
        return code


def skipped_reason(reason: str) -> str:
    render = REASONS.get(reason)
    return str(render()) if render is not None else reason
