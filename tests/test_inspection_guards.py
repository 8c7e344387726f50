"""The inspection guards of the shipped definitions: the sheet cannot be bypassed.

annual_plan and committee_plan record an inspection (``inspect``) only once the
inspector has scored on the sheet (``inspection_recorded``) and accept a plan
only on a fully scored sheet that passed (``inspection_passed``). A plain
``fire("accept")``, the service underneath and the command line all refuse
otherwise, with a reason, writing nothing; ``finish`` accepts a passed sheet
and rectifies a failed one. The browser's side is in
``tests/webui/browser/test_browser_flow.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CliRun
from inspection_support import first_mandatory, score_sheet
from stored import stored_plan

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.core.guard_registry import GuardRegistry
from planflow.core.guards import inspection_failed
from planflow.core.inspection.scoring import CriterionScore
from planflow.errors import GuardFailed, ValidationError
from planflow.services.plans import PlanService

CONTENT = {"sections": [{"title": "Work", "items": [{"text": "Inspection", "due": 4}]}]}
WORKFLOWS = ("annual_plan", "committee_plan")
REVIEW = {
    "annual_plan": [("start_review", "reviewer"), ("approve", "reviewer")],
    "committee_plan": [("approve", "member1"), ("approve", "member2")],
}
NOT_RECORDED = "the inspector has not recorded any score of this inspection yet"
NOT_SCORED = "the inspector has not scored every criterion of this inspection yet"
NOT_PASSED = "the inspection did not pass"


def scheduled_plan(pf: Planflow, workflow: str) -> int:
    """A plan of ``workflow`` at branch_a, approved and waiting for its inspection."""
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title="P", actor="drafter_a", workflow=workflow
    )
    content = PlanContent.from_dict(CONTENT, year=2027)
    pf.content.set_content(plan_id, content, actor="drafter_a")
    pf.fire(plan_id, "submit", "chair_a")
    for action, actor in REVIEW[workflow]:
        pf.fire(plan_id, action, actor)
    pf.fire(plan_id, "schedule_inspection", "officer")
    assert stored_plan(pf, plan_id).state == "inspection_scheduled"
    return plan_id


def last_criterion_only(pf: Planflow, plan_id: int) -> list[CriterionScore]:
    """One criterion scored (the last, not mandatory): recorded, not complete."""
    last = pf.inspections.sheet(plan_id).criteria()[-1]
    assert not last.mandatory
    return [CriterionScore(last.code, inspector_score=float(last.points))]


def footprint(pf: Planflow, plan_id: int) -> tuple[object, ...]:
    plan = stored_plan(pf, plan_id)
    rounds = [(r.round, r.scores, r.outcome) for r in pf.inspections.rounds(plan_id)]
    return plan.state, plan.version, plan.audit_seq, len(pf.audit_trail(plan_id)), rounds


def blocked_by(pf: Planflow, plan_id: int, trigger: str) -> tuple[str, ...]:
    """The English sentences of what refuses ``trigger`` now (``Refusal.message``)."""
    [option] = [o for o in pf.available_actions(plan_id, "inspector") if o.trigger == trigger]
    return tuple(r.message for r in option.blocked_by)


def refused(pf: Planflow, plan_id: int, action: str, reason: str) -> None:
    """``action`` is refused with ``reason`` through the facade and the service alike."""
    with pytest.raises(GuardFailed, match=reason) as info:
        pf.fire(plan_id, action, "inspector")
    assert len(info.value.reasons) == 1
    with pytest.raises(GuardFailed, match=reason):
        pf.service.fire(plan_id, action, pf.user_id("inspector"), None)


@pytest.fixture(params=WORKFLOWS)
def workflow(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_inspect_needs_a_recorded_inspection(pf: Planflow, org: object, workflow: str) -> None:
    plan_id = scheduled_plan(pf, workflow)
    before = footprint(pf, plan_id)
    refused(pf, plan_id, "inspect", NOT_RECORDED)
    assert footprint(pf, plan_id) == before
    assert blocked_by(pf, plan_id, "inspect") == (NOT_RECORDED,)
    # One score is a recorded inspection; the rest may follow while it is "inspected".
    pf.inspections.record_scores(plan_id, last_criterion_only(pf, plan_id), actor="inspector")
    assert blocked_by(pf, plan_id, "inspect") == ()
    assert pf.fire(plan_id, "inspect", "inspector").to_state == "inspected"


def test_an_incomplete_sheet_is_not_accepted(pf: Planflow, org: object, workflow: str) -> None:
    plan_id = scheduled_plan(pf, workflow)
    pf.inspections.record_scores(plan_id, last_criterion_only(pf, plan_id), actor="inspector")
    pf.fire(plan_id, "inspect", "inspector")
    before = footprint(pf, plan_id)
    refused(pf, plan_id, "accept", NOT_SCORED)
    with pytest.raises(ValidationError, match="score every criterion before finishing"):
        pf.inspections.finish(plan_id, actor="inspector")
    assert footprint(pf, plan_id) == before
    assert blocked_by(pf, plan_id, "accept") == (NOT_SCORED,)


def test_a_failed_sheet_is_never_accepted(pf: Planflow, org: object, workflow: str) -> None:
    plan_id = scheduled_plan(pf, workflow)
    score_sheet(pf, plan_id, fail=first_mandatory(pf, plan_id))
    pf.fire(plan_id, "inspect", "inspector")
    before = footprint(pf, plan_id)
    refused(pf, plan_id, "accept", NOT_PASSED)
    assert footprint(pf, plan_id) == before
    assert blocked_by(pf, plan_id, "accept")[0].startswith(NOT_PASSED)
    # Finishing decides from the sheet: the unit must rectify.
    result = pf.inspections.finish(plan_id, actor="inspector")
    assert (result.action, result.to_state) == ("require_rectification", "rectification_required")


@pytest.mark.parametrize("how", ["fire", "finish"])
def test_a_passed_sheet_is_accepted(pf: Planflow, org: object, workflow: str, how: str) -> None:
    plan_id = scheduled_plan(pf, workflow)
    score_sheet(pf, plan_id)
    pf.fire(plan_id, "inspect", "inspector")
    assert blocked_by(pf, plan_id, "accept") == ()
    if how == "fire":
        assert pf.fire(plan_id, "accept", "inspector").to_state == "accepted"
    else:
        result = pf.inspections.finish(plan_id, actor="inspector")
        assert (result.to_state, result.grade) == (
            "accepted",
            "advanced" if workflow == "committee_plan" else "model",
        )


def test_a_new_round_starts_unrecorded(pf: Planflow, org: object) -> None:
    """After rectification the plan is inspected afresh: round 1's sheet does not count."""
    plan_id = scheduled_plan(pf, "annual_plan")
    score_sheet(pf, plan_id, fail=first_mandatory(pf, plan_id))
    pf.fire(plan_id, "inspect", "inspector")
    pf.inspections.finish(plan_id, actor="inspector")
    pf.fire(plan_id, "rectified", "chair_a")
    refused(pf, plan_id, "inspect", NOT_RECORDED)


def test_without_a_provider_of_the_inspection_fact_nothing_is_recorded(
    pf: Planflow, org: object
) -> None:
    """A PlanService whose guard registry has no provider for the fact refuses."""
    plan_id = scheduled_plan(pf, "annual_plan")
    score_sheet(pf, plan_id)
    bare = GuardRegistry()
    service = PlanService(pf.db, registry=pf.registry, clock=pf.clock, guards=bare)
    with pytest.raises(GuardFailed, match=NOT_RECORDED):
        service.fire(plan_id, "inspect", pf.user_id("inspector"), None)


# -- the command line ------------------------------------------------------------------------


def test_the_command_line_cannot_bypass_the_sheet(
    pf: Planflow,
    org: object,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CliRun,
) -> None:
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    plan_id = scheduled_plan(pf, "annual_plan")
    p = str(plan_id)

    def refused_line(*argv: str) -> str:
        before = footprint(pf, plan_id)
        code, out, err = cli(*argv)
        assert (code, out) == (1, ""), err
        assert footprint(pf, plan_id) == before
        [line] = err.splitlines()
        return line

    def scores_file(entries: list[dict[str, object]]) -> str:
        path = tmp_path / "scores.json"
        path.write_text(json.dumps(entries))
        return str(path)

    line = refused_line("plans", "fire", p, "inspect", "--as", "inspector")
    assert line == f"planflow: error: action 'inspect' refused: {NOT_RECORDED}"
    line = refused_line("inspection", "finish", p, "--as", "inspector")
    assert "fire 'inspect' first" in line

    one = [{"code": "E2", "score": 10}]
    code, _, err = cli("inspection", "score", p, "--as", "inspector", "--file", scores_file(one))
    assert code == 0, err
    assert cli("plans", "fire", p, "inspect", "--as", "inspector")[:2] == (
        0,
        f"plan {p}: inspect -> inspected\n",
    )
    line = refused_line("plans", "fire", p, "accept", "--as", "inspector")
    assert line == f"planflow: error: action 'accept' refused: {NOT_SCORED}"
    line = refused_line("inspection", "finish", p, "--as", "inspector")
    assert "has not scored A1, A2, B1, B2, C1, D1, D2, E1 in round 1" in line

    sheet = pf.inspections.sheet(plan_id)
    failing = [{"code": c.code, "score": 0 if c.mandatory else c.points} for c in sheet.criteria()]
    code, _, err = cli(
        "inspection", "score", p, "--as", "inspector", "--file", scores_file(failing)
    )
    assert code == 0, err
    line = refused_line("plans", "fire", p, "accept", "--as", "inspector")
    assert line.startswith(f"planflow: error: action 'accept' refused: {NOT_PASSED}")
    # The criteria to rectify, named by the sheet, in the language asked for.
    mandatory = [c for c in sheet.criteria() if c.mandatory]
    assert len(mandatory) >= 2
    named = ", ".join(f"{c.code} {c.text.get('en')}" for c in mandatory)
    assert f"criteria to rectify: {named}" in line
    line = refused_line("plans", "fire", p, "accept", "--as", "inspector", "--lang", "zh")
    named = "，".join(f"{c.code} {c.text.get('zh')}" for c in mandatory)
    assert line.startswith("planflow: error: 操作“accept”被拒绝：检查未通过（需要整改的项目：")
    assert f"需要整改的项目：{named}" in line
    # A refusal the command line does not word in Chinese stays English, whole.
    line = refused_line(
        "plans", "fire", p, "require_rectification", "--as", "inspector", "--lang", "zh"
    )
    assert line.startswith("planflow: error: action 'require_rectification' refused: ")
    code, out, err = cli("plans", "actions", p, "--as", "inspector", "--lang", "ko")
    assert code == 0, err
    [accept] = [ln for ln in out.splitlines() if ln.startswith("accept ")]
    named = ", ".join(f"{c.code} {c.text.get('ko')}" for c in mandatory)
    assert f"(blocked: 점검을 통과하지 못했습니다 (시정할 항목: {named}" in accept
    assert stored_plan(pf, plan_id).state == "inspected"


def test_a_failed_sheet_s_refusal_names_the_criteria_to_rectify(pf: Planflow, org: object) -> None:
    """The refusal says which criteria failed, as codes and the sheet's texts by language
    (each client words them); a total below the pass mark is named with the mark."""
    plan_id = scheduled_plan(pf, "annual_plan")
    sheet = pf.inspections.sheet(plan_id)
    mandatory = first_mandatory(pf, plan_id)
    score_sheet(pf, plan_id, fail=mandatory)
    pf.fire(plan_id, "inspect", "inspector")
    with pytest.raises(GuardFailed) as info:
        pf.fire(plan_id, "accept", "inspector")
    [refusal] = info.value.refusals
    criterion = next(c for c in sheet.criteria() if c.code == mandatory)
    assert refusal.code == "inspection_failed"
    assert refusal.params == {"criteria": [{"code": mandatory, "text": dict(criterion.text.texts)}]}
    assert set(refusal.params["criteria"][0]["text"]) == {"en", "zh", "ko"}
    assert info.value.params["refusals"] == [refusal.to_dict()]  # what the API sends
    assert f"criteria to rectify: {mandatory} {criterion.text.get('en')}" in refusal.message
    # The same refusal where the plan's actions are listed.
    [option] = [o for o in pf.available_actions(plan_id, "inspector") if o.trigger == "accept"]
    assert option.blocked_by == (refusal,)


def test_a_total_below_the_pass_mark_is_named_with_the_mark(pf: Planflow, org: object) -> None:
    plan_id = scheduled_plan(pf, "annual_plan")
    sheet = pf.inspections.sheet(plan_id)
    # Full points on the mandatory criteria, none elsewhere: no criterion fails, the total does.
    scores = [
        CriterionScore(c.code, inspector_score=float(c.points) if c.mandatory else 0.0)
        for c in sheet.criteria()
    ]
    pf.inspections.record_scores(plan_id, scores, actor="inspector")
    pf.fire(plan_id, "inspect", "inspector")
    with pytest.raises(GuardFailed) as info:
        pf.fire(plan_id, "accept", "inspector")
    [refusal] = info.value.refusals
    total = sum(c.points for c in sheet.criteria() if c.mandatory)
    pass_mark = min(g.min_score for g in sheet.grades)
    assert total < pass_mark
    assert refusal.params == {"criteria": [], "total": total, "pass_mark": pass_mark}
    assert f"the total {total:g} is below the pass mark {pass_mark:g}" in refusal.message


def test_the_english_sentence_keeps_a_criterion_s_braces() -> None:
    refusal = inspection_failed({"criteria": [{"code": "X1", "text": {"zh": "甲", "en": "a {b}"}}]})
    assert refusal.message == "the inspection did not pass (criteria to rectify: X1 a {b})"
    assert inspection_failed({}).message.startswith("the inspection did not pass (a mandatory")
