"""A request field's problem in the reader's language, by its code.

The API's 422 answers list each field that did not fit (``errors``) with a
stable ``code`` and, where it matters, ``params``: pydantic's error types
(``missing``, ``string_too_long`` …) and a few of our own (``file``, ``both``,
``text``, ``needed``).
A client words them by code; this module is how the API's own ``message``
is worded, in the language the request asked for (``Accept-Language``), so
that a reader never meets pydantic's English ("Input should be a valid
dictionary or instance of FireRequest", with a class name in it).
A code not listed here keeps the English message it came with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask_babel import gettext  # type: ignore[import-untyped]

from ..i18n import current_language

Words = Callable[[Mapping[str, Any]], str]


def _object(_p: Mapping[str, Any]) -> str:
    return str(gettext("Send a JSON object here."))


def _whole(_p: Mapping[str, Any]) -> str:
    return str(gettext("Send a whole number here."))


def _truth(_p: Mapping[str, Any]) -> str:
    return str(gettext("Send true or false here."))


def _date(_p: Mapping[str, Any]) -> str:
    return str(gettext("Send a date as YYYY-MM-DD."))


def _moment(_p: Mapping[str, Any]) -> str:
    return str(gettext("Send a time as ISO 8601, e.g. 2027-04-01T08:00:00Z."))


#: How the values of a list are joined, by language: (between, before the last).
_JOINS = {"zh": ("、", "、"), "ko": (", ", ", ")}


def _listed(p: Mapping[str, Any]) -> str:
    """A choice's values (``allowed``) joined as the reader's language lists them;
    pydantic's English list ("'a', 'b' or 'c'") only if they are not at hand."""
    allowed = p.get("allowed")
    if not allowed:
        return str(p["expected"])
    return listed(allowed)


def listed(values: Sequence[object], *, last: str = " or ") -> str:
    """Values joined as the reader's language lists them ("a, b or c"; "a、b、c")."""
    between, before_last = _JOINS.get(current_language(), (", ", last))
    words = [str(v) for v in values]
    return between.join(words[:-1]) + before_last + words[-1] if len(words) > 1 else "".join(words)


def _not_an_action(p: Mapping[str, Any]) -> str:
    """``action_not_allowed`` for a program: the state's actions by the names it sends."""
    if not p["available"]:
        return str(
            gettext(
                "The plan is in the state %(state)s, which has no action %(action)s, "
                "nor any other.",
                state=p["state"],
                action=p["action"],
            )
        )
    return str(
        gettext(
            "The plan is in the state %(state)s, which has no action %(action)s. "
            "Possible there: %(available)s (GET the plan: its actions are yours).",
            state=p["state"],
            action=p["action"],
            available=listed(p["available"], last=", "),
        )
    )


#: The API's own wording of a library refusal where its reader, a program's author,
#: needs the names it sends (the pages word these for people: webui/codes/errors.py).
REFUSALS: dict[str, Words] = {"action_not_allowed": _not_an_action}


def _missing(p: Mapping[str, Any]) -> str:
    """A name given in the request that the library found nothing of (``not_found``)."""
    if p["kind"] != "unit":
        raise KeyError("kind")  # the library's English, as for a code not listed
    return str(gettext("There is no unit %(unit)s.", unit=p["ident"]))


WORDS: dict[str, Words] = {
    "missing": lambda p: gettext("This field is needed."),
    "extra_forbidden": lambda p: gettext("This request has no such field."),
    "model_type": _object,
    "model_attributes_type": _object,
    "dict_type": _object,
    "list_type": lambda p: gettext("Send a list here."),
    "string_type": lambda p: gettext("Send text here."),
    "int_type": _whole,
    "int_parsing": _whole,
    "int_from_float": _whole,
    "bool_type": _truth,
    "bool_parsing": _truth,
    "date_type": _date,
    "date_parsing": _date,
    "date_from_datetime_parsing": _date,
    "datetime_type": _moment,
    "datetime_parsing": _moment,
    "string_too_long": lambda p: gettext("At most %(max)s characters.", max=p["max_length"]),
    "string_too_short": lambda p: gettext("At least %(min)s characters.", min=p["min_length"]),
    "too_long": lambda p: gettext("At most %(max)s entries.", max=p["max_length"]),
    "too_short": lambda p: gettext("At least %(min)s entries.", min=p["min_length"]),
    "greater_than_equal": lambda p: gettext("At least %(min)s.", min=p["ge"]),
    "greater_than": lambda p: gettext("More than %(min)s.", min=p["gt"]),
    "less_than_equal": lambda p: gettext("At most %(max)s.", max=p["le"]),
    "less_than": lambda p: gettext("Less than %(max)s.", max=p["lt"]),
    "literal_error": lambda p: gettext("One of: %(choices)s.", choices=_listed(p)),
    "enum": lambda p: gettext("One of: %(choices)s.", choices=_listed(p)),
    "file": lambda p: gettext("Send the document as a file part."),
    "both": lambda p: gettext("Send a file or text, not both."),
    "text": lambda p: gettext("Only the document may be sent as a file part."),
    "needed": lambda p: gettext("This field is needed unless dry_run is set."),
    "repeated": lambda p: gettext(
        "Send this parameter once (it was sent %(count)s times).", count=p["count"]
    ),
    "one_file": lambda p: gettext(
        "Send one document, in one file part; this request has %(count)s.", count=p["count"]
    ),
    "not_found": _missing,
}

#: pydantic's error types of a choice: their ``params`` list the values (``allowed``).
CHOICES = ("literal_error", "enum")

#: The context values of pydantic's errors that the words above use.
PARAMS = ("max_length", "min_length", "ge", "gt", "le", "lt", "expected")


def field_message(code: str, params: Mapping[str, Any], fallback: str) -> str:
    """The problem ``code`` in the request's language; ``fallback`` if not listed
    here or if its parameters are missing."""
    words = WORDS.get(code)
    if words is None:
        return fallback
    try:
        return str(words(params))
    except KeyError:
        return fallback
