"""A filled-in acceptance sheet and what may be in it: its rows, their problems, the check.

``validate_scores`` checks every row against the ``ScoringSheet`` at once and
raises ``InvalidScores`` with every ``ScoreProblem``, so a form can mark all
of them; each problem has a stable code (``docs/codes.md``) and parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planflow.core.definitions.spec import ScoringSheet
from planflow.errors import ValidationError


@dataclass(frozen=True, slots=True)
class CriterionScore:
    """One row of a filled-in sheet: the unit's and the inspector's columns."""

    code: str
    self_score: float | None = None
    self_note: str = ""
    inspector_score: float | None = None
    inspector_note: str = ""
    measured: float | None = None  # the actual value for the criterion's target


@dataclass(frozen=True, slots=True)
class ScoreProblem:
    """One bad entry of a sheet: its criterion and column, a stable code and parameters.

    ``column`` is ``self_score``, ``inspector_score`` or ``measured``, or None
    for the row as a whole. ``message`` is the English for logs and the
    command line; clients say the problem by ``code`` (``docs/codes.md``).
    """

    criterion: str
    code: str
    message: str
    column: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The problem as a client receives it (``InvalidScores.params["details"]``)."""
        return {
            "criterion": self.criterion,
            "column": self.column,
            "code": self.code,
            "params": dict(self.params),
        }

    def __str__(self) -> str:
        return f"{self.criterion}: {self.message}"


class InvalidScores(ValidationError):
    """Every bad entry of a sheet at once, so a form can mark all of them."""

    code = "invalid_scores"

    def __init__(self, problems: Sequence[ScoreProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"{len(self.problems)} invalid score(s): " + "; ".join(map(str, self.problems)),
            params={
                "criteria": sorted({p.criterion for p in self.problems}),
                "details": [p.to_dict() for p in self.problems],
            },
        )


#: The columns of a row, as ``ScoreProblem.column`` names them and in English.
_COLUMNS = (
    ("self_score", "self score"),
    ("inspector_score", "inspector score"),
)


def _number_problem(code: str, column: str, what: str, value: object) -> ScoreProblem | None:
    # Form input can smuggle in bools (an int subclass) or strings; say so plainly.
    if isinstance(value, bool) or not isinstance(value, int | float):
        message = f"{what} is not a number: {value!r}"
        return ScoreProblem(code, "not_number", message, column, {"value": repr(value)})
    if not math.isfinite(value):
        message = f"{what} is not a finite number: {value!r}"
        return ScoreProblem(code, "not_finite", message, column, {"value": repr(value)})
    return None


def validate_scores(sheet: ScoringSheet, scores: Iterable[CriterionScore]) -> None:
    """Raise ``InvalidScores`` naming every unknown, duplicated or out-of-range entry."""
    criteria = {cr.code: cr for cr in sheet.criteria()}
    problems: list[ScoreProblem] = []
    seen: set[str] = set()
    for entry in scores:
        code = entry.code
        if code in seen:
            problems.append(ScoreProblem(code, "duplicate", "scored more than once"))
            continue
        seen.add(code)
        criterion = criteria.get(code)
        if criterion is None:
            problems.append(ScoreProblem(code, "unknown_criterion", "unknown criterion code"))
            continue
        for column, what in _COLUMNS:
            value = getattr(entry, column)
            if value is None:
                continue
            problem = _number_problem(code, column, what, value)
            if problem is None and value < 0:
                message = f"{what} {value:g} is below 0"
                problem = ScoreProblem(code, "below_zero", message, column, {"value": value})
            elif problem is None and value > criterion.points:
                message = f"{what} {value:g} is above the criterion's {criterion.points:g} points"
                params = {"value": value, "points": criterion.points}
                problem = ScoreProblem(code, "above_points", message, column, params)
            if problem is not None:
                problems.append(problem)
        if entry.measured is not None:
            problem = _number_problem(code, "measured", "measured value", entry.measured)
            if problem is not None:
                problems.append(problem)
            elif criterion.target is None:
                # Silently dropping it would hide a sheet/form mismatch.
                message = "measured value given, but the criterion has no target"
                problems.append(ScoreProblem(code, "no_target", message, "measured"))
    if problems:
        raise InvalidScores(problems)
