"""An inspection's outcome: totals, grade, target misses, rectification, and its stored form.

``evaluate`` (``core.inspection.scoring``) makes an ``InspectionOutcome``;
``outcome_to_dict`` writes it as the JSON the database keeps, and
``outcome_from_dict`` reads it back. Stored rows outlive code, so the
layout carries a version (``OUTCOME_FORMAT``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from planflow.errors import ValidationError

#: Layout version of ``outcome_to_dict``; stored rows outlive code, so bump it on change.
OUTCOME_FORMAT = 1


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
