"""A plan's inspection through the API: the sheet, self-assessment, scores, finishing.

The sheet's texts (criteria, categories) come in the ``Accept-Language``;
scores are recorded by the library's rules (the unit's drafter or submitter
fills the self-assessment column, an inspector the other, in the states the
definition allows), with ``expected_version`` like every other write.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint
from pydantic import BaseModel, Field
from spectree import Response as Responses

from planflow.core.definitions.spec import Criterion
from planflow.core.inspection.scoring import CriterionScore

from ..i18n import current_language
from ..users import planflow
from .auth import caller, require_scope
from .schemas import Problem, Strict, View
from .spec import validate

PLAN = "<int(max=2147483647):plan_id>"
ERRORS = {"HTTP_403": Problem, "HTTP_404": Problem, "HTTP_422": Problem}
WRITE_ERRORS = {**ERRORS, "HTTP_409": Problem}


class SheetCriterion(BaseModel):
    code: str
    category: str
    text: str
    points: float
    mandatory: bool
    target: str | None

    @classmethod
    def of(cls, category: str, c: Criterion, lang: str) -> SheetCriterion:
        return cls(
            code=c.code,
            category=category,
            text=c.text.get(lang),
            points=c.points,
            mandatory=c.mandatory,
            target=c.target.describe(lang) if c.target else None,
        )


class Score(Strict):
    code: str = Field(min_length=1, max_length=64)
    score: float | None = Field(None, ge=0, le=100_000)
    note: str = Field("", max_length=2000)
    measured: float | None = Field(None, ge=-1e12, le=1e12)


class ScoreRow(View):
    code: str
    self_score: float | None
    self_note: str
    inspector_score: float | None
    inspector_note: str
    measured: float | None


class Outcome(View):
    grade: str
    passed: bool
    self_total: float
    inspector_total: float
    max_total: float
    failed_mandatory: list[str]
    rectification_due: date | None


class Inspection(BaseModel):
    """The plan's current inspection round, on the definition's sheet."""

    plan_id: int
    title: str
    criteria: list[SheetCriterion]
    round: int | None
    inspector: str | None
    scores: list[ScoreRow]
    outcome: Outcome | None
    updated_at: datetime | None


class ScoresRequest(Strict):
    scores: list[Score] = Field(min_length=1, max_length=500)
    expected_version: int | None = Field(None, ge=1, le=2**31 - 1)


class FinishRequest(Strict):
    comment: str | None = Field(None, max_length=4000)
    expected_version: int | None = Field(None, ge=1, le=2**31 - 1)


class Recorded(BaseModel):
    plan_id: int
    version: int


class Finished(View):
    plan_id: int
    action: str
    to_state: str
    version: int
    grade: str | None
    total: float | None
    rectification_due: date | None


def register(bp: Blueprint) -> None:
    bp.add_url_rule(f"/plans/{PLAN}/inspection", "inspection", get_inspection, methods=["GET"])
    bp.add_url_rule(
        f"/plans/{PLAN}/inspection/self-assessment",
        "self_assessment",
        put_self_assessment,
        methods=["PUT"],
    )
    bp.add_url_rule(f"/plans/{PLAN}/inspection/scores", "scores", put_scores, methods=["PUT"])
    bp.add_url_rule(f"/plans/{PLAN}/inspection/finish", "finish", finish, methods=["POST"])


@validate(resp=Responses(HTTP_200=Inspection, **ERRORS), tags=["inspection"])
def get_inspection(plan_id: int) -> Inspection:
    """The sheet and the current round's two columns (self-assessment and inspector)."""
    pf, lang = planflow(), current_language()
    pf.plan(plan_id, as_user=caller())
    sheet = pf.inspections.sheet(plan_id)
    current = pf.inspections.current(plan_id)
    outcome = current.outcome if current is not None else None
    return Inspection(
        plan_id=plan_id,
        title=sheet.title.get(lang),
        criteria=[
            SheetCriterion.of(cat.code, c, lang) for cat in sheet.categories for c in cat.criteria
        ],
        round=current.round if current else None,
        inspector=current.inspector if current else None,
        scores=[ScoreRow.model_validate(s) for s in (current.scores if current else ())],
        outcome=None if outcome is None else Outcome.model_validate(outcome),
        updated_at=current.updated_at if current else None,
    )


def _record(plan_id: int, json: ScoresRequest, column: str) -> Recorded:
    """One column of the sheet (``self`` or ``inspector``) through the library's rule for it."""
    require_scope("write")
    inspections = planflow().inspections
    if column == "self":
        record = inspections.record_self_assessment
        scores = [CriterionScore(s.code, self_score=s.score, self_note=s.note, measured=s.measured)
                  for s in json.scores]  # fmt: skip
    else:
        record = inspections.record_scores
        scores = [CriterionScore(s.code, inspector_score=s.score, inspector_note=s.note,
                                 measured=s.measured) for s in json.scores]  # fmt: skip
    version = record(plan_id, scores, actor=caller(), expected_version=json.expected_version)
    return Recorded(plan_id=plan_id, version=version)


@validate(
    json=ScoresRequest, resp=Responses(HTTP_200=Recorded, **WRITE_ERRORS), tags=["inspection"]
)
def put_self_assessment(plan_id: int, json: ScoresRequest) -> Recorded:
    """The unit's own column (its drafter or submitter). Scope ``write``."""
    return _record(plan_id, json, "self")


@validate(
    json=ScoresRequest, resp=Responses(HTTP_200=Recorded, **WRITE_ERRORS), tags=["inspection"]
)
def put_scores(plan_id: int, json: ScoresRequest) -> Recorded:
    """The inspector's column, with measured values for targets. Scope ``write``."""
    return _record(plan_id, json, "inspector")


@validate(
    json=FinishRequest, resp=Responses(HTTP_200=Finished, **WRITE_ERRORS), tags=["inspection"]
)
def finish(plan_id: int, json: FinishRequest) -> Finished:
    """Finish the inspection: the scores decide acceptance or rectification. Scope ``write``."""
    require_scope("write")
    json = json or FinishRequest()
    result = planflow().inspections.finish(
        plan_id, actor=caller(), comment=json.comment, expected_version=json.expected_version
    )
    return Finished.model_validate(result)
