"""Tests of planflow.core.inspection.scoring against the sheet in workflows/annual_plan.yaml."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planflow.core.definitions.spec import Category, Criterion, Grade, Label, ScoringSheet, Target
from planflow.core.inspection.scoring import (
    NOT_PASSED,
    CategoryTotal,
    CriterionScore,
    GradeCap,
    InspectionOutcome,
    InvalidScores,
    RectificationPoint,
    TargetMiss,
    evaluate,
    grade_label,
    outcome_from_dict,
    outcome_to_dict,
    running_totals,
    validate_scores,
)
from planflow.errors import ValidationError

TODAY = date(2025, 4, 15)


def annual_plan_sheet() -> ScoringSheet:
    """The ``inspection:`` section of workflows/annual_plan.yaml, built by hand."""

    def cr(
        code: str,
        en: str,
        points: float,
        *,
        mandatory: bool = False,
        target: Target | None = None,
        deduction: Label | None = None,
    ) -> Criterion:
        return Criterion(code, Label.of(en=en), points, mandatory, target, deduction)

    return ScoringSheet(
        title=Label.of(en="Workers' home acceptance sheet", zh="职工之家验收评分表"),
        rectification_days=30,
        grades=(
            Grade("model", Label.of(en="Model", zh="模范", ko="모범"), 90),
            Grade("advanced", Label.of(en="Advanced", zh="先进", ko="우수"), 80),
            Grade("qualified", Label.of(en="Qualified", zh="合格", ko="적격"), 60),
        ),
        categories=(
            Category(
                "A",
                Label.of(en="Party, administration and union build the home together"),
                20,
                (
                    cr("A1", "Union work on the leadership agenda twice a year", 10),
                    cr(
                        "A2",
                        "Union committee and groups established and duties clear",
                        10,
                        mandatory=True,
                        deduction=Label.of(en="no union group: 0 points; duties unclear: minus 1"),
                    ),
                ),
            ),
            Category(
                "B",
                Label.of(en="The union protects members' rights"),
                20,
                (
                    cr(
                        "B1",
                        "Collective-contract satisfaction",
                        10,
                        target=Target("satisfaction", ">=", 90, "%"),
                        deduction=Label.of(en="each 2% short of the target: minus 0.5"),
                    ),
                    cr(
                        "B2",
                        "Labour contracts signed",
                        10,
                        mandatory=True,
                        target=Target("signed", ">=", 95, "%"),
                    ),
                ),
            ),
            Category(
                "C",
                Label.of(en="Democratic management"),
                20,
                (
                    cr(
                        "C1",
                        "Suggestions implemented",
                        20,
                        target=Target("implemented", ">=", 70, "%"),
                    ),
                ),
            ),
            Category(
                "D",
                Label.of(en="Members' cultural life"),
                20,
                (
                    cr(
                        "D1",
                        "Cultural or sports activities",
                        10,
                        target=Target("activities", ">=", 6),
                    ),
                    cr(
                        "D2",
                        "Participation in the labour competition",
                        10,
                        target=Target("participation", ">=", 85, "%"),
                    ),
                ),
            ),
            Category(
                "E",
                Label.of(en="The union's own organisation and finances"),
                20,
                (
                    cr(
                        "E1",
                        "Dues collected in full and on time",
                        10,
                        mandatory=True,
                        target=Target("dues", ">=", 100, "%"),
                    ),
                    cr(
                        "E2", "Activists among staff", 10, target=Target("activists", ">=", 25, "%")
                    ),
                ),
            ),
        ),
    )


SHEET = annual_plan_sheet()
# Same sheet, but category A is capped below the sum of its criteria (10 + 10).
CAPPED_SHEET = dataclasses.replace(
    SHEET,
    categories=(dataclasses.replace(SHEET.categories[0], max_score=15), *SHEET.categories[1:]),
)
NON_MANDATORY = [cr for cr in SHEET.criteria() if not cr.mandatory]


@pytest.fixture(scope="module")
def sheet() -> ScoringSheet:
    return SHEET


def full_marks(**inspector: float | None) -> list[CriterionScore]:
    """Self and inspector both full marks, with inspector overrides by code."""
    return [
        CriterionScore(cr.code, cr.points, "", inspector.get(cr.code, cr.points), "", None)
        for cr in SHEET.criteria()
    ]


def scores_for_total(total: float) -> list[CriterionScore]:
    """Mandatory criteria at full points; the deduction spread over the others."""
    missing = 100 - total
    overrides: dict[str, float | None] = {}
    for cr in NON_MANDATORY:
        take = min(missing, cr.points)
        overrides[cr.code] = cr.points - take
        missing -= take
    assert missing == 0
    return full_marks(**overrides)


def test_sheet_mirrors_yaml(sheet: ScoringSheet) -> None:
    assert sheet.max_total == 100
    assert [c.code for c in sheet.criteria() if c.mandatory] == ["A2", "B2", "E1"]


def test_full_marks_is_model_with_nothing_to_fix(sheet: ScoringSheet) -> None:
    out = evaluate(sheet, full_marks(), today=TODAY)
    assert (out.grade, out.passed, out.inspector_total, out.self_total) == ("model", True, 100, 100)
    assert out.failed_mandatory == () and out.target_misses == ()
    assert out.rectification == () and out.rectification_due is None
    assert out.downgraded_from is None and out.capped_by_rule is None


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (100, "model"),
        (90, "model"),
        (89.5, "advanced"),
        (80, "advanced"),
        (79.5, "qualified"),
        (60, "qualified"),
        (59.5, NOT_PASSED),
        (30, NOT_PASSED),
    ],
)
def test_grade_thresholds_at_the_boundaries(sheet: ScoringSheet, total: float, grade: str) -> None:
    out = evaluate(sheet, scores_for_total(total), today=TODAY)
    assert out.inspector_total == total
    assert out.grade == grade
    assert out.passed is (grade != NOT_PASSED)


def test_failed_mandatory_fails_a_unit_with_95_points(sheet: ScoringSheet) -> None:
    out = evaluate(sheet, full_marks(A2=5), today=TODAY)
    assert out.inspector_total == 95
    assert out.failed_mandatory == ("A2",)
    assert (out.grade, out.passed) == (NOT_PASSED, False)


def test_missing_inspector_score_on_mandatory_criterion_fails(sheet: ScoringSheet) -> None:
    out = evaluate(sheet, full_marks(B2=None), today=TODAY)
    assert out.inspector_total == 90
    assert out.failed_mandatory == ("B2",)
    assert out.grade == NOT_PASSED
    assert out.rectification == (
        RectificationPoint("B2", "mandatory criterion failed; no inspector score"),
    )


def test_missing_row_counts_as_unscored(sheet: ScoringSheet) -> None:
    rows = [r for r in full_marks() if r.code not in ("E1", "D1")]
    out = evaluate(sheet, rows, today=TODAY)
    assert out.inspector_total == 80
    assert out.failed_mandatory == ("E1",)


def test_measured_value_missing_its_target_fails_mandatory(sheet: ScoringSheet) -> None:
    rows = [dataclasses.replace(r, measured=98) if r.code == "E1" else r for r in full_marks()]
    out = evaluate(sheet, rows, today=TODAY)
    assert out.inspector_total == 100  # the inspector gave full points, the target still decides
    assert out.failed_mandatory == ("E1",)
    assert out.target_misses == (TargetMiss("E1", "dues at least 100%", 98.0),)
    assert out.grade == NOT_PASSED


def test_target_met_exactly_is_not_a_miss(sheet: ScoringSheet) -> None:
    rows = [dataclasses.replace(r, measured=100) if r.code == "E1" else r for r in full_marks()]
    out = evaluate(sheet, rows, today=TODAY)
    assert out.target_misses == () and out.grade == "model"


def test_non_mandatory_target_miss_does_not_fail(sheet: ScoringSheet) -> None:
    rows = [dataclasses.replace(r, measured=4) if r.code == "D1" else r for r in full_marks()]
    out = evaluate(sheet, rows, today=TODAY)
    assert out.failed_mandatory == ()
    assert out.target_misses == (TargetMiss("D1", "activities at least 6", 4.0),)
    assert out.grade == "model"
    assert out.rectification == (
        RectificationPoint("D1", "target missed: activities at least 6 (measured 4)"),
    )


def test_downgrade_from_model_to_advanced(sheet: ScoringSheet) -> None:
    out = evaluate(sheet, scores_for_total(85), previous_grade="model", today=TODAY)
    assert (out.grade, out.downgraded_from) == ("advanced", "model")


def test_downgrade_to_not_passed_and_no_downgrade_when_rising(sheet: ScoringSheet) -> None:
    out = evaluate(sheet, full_marks(A2=9), previous_grade="advanced", today=TODAY)
    assert (out.grade, out.downgraded_from) == (NOT_PASSED, "advanced")
    out = evaluate(sheet, scores_for_total(95), previous_grade="qualified", today=TODAY)
    assert (out.grade, out.downgraded_from) == ("model", None)
    out = evaluate(sheet, scores_for_total(90), previous_grade="model", today=TODAY)
    assert out.downgraded_from is None


def test_failed_this_year_caps_grade_at_previous(sheet: ScoringSheet) -> None:
    out = evaluate(
        sheet,
        scores_for_total(95),
        previous_grade="advanced",
        applied_grade="model",
        failed_this_year=True,
        today=TODAY,
    )
    assert out.grade == "advanced"
    assert out.capped_by_rule == GradeCap(
        "model",
        "advanced",
        "failed an inspection this year: may not rise above 'advanced' (applied for 'model')",
    )
    assert out.downgraded_from is None
    # The same scores without the failure earn the applied grade.
    free = evaluate(
        sheet, scores_for_total(95), previous_grade="advanced", applied_grade="model", today=TODAY
    )
    assert (free.grade, free.capped_by_rule) == ("model", None)


def test_failed_this_year_without_previous_grade_caps_at_lowest(sheet: ScoringSheet) -> None:
    out = evaluate(sheet, scores_for_total(85), failed_this_year=True, today=TODAY)
    assert out.grade == "qualified"
    assert out.capped_by_rule is not None and out.capped_by_rule.computed == "advanced"


def test_cap_never_raises_a_grade(sheet: ScoringSheet) -> None:
    out = evaluate(
        sheet, scores_for_total(85), previous_grade="model", failed_this_year=True, today=TODAY
    )
    assert (out.grade, out.capped_by_rule, out.downgraded_from) == ("advanced", None, "model")


def test_rectification_list_and_due_date(sheet: ScoringSheet) -> None:
    rows = {r.code: r for r in full_marks()}
    rows["A1"] = CriterionScore("A1", 10, "", 8, "only one leadership meeting on union work", None)
    rows["D2"] = CriterionScore("D2", 10, "", 9, "", 90)  # short but no note: not listed
    rows["B1"] = CriterionScore("B1", 10, "", 10, "well done", 95)  # full points: not listed
    rows["E1"] = CriterionScore("E1", 10, "", 10, "two months late", 98)
    rows["D1"] = CriterionScore("D1", 10, "", 8.5, "", 4)
    out = evaluate(sheet, list(rows.values()), today=TODAY)
    assert out.rectification == (
        RectificationPoint(
            "A1", "scored 8 of 10; inspector: only one leadership meeting on union work"
        ),
        RectificationPoint("D1", "target missed: activities at least 6 (measured 4)"),
        RectificationPoint(
            "E1",
            "mandatory criterion failed; target missed: dues at least 100% (measured 98); "
            "inspector: two months late",
        ),
    )
    assert out.rectification_due == date(2025, 5, 15)
    short = evaluate(sheet, list(rows.values()), today=TODAY, rectification_days=10)
    assert short.rectification_due == date(2025, 4, 25)


def test_validate_scores_reports_every_error_at_once(sheet: ScoringSheet) -> None:
    rows = [
        CriterionScore("Z9", 1, "", 1, "", None),
        CriterionScore("A1", 10, "", 12, "", None),
        CriterionScore("B1", -0.5, "", 5, "", None),
        CriterionScore("C1", 20, "", 20, "", None),
        CriterionScore("C1", 20, "", 20, "", None),
        CriterionScore("D1", 5, "", math.nan, "", None),
        CriterionScore("E2", math.inf, "", 5, "", None),
        CriterionScore("A2", 10, "", 10, "", 50),
        CriterionScore("E1", 10, "", 10, "", math.nan),
    ]
    with pytest.raises(InvalidScores) as info:
        validate_scores(sheet, rows)
    assert [(p.criterion, p.message) for p in info.value.problems] == [
        ("Z9", "unknown criterion code"),
        ("A1", "inspector score 12 is above the criterion's 10 points"),
        ("B1", "self score -0.5 is below 0"),
        ("C1", "scored more than once"),
        ("D1", "inspector score is not a finite number: nan"),
        ("E2", "self score is not a finite number: inf"),
        ("A2", "measured value given, but the criterion has no target"),
        ("E1", "measured value is not a finite number: nan"),
    ]
    # The protocol: a code, the column and parameters for each; clients never read the English.
    assert [(p.criterion, p.column, p.code, dict(p.params)) for p in info.value.problems] == [
        ("Z9", None, "unknown_criterion", {}),
        ("A1", "inspector_score", "above_points", {"value": 12, "points": 10}),
        ("B1", "self_score", "below_zero", {"value": -0.5}),
        ("C1", None, "duplicate", {}),
        ("D1", "inspector_score", "not_finite", {"value": "nan"}),
        ("E2", "self_score", "not_finite", {"value": "inf"}),
        ("A2", "measured", "no_target", {}),
        ("E1", "measured", "not_finite", {"value": "nan"}),
    ]
    assert info.value.params["details"][1] == {
        "criterion": "A1",
        "column": "inspector_score",
        "code": "above_points",
        "params": {"value": 12, "points": 10},
    }
    assert isinstance(info.value, ValidationError)
    assert str(info.value).startswith("8 invalid score(s): Z9: unknown criterion code; A1:")
    with pytest.raises(InvalidScores):
        evaluate(sheet, rows, today=TODAY)


def test_bool_and_text_scores_are_rejected(sheet: ScoringSheet) -> None:
    rows = [CriterionScore("A1", True, "", "9", "", None)]  # type: ignore[arg-type]
    with pytest.raises(InvalidScores) as info:
        validate_scores(sheet, rows)
    assert [(p.criterion, p.column, p.code, p.message) for p in info.value.problems] == [
        ("A1", "self_score", "not_number", "self score is not a number: True"),
        ("A1", "inspector_score", "not_number", "inspector score is not a number: '9'"),
    ]


def test_bad_grade_names_and_negative_days_are_rejected(sheet: ScoringSheet) -> None:
    with pytest.raises(ValidationError, match="unknown previous grade 'gold'"):
        evaluate(sheet, full_marks(), previous_grade="gold", today=TODAY)
    with pytest.raises(ValidationError, match="unknown applied grade 'gold'"):
        evaluate(sheet, full_marks(), applied_grade="gold", today=TODAY)
    with pytest.raises(ValidationError, match="must not be negative"):
        evaluate(sheet, full_marks(), today=TODAY, rectification_days=-1)


def test_self_and_inspector_totals_side_by_side(sheet: ScoringSheet) -> None:
    out = evaluate(sheet, full_marks(A1=7.5, C1=16, E2=9), today=TODAY)
    assert out.self_total == 100
    assert out.inspector_total == 92.5
    assert out.categories == (
        CategoryTotal("A", 20, 17.5, 20),
        CategoryTotal("B", 20, 20, 20),
        CategoryTotal("C", 20, 16, 20),
        CategoryTotal("D", 20, 20, 20),
        CategoryTotal("E", 20, 19, 20),
    )


def test_category_totals_are_capped() -> None:
    out = evaluate(CAPPED_SHEET, full_marks(A1=9), today=TODAY)
    assert CAPPED_SHEET.max_total == 95
    assert out.categories[0] == CategoryTotal("A", 15, 15, 15)
    assert (out.self_total, out.inspector_total) == (95, 95)


def test_running_totals_of_a_half_filled_form(sheet: ScoringSheet) -> None:
    rows = [
        CriterionScore("A1", 9, "", None, "", None),
        CriterionScore("A2", 10, "", 9.5, "", None),
        CriterionScore("C1", None, "", 15, "", None),
    ]
    totals = running_totals(sheet, rows)
    assert (totals.self_total, totals.inspector_total, totals.max_total) == (19, 24.5, 100)
    assert (totals.self_scored, totals.inspector_scored, totals.criteria_count) == (2, 2, 9)
    assert totals.categories[0] == CategoryTotal("A", 19, 9.5, 20)
    assert totals.categories[1] == CategoryTotal("B", 0, 0, 20)
    with pytest.raises(InvalidScores):
        running_totals(sheet, [CriterionScore("A1", 11, "", None, "", None)])


def test_grade_labels(sheet: ScoringSheet) -> None:
    assert [grade_label(sheet, NOT_PASSED, lang) for lang in ("en", "zh", "ko")] == [
        "Not passed",
        "不合格",
        "불합격",
    ]
    assert grade_label(sheet, "model", "zh") == "模范"
    assert grade_label(sheet, "advanced", "ko") == "우수"
    assert grade_label(sheet, "qualified", "fr") == "Qualified"
    with pytest.raises(ValidationError):
        grade_label(sheet, "gold", "en")


def test_outcome_dict_is_json_and_round_trips(sheet: ScoringSheet) -> None:
    rows = [dataclasses.replace(r, measured=98) if r.code == "E1" else r for r in full_marks()]
    out = evaluate(
        sheet,
        rows,
        previous_grade="model",
        applied_grade="model",
        failed_this_year=True,
        today=TODAY,
    )
    data = outcome_to_dict(out)
    assert list(data) == [
        "format",
        "grade",
        "passed",
        "self_total",
        "inspector_total",
        "max_total",
        "categories",
        "failed_mandatory",
        "target_misses",
        "downgraded_from",
        "capped_by_rule",
        "rectification",
        "rectification_due",
    ]
    assert data["grade"] == NOT_PASSED
    # Integer points in the sheet still store as floats, so the JSON keeps one shape.
    assert json.dumps(data["categories"][0]) == (
        '{"code": "A", "self_total": 20.0, "inspector_total": 20.0, "max_score": 20.0}'
    )
    assert json.dumps(data["max_total"]) == "100.0"
    assert data["downgraded_from"] == "model"
    missed = {"code": "E1", "target": "dues at least 100%", "measured": 98.0}
    assert data["target_misses"] == [missed]
    assert data["rectification_due"] == "2025-05-15"
    assert outcome_from_dict(json.loads(json.dumps(data))) == out
    capped = evaluate(
        sheet, full_marks(), previous_grade="advanced", failed_this_year=True, today=TODAY
    )
    assert outcome_from_dict(json.loads(json.dumps(outcome_to_dict(capped)))) == capped
    with pytest.raises(ValidationError, match="unsupported"):
        outcome_from_dict({**data, "format": 99})


def _rank(outcome: InspectionOutcome) -> int:
    return [*(g.name for g in SHEET.grades), NOT_PASSED].index(outcome.grade)


def _half_points(points: float) -> st.SearchStrategy[float]:
    return st.integers(0, int(points * 2)).map(lambda n: n / 2)


@functools.cache
def _score(points: float) -> st.SearchStrategy[float | None]:
    """No score or a score in half points: one strategy per maximum, made once (a new
    strategy per draw made Hypothesis work out its properties again each time: ~20x
    the cost of the draws themselves)."""
    return st.none() | _half_points(points)


@st.composite
def valid_scores(draw: st.DrawFn, sheet: ScoringSheet) -> list[CriterionScore]:
    rows = []
    for cr in sheet.criteria():
        own = draw(_score(cr.points))
        inspector = draw(_score(cr.points))
        rows.append(CriterionScore(cr.code, own, "", inspector, "", None))
    return rows


@settings(max_examples=200, deadline=None)
@given(data=st.data(), sheet=st.sampled_from([SHEET, CAPPED_SHEET]))
def test_inspector_total_is_sum_of_capped_categories(
    sheet: ScoringSheet, data: st.DataObject
) -> None:
    rows = data.draw(valid_scores(sheet))
    out = evaluate(sheet, rows, today=TODAY)
    by_code = {r.code: r.inspector_score or 0 for r in rows}
    expected = [
        min(sum(by_code[cr.code] for cr in cat.criteria), cat.max_score) for cat in sheet.categories
    ]
    assert [c.inspector_total for c in out.categories] == expected
    assert out.inspector_total == round(sum(expected), 2)
    assert out.inspector_total <= sheet.max_total
    assert out.self_total <= sheet.max_total


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(*(_half_points(cr.points) for cr in NON_MANDATORY)), min_size=2, max_size=2)
)
def test_grade_is_monotone_in_the_total(pair: list[tuple[float, ...]]) -> None:
    outcomes = []
    for values in pair:
        overrides = {cr.code: v for cr, v in zip(NON_MANDATORY, values, strict=True)}
        outcomes.append(evaluate(SHEET, full_marks(**overrides), today=TODAY))
    low, high = sorted(outcomes, key=lambda o: o.inspector_total)
    assert low.failed_mandatory == high.failed_mandatory == ()
    assert _rank(low) >= _rank(high)
    assert high.grade == next(
        (g.name for g in SHEET.grades if high.inspector_total >= g.min_score), NOT_PASSED
    )
