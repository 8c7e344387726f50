"""Inspection scoring: from a filled-in acceptance sheet to a grade.

This module owns the arithmetic and the rules of one acceptance check: checking
the scores against a ``ScoringSheet``, totalling the unit's self-assessment and
the inspector's scores side by side, deciding the grade (thresholds, mandatory
criteria, downgrades, the failed-this-year cap) and listing what the unit must
rectify by when. It is plain Python with no storage or web imports; callers
store ``outcome_to_dict`` and show ``grade_label``.

The inspector's score is authoritative: a criterion's written deduction rule
("each 2% short: minus 0.5") is applied by the inspector, not recomputed here,
because the rules are prose and inspectors may apply judgement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from planflow.core import notes
from planflow.core.definitions.spec import Criterion, Label, ScoringSheet
from planflow.errors import ValidationError

NOT_PASSED = "not_passed"
_NOT_PASSED_LABEL = Label.of(en="Not passed", zh="不合格", ko="불합격")
_RAW = notes.NoteLabels()
#: Layout version of ``outcome_to_dict``; stored rows outlive code, so bump it on change.
OUTCOME_FORMAT = 1


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
class CategoryTotal:
    code: str
    self_total: float  # capped at max_score, like inspector_total
    inspector_total: float
    max_score: float


@dataclass(frozen=True, slots=True)
class Totals:
    categories: tuple[CategoryTotal, ...]
    self_total: float
    inspector_total: float
    max_total: float
    self_scored: int  # criteria with a self score so far
    inspector_scored: int
    criteria_count: int


@dataclass(frozen=True, slots=True)
class TargetMiss:
    code: str
    target: str  # Target.describe(), e.g. "dues >= 100%"
    measured: float


@dataclass(frozen=True, slots=True)
class RectificationPoint:
    code: str
    #: The reasons in English, for the record and the command line.
    reason: str
    #: The same reasons as codes (``planflow.core.notes``): ``{"code", "params"}``
    #: each. Not stored in the outcome (a stored outcome reads back without them).
    reasons: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class GradeCap:
    """The scores earned ``computed`` but a rule only allows ``granted``."""

    computed: str
    granted: str
    reason: str


@dataclass(frozen=True, slots=True)
class InspectionOutcome:
    categories: tuple[CategoryTotal, ...]
    self_total: float
    inspector_total: float
    max_total: float
    grade: str
    passed: bool
    failed_mandatory: tuple[str, ...]
    target_misses: tuple[TargetMiss, ...]
    downgraded_from: str | None
    capped_by_rule: GradeCap | None
    rectification: tuple[RectificationPoint, ...]
    rectification_due: date | None


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


def _sum(values: Iterable[float | None]) -> float:
    # fsum then round: 0.5 steps are exact in binary, but other steps need not be.
    return round(math.fsum(v for v in values if v is not None), 2)


def _totals(sheet: ScoringSheet, by_code: Mapping[str, CriterionScore]) -> Totals:
    categories: list[CategoryTotal] = []
    for cat in sheet.categories:
        rows = [by_code[cr.code] for cr in cat.criteria if cr.code in by_code]
        self_sum = _sum(r.self_score for r in rows)
        inspector_sum = _sum(r.inspector_score for r in rows)
        categories.append(
            CategoryTotal(
                cat.code,
                min(self_sum, float(cat.max_score)),
                min(inspector_sum, float(cat.max_score)),
                float(cat.max_score),
            )
        )
    rows = list(by_code.values())
    return Totals(
        categories=tuple(categories),
        self_total=_sum(c.self_total for c in categories),
        inspector_total=_sum(c.inspector_total for c in categories),
        max_total=float(sheet.max_total),
        self_scored=sum(r.self_score is not None for r in rows),
        inspector_scored=sum(r.inspector_score is not None for r in rows),
        criteria_count=len(sheet.criteria()),
    )


def running_totals(sheet: ScoringSheet, scores: Iterable[CriterionScore]) -> Totals:
    """Totals of a possibly half-filled sheet; ``None`` scores count as not yet given."""
    rows = tuple(scores)
    validate_scores(sheet, rows)
    return _totals(sheet, {r.code: r for r in rows})


def _rank(sheet: ScoringSheet, grade: str, what: str) -> int:
    """Position in the sheet's grade order (0 is best); not passed ranks last."""
    names = [g.name for g in sheet.grades]
    if grade == NOT_PASSED:
        return len(names)
    if grade not in names:
        raise ValidationError(f"unknown {what} {grade!r}; the sheet's grades are {names}")
    return names.index(grade)


def _review_criterion(
    cr: Criterion, row: CriterionScore
) -> tuple[bool, TargetMiss | None, RectificationPoint | None]:
    """Whether a mandatory criterion failed, its target miss and its rectification point.

    Rule: a mandatory criterion fails when the inspector gave no score, gave less
    than full points, or its measured value misses its target. Mandatory (必备)
    means the requirement is met in full, so any deduction fails it. A missing
    measured value is not a miss: the inspector's score then decides alone.
    """
    miss: TargetMiss | None = None
    if cr.target is not None and row.measured is not None and not cr.target.met_by(row.measured):
        miss = TargetMiss(cr.code, cr.target.describe(), float(row.measured))
    score = row.inspector_score
    short = score is not None and score < cr.points
    failed = cr.mandatory and (score is None or short or miss is not None)
    note = row.inspector_note.strip()
    reasons: list[notes.Note] = []
    if failed:
        reasons.append(notes.note("mandatory_failed"))
        if score is None:
            reasons.append(notes.note("not_scored"))
    if score is not None and short and (failed or note):
        reasons.append(notes.note("scored", score=score, points=cr.points))
    if miss is not None and cr.target is not None:
        target = cr.target
        reasons.append(
            notes.note(
                "target_missed",
                metric=target.metric,
                op=target.op,
                value=target.value,
                unit=target.unit,
                measured=miss.measured,
            )
        )
    if reasons and note:
        reasons.append(notes.note("inspector_note", note=note))
    point = None
    if reasons:
        english = "; ".join(notes.reason(r["code"], r["params"], "en", _RAW) for r in reasons)
        point = RectificationPoint(cr.code, english, tuple(reasons))
    return failed, miss, point


def evaluate(
    sheet: ScoringSheet,
    scores: Iterable[CriterionScore],
    *,
    previous_grade: str | None = None,
    failed_this_year: bool = False,
    applied_grade: str | None = None,
    today: date,
    rectification_days: int | None = None,
) -> InspectionOutcome:
    """Grade one inspection from the inspector's scores.

    The grade is the best of ``sheet.grades`` whose threshold the inspector total
    reaches, or "not_passed" below the lowest one or with any failed mandatory
    criterion. A unit that ``failed_this_year`` is being re-inspected after a
    failure and may not rise that year (INSPECTION.md): its grade is capped at
    ``previous_grade``, or the lowest grade if it held none, whatever it applied
    for. ``applied_grade`` only enters the recorded reason. Criteria without a
    row count as unscored.
    """
    rows = tuple(scores)
    validate_scores(sheet, rows)
    for what, name in (("previous grade", previous_grade), ("applied grade", applied_grade)):
        if name is not None:
            _rank(sheet, name, what)
    days = sheet.rectification_days if rectification_days is None else rectification_days
    if days < 0:
        raise ValidationError(f"rectification days must not be negative, got {days}")
    by_code = {r.code: r for r in rows}
    totals = _totals(sheet, by_code)

    failed: list[str] = []
    misses: list[TargetMiss] = []
    points: list[RectificationPoint] = []
    for cr in sheet.criteria():
        is_failed, miss, point = _review_criterion(
            cr, by_code.get(cr.code, CriterionScore(cr.code))
        )
        if is_failed:
            failed.append(cr.code)
        if miss is not None:
            misses.append(miss)
        if point is not None:
            points.append(point)

    computed = NOT_PASSED
    if not failed:
        computed = next(
            (g.name for g in sheet.grades if totals.inspector_total >= g.min_score), NOT_PASSED
        )
    grade, cap = computed, None
    held = previous_grade if previous_grade not in (None, NOT_PASSED) else None
    if failed_this_year and computed != NOT_PASSED:
        ceiling = held or sheet.grades[-1].name
        if _rank(sheet, computed, "grade") < _rank(sheet, ceiling, "grade"):
            reason = f"failed an inspection this year: may not rise above {ceiling!r}"
            if applied_grade is not None:
                reason += f" (applied for {applied_grade!r})"
            grade, cap = ceiling, GradeCap(computed, ceiling, reason)
    downgraded = held is not None and _rank(sheet, grade, "grade") > _rank(sheet, held, "grade")

    return InspectionOutcome(
        categories=totals.categories,
        self_total=totals.self_total,
        inspector_total=totals.inspector_total,
        max_total=totals.max_total,
        grade=grade,
        passed=grade != NOT_PASSED,
        failed_mandatory=tuple(failed),
        target_misses=tuple(misses),
        downgraded_from=held if downgraded else None,
        capped_by_rule=cap,
        rectification=tuple(points),
        rectification_due=today + timedelta(days=days) if points else None,
    )


def grade_label(sheet: ScoringSheet, grade: str, lang: str = "en") -> str:
    """The grade's name in ``lang`` (English when the sheet lacks that language)."""
    if grade == NOT_PASSED:
        return _NOT_PASSED_LABEL.get(lang)
    for g in sheet.grades:
        if g.name == grade:
            return g.label.get(lang)
    raise ValidationError(f"unknown grade {grade!r}")


def outcome_to_dict(outcome: InspectionOutcome) -> dict[str, Any]:
    """A JSON-able dict with a fixed key order; dates as ISO strings."""
    cap = outcome.capped_by_rule
    due = outcome.rectification_due
    return {
        "format": OUTCOME_FORMAT,
        "grade": outcome.grade,
        "passed": outcome.passed,
        "self_total": outcome.self_total,
        "inspector_total": outcome.inspector_total,
        "max_total": outcome.max_total,
        "categories": [
            {
                "code": c.code,
                "self_total": c.self_total,
                "inspector_total": c.inspector_total,
                "max_score": c.max_score,
            }
            for c in outcome.categories
        ],
        "failed_mandatory": list(outcome.failed_mandatory),
        "target_misses": [
            {"code": m.code, "target": m.target, "measured": m.measured}
            for m in outcome.target_misses
        ],
        "downgraded_from": outcome.downgraded_from,
        "capped_by_rule": (
            None
            if cap is None
            else {"computed": cap.computed, "granted": cap.granted, "reason": cap.reason}
        ),
        "rectification": [{"code": p.code, "reason": p.reason} for p in outcome.rectification],
        "rectification_due": None if due is None else due.isoformat(),
    }


def outcome_from_dict(data: Mapping[str, Any]) -> InspectionOutcome:
    """Read back what ``outcome_to_dict`` wrote."""
    if data.get("format") != OUTCOME_FORMAT:
        raise ValidationError(f"unsupported inspection outcome format {data.get('format')!r}")
    cap = data["capped_by_rule"]
    due = data["rectification_due"]
    return InspectionOutcome(
        categories=tuple(CategoryTotal(**c) for c in data["categories"]),
        self_total=data["self_total"],
        inspector_total=data["inspector_total"],
        max_total=data["max_total"],
        grade=data["grade"],
        passed=data["passed"],
        failed_mandatory=tuple(data["failed_mandatory"]),
        target_misses=tuple(TargetMiss(**m) for m in data["target_misses"]),
        downgraded_from=data["downgraded_from"],
        capped_by_rule=None if cap is None else GradeCap(**cap),
        rectification=tuple(RectificationPoint(**p) for p in data["rectification"]),
        rectification_due=None if due is None else date.fromisoformat(due),
    )
