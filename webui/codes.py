"""The library's codes in the user's language: guard refusals and errors.

The library refuses with a stable code and parameters (``planflow.errors``,
listed in ``docs/codes.md``); this module is the web UI's catalogue for
them. It never reads the library's English sentences, except as the last
resort for a code it does not know (a custom guard of a deployment, say),
so that the user still learns why. Each text is a literal ``gettext`` call
so that extraction finds it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext, ngettext  # type: ignore[import-untyped]

from planflow.errors import PlanflowError, Refusal

from .i18n import role_label

Params = Mapping[str, Any]


def _count(params: Params, key: str = "count") -> int:
    return int(params.get(key, 0))


#: Guard refusals (``planflow.core.guards`` and the engine), by code.
REFUSALS: dict[str, Callable[[Params], str]] = {
    "no_items": lambda p: gettext("The plan has no items yet."),
    "items_without_due": lambda p: ngettext(
        "%(num)d item has no due date or month",
        "%(num)d items have no due date or month",
        _count(p),
    ),
    "comment_required": lambda p: gettext("A comment giving the reason is required."),
    "not_self": lambda p: gettext("You submitted this plan, so someone else must act on it."),
    "inspection_unscored": lambda p: gettext("The inspector has not scored every criterion yet."),
    "inspection_failed": lambda p: gettext("The inspection did not pass."),
    "already_voted": lambda p: gettext("You have already approved in this review round."),
    "conditions_not_met": lambda p: gettext("The conditions of this action are not met."),
}


def refusal_text(refusal: Refusal) -> str:
    """A refusal in the user's language; the library's English for an unknown code."""
    render = REFUSALS.get(refusal.code)
    if render is None:
        return refusal.message
    try:
        return str(render(refusal.params))
    except (KeyError, TypeError, ValueError):  # params of an older or newer library
        return refusal.message


def _guard_failed(p: Params) -> str:
    refusals = [
        Refusal(str(r.get("code", "")), r.get("params") or {})
        for r in p.get("refusals", ())
        if isinstance(r, Mapping)
    ]
    reasons = " ".join(refusal_text(r) for r in refusals)
    return str(gettext("This action was refused: %(reasons)s", reasons=reasons))


#: Errors (``PlanflowError.code``) whose text does not depend on the exception object.
ERRORS: dict[str, Callable[[Params], str]] = {
    "stale_version": lambda p: gettext(
        "Someone else changed this plan while you were looking at it "
        "(you had version %(expected)s, it is now at version %(current)s). "
        "Nothing was saved. Check the plan as it is now and try again.",
        expected=p["expected"],
        current=p["current"],
    ),
    "guard_failed": _guard_failed,
    "action_not_allowed": lambda p: gettext(
        "This action is not possible while the plan is in its current state."
    ),
    "permission_denied": lambda p: gettext(
        "You may not do this: it needs the role of %(role)s.", role=role_label(str(p["role"]))
    ),
    "admin_forbidden": lambda p: gettext(
        "You may not do this: it needs the role of %(role)s.", role=role_label(str(p["role"]))
    ),
    "not_found": lambda p: gettext("The page or item you asked for does not exist."),
}


def error_text(error: PlanflowError) -> str | None:
    """The error in the user's language, or None when this catalogue lacks its code."""
    render = ERRORS.get(error.code)
    if render is None:
        return None
    try:
        return str(render(error.params))
    except (KeyError, TypeError, ValueError):
        return None
