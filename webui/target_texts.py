"""Targets in the reader's language: "培训次数不少于 3", not "培训次数 >= 3".

The library says a target as a phrase code with its metric and amount
(``planflow.core.content.target_words``); this module words each code with
gettext, and names each comparison for the editor's select (whose values
stay the operators the content stores).
"""

from __future__ import annotations

from typing import Any, Protocol

from flask_babel import gettext, lazy_gettext  # type: ignore[import-untyped]

from planflow.core.content.items import OPS, Item
from planflow.core.content.target_words import TargetWording
from planflow.core.definitions.spec import Target


class _Worded(Protocol):
    """An item's target or an inspection criterion's: anything that gives its wording."""

    def wording(self) -> TargetWording: ...


#: Each comparison in words, as the editor offers it (value: the operator).
OP_LABELS: dict[str, Any] = {
    ">=": lazy_gettext("at least"),
    "<=": lazy_gettext("at most"),
    "=": lazy_gettext("exactly"),
    ">": lazy_gettext("more than"),
    "<": lazy_gettext("less than"),
}
assert set(OP_LABELS) == set(OPS)


def wording_text(wording: TargetWording) -> str:
    """One target as a person writes it, in the request's language."""
    params = {"metric": wording.metric, "amount": wording.amount}
    # Whole phrases, not a metric + word + value: the languages order them differently.
    match wording.code:
        case "at_least":
            return str(gettext("%(metric)s at least %(amount)s", **params))
        case "at_most":
            return str(gettext("%(metric)s at most %(amount)s", **params))
        case "exactly":
            return str(gettext("%(metric)s exactly %(amount)s", **params))
        case "more_than":
            return str(gettext("%(metric)s more than %(amount)s", **params))
        case "less_than":
            return str(gettext("%(metric)s less than %(amount)s", **params))
    return wording.english()


def target_text(target: _Worded) -> str:
    """An item's target in the request's language ("stewards trained at least 40")."""
    return wording_text(target.wording())


def describe_targets(item: Item) -> str:
    """An item's targets in one line, in the plan's order and the request's language."""
    return "; ".join(target_text(t) for t in item.targets)


def criterion_target_text(target: Target, lang: str) -> str:
    """A scoring criterion's target, its metric named in ``lang`` ("满意度不少于 90%")."""
    return wording_text(target.wording(lang))
