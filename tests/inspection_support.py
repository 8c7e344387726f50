"""Inspecting a plan in tests as the shipped workflows require: the sheet first.

annual_plan and committee_plan let ``inspect`` through only once the inspector
has recorded scores on the sheet (guard ``inspection_recorded``), and
``accept`` only on a fully scored sheet that passed (``inspection_passed``).
``fire`` is ``Planflow.fire`` for the paths tests drive: before ``inspect`` it
has the inspector record a full, passing sheet (unless the round already has
scores), so the path can go on to ``accept``.
"""

from __future__ import annotations

from planflow.app import Planflow
from planflow.core.definitions.spec import ScoringSheet
from planflow.core.inspection.scoring import CriterionScore

INSPECT = "inspect"


def sheet_scores(sheet: ScoringSheet, *, fail: str | None = None) -> list[CriterionScore]:
    """Full points on every criterion, or 0 on ``fail`` (a mandatory one fails the sheet)."""
    return [
        CriterionScore(c.code, inspector_score=0.0 if c.code == fail else float(c.points))
        for c in sheet.criteria()
    ]


def first_mandatory(pf: Planflow, plan_id: int) -> str:
    return next(c.code for c in pf.inspections.sheet(plan_id).criteria() if c.mandatory)


def score_sheet(
    pf: Planflow, plan_id: int, inspector: str = "inspector", *, fail: str | None = None
) -> int:
    """The inspector scores the whole sheet of the current round: passing, or failing ``fail``.

    Returns the plan's new version."""
    scores = sheet_scores(pf.inspections.sheet(plan_id), fail=fail)
    return pf.inspections.record_scores(plan_id, scores, actor=inspector)


def has_scores(pf: Planflow, plan_id: int) -> bool:
    """Has the inspector recorded any score in the current round?"""
    current = pf.inspections.current(plan_id)
    return current is not None and any(s.inspector_score is not None for s in current.scores)


def fire(
    pf: Planflow,
    plan_id: int,
    action: str,
    actor: str | None,
    comment: str | None = None,
) -> str:
    """``pf.fire`` (its new state); before ``inspect`` the inspector scores a passing sheet
    if none is there."""
    if action == INSPECT and actor is not None and not has_scores(pf, plan_id):
        score_sheet(pf, plan_id, actor)
    return pf.fire(plan_id, action, actor, comment).to_state
