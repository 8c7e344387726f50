"""The inspection guards: a definition can make a scored, passed inspection a
condition of acceptance (committee_plan does), so plain ``fire("accept")``
cannot bypass the scoring sheet."""

from __future__ import annotations

import pytest
from stored import stored_plan

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.core.inspection.scoring import CriterionScore
from planflow.errors import GuardFailed

CONTENT = {"sections": [{"title": "Work", "items": [{"text": "Inspection", "due": 4}]}]}


def inspected_committee_plan(pf: Planflow) -> int:
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title="P", actor="drafter_a", workflow="committee_plan"
    )
    pf.content.set_content(
        plan_id,
        PlanContent.from_dict(CONTENT, year=2027),
        actor="drafter_a",
        expected_version=None,
    )
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "approve", "member1")
    pf.fire(plan_id, "approve", "member2")
    pf.fire(plan_id, "schedule_inspection", "officer")
    pf.fire(plan_id, "inspect", "inspector")
    assert stored_plan(pf, plan_id).state == "inspected"
    return plan_id


def score_all(pf: Planflow, plan_id: int, *, fail: str | None = None) -> None:
    sheet = pf.inspections.sheet(plan_id)
    scores = [
        CriterionScore(c.code, inspector_score=0.0 if c.code == fail else c.points)
        for c in sheet.criteria()
    ]
    pf.inspections.record_scores(plan_id, scores, actor="inspector")


def test_accept_needs_a_scored_inspection(pf: Planflow, org) -> None:
    plan_id = inspected_committee_plan(pf)
    version = stored_plan(pf, plan_id).version
    with pytest.raises(GuardFailed, match="has not scored every criterion"):
        pf.fire(plan_id, "accept", "inspector")
    with pytest.raises(GuardFailed, match="has not scored every criterion"):
        pf.fire(plan_id, "require_rectification", "inspector", "fix it")
    assert stored_plan(pf, plan_id).version == version  # nothing written
    blocked = {o.trigger: o.blocked_by for o in pf.available_actions(plan_id, "inspector")}
    assert blocked["accept"] and blocked["require_rectification"]


def test_a_failed_mandatory_criterion_can_never_be_accepted(pf: Planflow, org) -> None:
    plan_id = inspected_committee_plan(pf)
    sheet = pf.inspections.sheet(plan_id)
    mandatory = next(c.code for c in sheet.criteria() if c.mandatory)
    score_all(pf, plan_id, fail=mandatory)
    with pytest.raises(GuardFailed, match="did not pass"):
        pf.fire(plan_id, "accept", "inspector")
    assert pf.fire(plan_id, "require_rectification", "inspector", "fix it").to_state == (
        "rectification_required"
    )


def test_a_passed_inspection_may_be_accepted(pf: Planflow, org) -> None:
    plan_id = inspected_committee_plan(pf)
    score_all(pf, plan_id)
    assert [
        o.blocked_by for o in pf.available_actions(plan_id, "inspector") if o.trigger == "accept"
    ] == [()]
    assert pf.fire(plan_id, "accept", "inspector").to_state == "accepted"
