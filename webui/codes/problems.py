"""Problems with what a user typed: plan content at the editor, a scoring sheet's entries."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext  # type: ignore[import-untyped]

from planflow.core import notes
from planflow.core.content.items import Problem
from planflow.core.inspection.scoring import ScoreProblem

from .words import Params, worded

CONTENT_PROBLEMS: dict[str, Callable[[Params], str]] = {
    "required": lambda p: gettext("This field is required."),
    "too_long": lambda p: gettext("At most %(max)d characters, please.", max=int(p["max"])),
    "control_character": lambda p: gettext("This text contains a control character; remove it."),
    "bidi_control": lambda p: gettext("This text contains a control character; remove it."),
    "month_range": lambda p: gettext("Choose one of the options."),
    "bad_date": lambda p: gettext(
        "This is not a date. Give it as year-month-day, e.g. 2027-03-31."
    ),
    "outside_year": lambda p: gettext(
        "The date must lie in the plan's year, %(year)s.", year=p["year"]
    ),
    "not_finite": lambda p: gettext("Give a number, e.g. 95 or 2.5."),
    "not_one_of": lambda p: gettext("Choose one of the options."),
    "no_previous_item": lambda p: gettext("The first item has no item before it to merge into."),
    "nothing_to_split": lambda p: gettext(
        "This item is one sentence; put a line break where it should be split."
    ),
    "unknown_key": lambda p: gettext("The preview changed meanwhile. Read the document again."),
    "unknown_owner": lambda p: gettext(
        "%(owner)s is not this plan's unit or a unit below it.", owner=p["owner"]
    ),
    "too_many": lambda p: gettext("At most %(max)d targets, please.", max=int(p["max"])),
}


def content_problem_text(problem: Problem) -> str | None:
    """A content problem in the user's language, or None for a code not listed here."""
    return worded(CONTENT_PROBLEMS, problem.code, problem.params)


def _points(p: Params) -> str:
    return notes.number(p["points"])


#: A bad entry of a scoring sheet (``planflow.core.inspection.scoring.ScoreProblem``),
#: said at its criterion's field. The inspector's sheet says some of them its own way.
SCORE_PROBLEMS: dict[str, Callable[[Params], str]] = {
    "below_zero": lambda p: gettext("This cannot be below 0."),
    "above_points": lambda p: gettext(
        "This criterion has %(points)s points; give at most that.", points=_points(p)
    ),
    "not_finite": lambda p: gettext("This number is too large."),
    "not_number": lambda p: gettext("Give a number, e.g. 7.5."),
    "no_target": lambda p: gettext("This criterion has no target, so it takes no measured value."),
    # Only a page older than the sheet, or changed outside it, sends these two.
    "duplicate": lambda p: gettext(
        "This criterion was sent more than once. Reload the page and try again."
    ),
    "unknown_criterion": lambda p: gettext(
        "The scoring sheet has no such criterion. Reload the page and try again."
    ),
}


def score_problem_text(problem: ScoreProblem) -> str:
    """A bad entry of a sheet in the user's language; the English for an unknown code."""
    render = SCORE_PROBLEMS.get(problem.code)
    if render is None:
        return problem.message
    try:
        return str(render(problem.params))
    except (KeyError, TypeError, ValueError):
        return problem.message


#: An error's code, said briefly (inside a note: "the automatic action was refused (…)").
