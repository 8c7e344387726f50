"""Inspection scoring: from a filled-in acceptance sheet to a grade.

This module owns the arithmetic and the rules of one acceptance check:
totalling the unit's self-assessment and the inspector's scores side by side,
deciding the grade (thresholds, mandatory criteria, downgrades, the
failed-this-year cap) and listing what the unit must rectify by when. It is
plain Python with no storage or web imports. The sheet's rows and their check
against a ``ScoringSheet`` are ``scores``; the outcome and its stored form
(``outcome_to_dict``) are ``outcome``; callers show ``grade_label``.

The inspector's score is authoritative: a criterion's written deduction rule
("each 2% short: minus 0.5") is applied by the inspector, not recomputed here,
because the rules are prose and inspectors may apply judgement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from planflow.core import notes
from planflow.core.definitions.spec import Criterion, Label, ScoringSheet

# The sheet's rows and the outcome's types live beside this module; they are named
# here too, where most of the library and its clients import them from.
from planflow.core.inspection.outcome import OUTCOME_FORMAT as OUTCOME_FORMAT
from planflow.core.inspection.outcome import CategoryTotal as CategoryTotal
from planflow.core.inspection.outcome import GradeCap as GradeCap
from planflow.core.inspection.outcome import InspectionOutcome as InspectionOutcome
from planflow.core.inspection.outcome import RectificationPoint as RectificationPoint
from planflow.core.inspection.outcome import TargetMiss as TargetMiss
from planflow.core.inspection.outcome import Totals as Totals
from planflow.core.inspection.outcome import outcome_from_dict as outcome_from_dict
from planflow.core.inspection.outcome import outcome_to_dict as outcome_to_dict
from planflow.core.inspection.scores import CriterionScore as CriterionScore
from planflow.core.inspection.scores import InvalidScores as InvalidScores
from planflow.core.inspection.scores import ScoreProblem as ScoreProblem
from planflow.core.inspection.scores import validate_scores as validate_scores
from planflow.errors import ValidationError

NOT_PASSED = "not_passed"
_NOT_PASSED_LABEL = Label.of(en="Not passed", zh="不合格", ko="불합격")
_RAW = notes.NoteLabels()


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
