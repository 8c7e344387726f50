"""Tests of inspecting a plan on the scoring sheet (``planflow.services.inspections.service``).

Every test that touches a database runs on SQLite and PostgreSQL (``pf``/``org``).
Covered: the unit's self-assessment and the inspector's scores kept side by
side per round, who may record them and when, score validation writing
nothing; ``finish`` accepting at each grade threshold, requiring rectification
below it or when a mandatory criterion fails (with its due date and the points
as comment), refusing an incomplete sheet; a later round downgrading a grade
and a failure capping the next; the audit trail of it all verifying; and the
``inspection`` CLI.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from conftest import CliRun
from sqlmodel import col, select
from stored import stored_plan

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.core.inspection.scoring import CriterionScore, InvalidScores
from planflow.core.notes import render
from planflow.errors import GuardFailed, NotFound, PermissionDenied, StaleVersion, ValidationError
from planflow.services.inspections.rounds import ACCEPT, REQUIRE_RECTIFICATION, decide
from planflow.storage import audit_repo
from planflow.storage import execution_sql as xs
from planflow.storage.evidence_files import EvidenceStore
from planflow.storage.tables import Inspection
from planflow.storage.tx import Sql, Tx

CONTENT = {
    "sections": [
        {"key": "s1", "title": "Members", "items": [{"key": "i1", "text": "Congress", "due": 4}]}
    ]
}
TO_STATE: list[tuple[str, str, str | None]] = [
    ("submit", "chair_a", None),
    ("start_review", "reviewer", None),
    ("approve", "reviewer", None),
    ("schedule_inspection", "officer", None),
    ("inspect", "inspector", None),
]
#: annual_plan's sheet: code -> points; A2, B2 and E1 are mandatory.
POINTS = {"A1": 10, "A2": 10, "B1": 10, "B2": 10, "C1": 20, "D1": 10, "D2": 10, "E1": 10, "E2": 10}
#: Non-mandatory criteria, in the order ``sheet_totalling`` takes points off them.
DEDUCTIBLE = ("C1", "A1", "B1", "D1", "D2", "E2")
TODAY = date(2027, 1, 4)  # the fixture clock's date


def drive(pf: Planflow, to: str) -> int:
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan A", actor="drafter_a")
    pf.content.set_content(
        plan_id,
        PlanContent.from_dict(CONTENT, year=2027),
        actor="drafter_a",
        expected_version=None,
    )
    for action, actor, comment in TO_STATE:
        if stored_plan(pf, plan_id).state == to:
            break
        pf.fire(plan_id, action, actor, comment)
    assert stored_plan(pf, plan_id).state == to
    return plan_id


def sheet_totalling(total: float, **fixed: float) -> list[CriterionScore]:
    """Inspector scores adding up to ``total``: full points, less off the non-mandatory ones."""
    scores = {code: float(points) for code, points in POINTS.items()}
    scores.update(fixed)
    short = sum(scores.values()) - total
    for code in DEDUCTIBLE:
        if code in fixed:
            continue
        off = min(short, scores[code])
        scores[code] -= off
        short -= off
    assert short == 0, "cannot reach that total"
    return [CriterionScore(code, inspector_score=s) for code, s in scores.items()]


def score_and_finish(
    pf: Planflow, plan_id: int, scores: list[CriterionScore], comment: str | None = None
) -> str:
    inspector = pf.user_id("inspector")
    if stored_plan(pf, plan_id).state == "inspection_scheduled":
        pf.services.inspections.record_scores(plan_id, inspector, scores)
        pf.fire(plan_id, "inspect", "inspector")
    else:
        pf.services.inspections.record_scores(plan_id, inspector, scores)
    return pf.services.inspections.finish(plan_id, inspector, comment).to_state


def inspection_rows(pf: Planflow, plan_id: int) -> list[Inspection]:
    with pf.session() as s:
        rows = list(
            s.exec(
                select(Inspection)
                .where(Inspection.plan_id == plan_id)
                .order_by(col(Inspection.round))
            )
        )
        for r in rows:
            s.expunge(r)
        return rows


def footprint(pf: Planflow, plan_id: int) -> tuple[object, ...]:
    plan = stored_plan(pf, plan_id)
    rows = [(r.round, r.scores, r.outcome, r.grade) for r in inspection_rows(pf, plan_id)]
    return plan.state, plan.version, plan.audit_seq, plan.grade, rows


# -- the two columns of the sheet -----------------------------------------------------------


def test_self_assessment_and_inspector_scores_are_kept_side_by_side(
    pf: Planflow, org: object
) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    chair, inspector = pf.user_id("chair_a"), pf.user_id("inspector")
    assert pf.inspections.current(plan_id) is None
    pf.services.inspections.record_self_assessment(
        plan_id,
        chair,
        [
            CriterionScore("A1", self_score=10, self_note="met twice"),
            CriterionScore("B1", self_score=9.5, measured=92),
        ],
    )
    pf.services.inspections.record_scores(
        plan_id,
        inspector,
        [
            CriterionScore("A1", inspector_score=8, inspector_note="only one meeting minuted"),
            CriterionScore("B1", inspector_score=9, measured=88),
        ],
    )
    # A later self-assessment entry replaces only the unit's column of that criterion.
    pf.inspections.record_self_assessment(
        plan_id,
        [CriterionScore("A1", self_score=9, self_note="ok")],
        actor="drafter_a",
    )
    last = pf.audit_trail(plan_id)[-1]
    assert dict(last.detail) == {"round": 1, "criteria": ["A1"], "total": 18.5}

    current = pf.inspections.current(plan_id)
    assert current is not None and current.round == 1 and current.outcome is None
    assert current.scores == (
        CriterionScore("A1", 9.0, "ok", 8.0, "only one meeting minuted", None),
        CriterionScore("B1", 9.5, "", 9.0, "", 88.0),
    )
    assert current.self_measured == {"B1": 92.0}
    assert current.inspector == "inspector"
    stored = json.loads(inspection_rows(pf, plan_id)[0].scores)
    assert stored[1] == {
        "code": "B1",
        "self_score": 9.5,
        "self_note": "",
        "self_measured": 92.0,
        "inspector_score": 9.0,
        "inspector_note": "",
        "measured": 88.0,
    }
    trail = pf.audit_trail(plan_id)[-3:]
    assert [r.action for r in trail] == ["self_assessment", "inspection_scores", "self_assessment"]
    assert dict(trail[1].detail) == {"round": 1, "criteria": ["A1", "B1"], "total": 17}
    assert audit_repo.verify(pf.db).ok

    # Before it is finished, the outcome is the one the scores would give now.
    preview = pf.inspections.outcome(plan_id, TODAY)
    assert (preview.self_total, preview.inspector_total, preview.passed) == (18.5, 17, False)


def test_the_self_assessment_opens_once_the_plan_is_approved(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "approved")
    chair = pf.user_id("chair_a")
    pf.services.inspections.record_self_assessment(
        plan_id, chair, [CriterionScore("A1", self_score=8)]
    )
    # It is the first round's column: scheduling the inspection keeps it, and adds to it.
    pf.fire(plan_id, "schedule_inspection", "officer")
    pf.services.inspections.record_self_assessment(
        plan_id, chair, [CriterionScore("B1", self_score=9)]
    )
    current = pf.inspections.current(plan_id)
    assert current is not None and current.round == 1
    assert [(s.code, s.self_score) for s in current.scores] == [("A1", 8.0), ("B1", 9.0)]
    assert [r.action for r in pf.audit_trail(plan_id)[-3:]] == [
        "self_assessment",
        "schedule_inspection",
        "self_assessment",
    ]
    # Closed while the inspector judges, and while the plan is rectified: that round is
    # decided, the next one opens when the plan awaits its inspection again.
    own = [CriterionScore("A1", self_score=10)]
    closed = "only while the plan is approved or inspection_scheduled, not '{}'"
    pf.inspections.record_scores(plan_id, sheet_totalling(50), actor="inspector")
    pf.fire(plan_id, "inspect", "inspector")
    with pytest.raises(ValidationError, match=closed.format("inspected")):
        pf.services.inspections.record_self_assessment(plan_id, chair, own)
    pf.inspections.finish(plan_id, actor="inspector")
    assert stored_plan(pf, plan_id).state == "rectification_required"
    with pytest.raises(ValidationError, match=closed.format("rectification_required")):
        pf.services.inspections.record_self_assessment(plan_id, chair, own)
    pf.fire(plan_id, "rectified", "chair_a")
    pf.services.inspections.record_self_assessment(plan_id, chair, own)
    second = pf.inspections.current(plan_id)
    assert second is not None and second.round == 2
    assert [(s.code, s.self_score) for s in second.scores] == [("A1", 10.0)]


def test_who_may_record_which_column_and_when(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "approved")
    own = [CriterionScore("A1", self_score=10)]
    insp = [CriterionScore("A1", inspector_score=10)]
    ids = {name: pf.user_id(name) for name in ("chair_a", "inspector", "officer", "drafter_b")}
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match="inspection_scheduled or inspected, not 'approved'"):
        pf.services.inspections.record_scores(plan_id, ids["inspector"], insp)
    assert footprint(pf, plan_id) == before

    pf.fire(plan_id, "schedule_inspection", "officer")
    before = footprint(pf, plan_id)
    with pytest.raises(PermissionDenied, match="drafter or submitter"):
        pf.services.inspections.record_self_assessment(plan_id, ids["inspector"], own)
    # Another branch's drafter may not see the plan: it answers as a missing one.
    with pytest.raises(NotFound, match=f"unknown plan: {plan_id}"):
        pf.services.inspections.record_self_assessment(plan_id, ids["drafter_b"], own)
    for user in ("chair_a", "officer"):
        with pytest.raises(PermissionDenied, match="'inspector'"):
            pf.services.inspections.record_scores(plan_id, ids[user], insp)
    with pytest.raises(ValidationError, match="cannot hold inspector scores"):
        pf.services.inspections.record_self_assessment(plan_id, ids["chair_a"], insp)
    with pytest.raises(ValidationError, match="cannot hold self-assessment"):
        pf.services.inspections.record_scores(plan_id, ids["inspector"], own)
    assert footprint(pf, plan_id) == before

    # The inspection is recorded once scored; in "inspected" the inspector may
    # still correct scores; the unit may not.
    pf.inspections.record_scores(plan_id, insp, actor="inspector")
    pf.fire(plan_id, "inspect", "inspector")
    pf.services.inspections.record_scores(plan_id, ids["inspector"], insp)
    with pytest.raises(ValidationError, match="not 'inspected'"):
        pf.services.inspections.record_self_assessment(plan_id, ids["chair_a"], own)


def test_a_submitter_who_is_also_an_inspector_may_not_score_their_own_plan(
    pf: Planflow, org: object
) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    with pf.session() as s:
        pf.org_repo.assign_role(s, "chair_a", "inspector", "fed")
    with pytest.raises(GuardFailed, match="you submitted this plan"):
        pf.inspections.record_scores(
            plan_id,
            [CriterionScore("A1", inspector_score=10)],
            actor="chair_a",
        )


@pytest.mark.parametrize(
    ("scores", "problems"),
    [
        ([CriterionScore("Z9", inspector_score=1)], [("Z9", "unknown criterion code")]),
        (
            [CriterionScore("A1", inspector_score=11), CriterionScore("C1", inspector_score=-1)],
            [
                ("A1", "inspector score 11 is above the criterion's 10 points"),
                ("C1", "inspector score -1 is below 0"),
            ],
        ),
        (
            [CriterionScore("A1", inspector_score=float("nan"))],
            [("A1", "inspector score is not a finite number: nan")],
        ),
        (
            [CriterionScore("A1", inspector_score=1), CriterionScore("A1", inspector_score=2)],
            [("A1", "scored more than once")],
        ),
        (
            [CriterionScore("A1", inspector_score=5, measured=3)],
            [("A1", "measured value given, but the criterion has no target")],
        ),
        (
            [CriterionScore("B1", inspector_score=True)],  # type: ignore[arg-type]
            [("B1", "inspector score is not a number: True")],
        ),
    ],
)
def test_invalid_scores_are_refused_naming_each_problem_and_write_nothing(
    pf: Planflow, org: object, scores: list[CriterionScore], problems: list[tuple[str, str]]
) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    before = footprint(pf, plan_id)
    with pytest.raises(InvalidScores) as info:
        pf.inspections.record_scores(plan_id, scores, actor="inspector")
    assert [(p.criterion, p.message) for p in info.value.problems] == problems
    assert footprint(pf, plan_id) == before
    with pytest.raises(ValidationError, match="no scores given"):
        pf.inspections.record_scores(plan_id, [], actor="inspector")


# -- finishing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (100, "model"),
        (90, "model"),
        (89.5, "advanced"),
        (80, "advanced"),
        (79.5, "qualified"),
        (60, "qualified"),
    ],
)
def test_finish_accepts_with_the_grade_the_total_reaches(
    pf: Planflow, org: object, total: float, grade: str
) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    assert score_and_finish(pf, plan_id, sheet_totalling(total)) == "accepted"
    plan = stored_plan(pf, plan_id)
    assert plan.grade == grade
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.from_state, last.to_state) == ("accept", "inspected", "accepted")
    assert dict(last.detail) == {
        "grade": grade,
        "total": total,
        "rectification_due": None,
        "round": 1,
    }
    (row,) = inspection_rows(pf, plan_id)
    assert (row.grade, row.rectification_due, row.inspector_id) == (
        grade,
        None,
        pf.user_id("inspector"),
    )
    stored = json.loads(row.outcome)
    assert (stored["grade"], stored["inspector_total"], stored["passed"]) == (grade, total, True)
    assert pf.inspections.outcome(plan_id, TODAY).grade == grade  # the stored verdict
    assert audit_repo.verify(pf.db).ok


def test_a_total_below_the_lowest_grade_requires_rectification(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    assert score_and_finish(pf, plan_id, sheet_totalling(59.5)) == "rectification_required"
    plan = stored_plan(pf, plan_id)
    assert plan.grade == "not_passed"
    last = pf.audit_trail(plan_id)[-1]
    assert last.action == "require_rectification"
    assert last.comment == "Rectify by 2027-02-03: total 59.5 of 100 is not enough"
    note = dict(last.detail)["note"]
    assert note == {
        "code": "rectify_total",
        "params": {"due": "2027-02-03", "total": 59.5, "max": 100.0},
    }
    assert (
        render(note, "ko")
        == "2027년 2월 3일까지 시정하십시오: 총점 59.5점(만점 100점)으로는 부족합니다"
    )
    assert dict(last.detail)["rectification_due"] == "2027-02-03"
    assert inspection_rows(pf, plan_id)[0].rectification_due == date(2027, 2, 3)


@pytest.mark.parametrize(
    ("fixed", "reason"),
    [
        ({"A2": 9.0}, "A2: mandatory criterion failed; scored 9 of 10"),
        (
            {"E1": 10.0},
            "E1: mandatory criterion failed; target missed: dues at least 100% (measured 98)",
        ),
    ],
)
def test_a_failed_mandatory_criterion_is_never_accepted(
    pf: Planflow, org: object, fixed: dict[str, float], reason: str
) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    scores = sheet_totalling(99 if "A2" in fixed else 100, **fixed)
    if "E1" in fixed:
        scores = [
            CriterionScore("E1", inspector_score=10, measured=98) if s.code == "E1" else s
            for s in scores
        ]
    assert score_and_finish(pf, plan_id, scores) == "rectification_required"
    assert stored_plan(pf, plan_id).grade == "not_passed"
    last = pf.audit_trail(plan_id)[-1]
    assert last.comment == f"Rectify by 2027-02-03: {reason}"
    detail = dict(last.detail)
    note = detail.pop("note")
    assert detail == {
        "grade": "not_passed",
        "total": 99 if "A2" in fixed else 100,
        "rectification_due": "2027-02-03",
        "round": 1,
    }
    # The system's text as a code: each reader gets it in their language.
    assert note["code"] == "rectify_by" and note["params"]["due"] == "2027-02-03"
    (point,) = note["params"]["points"]
    assert point["code"] == next(iter(fixed))
    assert point["reasons"][0] == {"code": "mandatory_failed", "params": {}}
    assert render(note, "en") == last.comment
    assert render(note, "zh").startswith("请于2027年2月3日前完成整改：")
    outcome = pf.inspections.outcome(plan_id, TODAY)
    assert outcome.failed_mandatory == (next(iter(fixed)),)
    assert decide(outcome) == REQUIRE_RECTIFICATION


def test_the_inspectors_own_comment_is_kept(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    scores = sheet_totalling(99, A2=9.0)
    score_and_finish(pf, plan_id, scores, comment="  Set up the union groups  ")
    assert pf.audit_trail(plan_id)[-1].comment == "Set up the union groups"


def test_finish_refusals_write_nothing(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    inspector = pf.user_id("inspector")
    pf.services.inspections.record_scores(plan_id, inspector, sheet_totalling(100)[:7])
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match="fire 'inspect' first"):
        pf.services.inspections.finish(plan_id, inspector)
    pf.fire(plan_id, "inspect", "inspector")
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match="has not scored E1, E2 in round 1"):
        pf.services.inspections.finish(plan_id, inspector)
    with pytest.raises(PermissionDenied, match="'inspector'"):
        pf.inspections.finish(plan_id, actor="chair_a")
    with pytest.raises(StaleVersion):
        pf.services.inspections.finish(
            plan_id, inspector, expected_version=stored_plan(pf, plan_id).version - 1
        )
    assert footprint(pf, plan_id) == before

    pf.services.inspections.record_scores(plan_id, inspector, sheet_totalling(100)[7:])
    change = pf.services.inspections.finish(
        plan_id, inspector, expected_version=stored_plan(pf, plan_id).version
    )
    assert (change.action, change.to_state) == (ACCEPT, "accepted")
    with pytest.raises(ValidationError, match="it is 'accepted'"):
        pf.services.inspections.finish(plan_id, inspector)
    with pytest.raises(ValidationError, match="not 'accepted'"):
        pf.services.inspections.record_scores(plan_id, inspector, sheet_totalling(100)[:1])


def test_a_later_round_downgrades_and_the_trail_shows_every_round(
    pf: Planflow, org: object
) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    # Round 1: full marks, but B1's target is missed, so there is a point to rectify.
    round1 = [
        CriterionScore("B1", inspector_score=10, measured=85) if s.code == "B1" else s
        for s in sheet_totalling(100)
    ]
    assert score_and_finish(pf, plan_id, round1) == "rectification_required"
    assert stored_plan(pf, plan_id).grade == "model"
    pf.fire(plan_id, "rectified", "chair_a")
    current = pf.inspections.current(plan_id)
    assert current is None  # round 2 starts with an empty sheet
    pf.inspections.record_self_assessment(
        plan_id,
        [CriterionScore("B1", self_score=10, measured=91)],
        actor="chair_a",
    )
    assert score_and_finish(pf, plan_id, sheet_totalling(85)) == "accepted"

    assert stored_plan(pf, plan_id).grade == "advanced"
    rounds = pf.inspections.rounds(plan_id)
    assert [(r.round, r.grade) for r in rounds] == [(1, "model"), (2, "advanced")]
    assert rounds[1].outcome is not None and rounds[1].outcome.downgraded_from == "model"
    assert rounds[0].rectification_due == date(2027, 2, 3)
    assert rounds[1].self_measured == {"B1": 91.0}
    verdicts = [
        (r.action, {k: v for k, v in dict(r.detail).items() if k != "note"})
        for r in pf.audit_trail(plan_id)
        if r.action in (ACCEPT, REQUIRE_RECTIFICATION)
    ]
    assert verdicts == [
        (
            REQUIRE_RECTIFICATION,
            {"grade": "model", "total": 100, "rectification_due": "2027-02-03", "round": 1},
        ),
        (ACCEPT, {"grade": "advanced", "total": 85, "rectification_due": None, "round": 2}),
    ]
    actions = [r.action for r in pf.audit_trail(plan_id)]
    assert actions.count("inspection_scores") == 2 and actions.count("self_assessment") == 1
    assert audit_repo.verify(pf.db).ok


def test_a_failure_caps_the_grade_of_the_re_inspection(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    assert score_and_finish(pf, plan_id, sheet_totalling(99, A2=9.0)) == "rectification_required"
    pf.fire(plan_id, "rectified", "chair_a")
    assert score_and_finish(pf, plan_id, sheet_totalling(95)) == "accepted"
    assert stored_plan(pf, plan_id).grade == "qualified"
    outcome = pf.inspections.outcome(plan_id, TODAY)
    assert outcome.capped_by_rule is not None
    assert (outcome.capped_by_rule.computed, outcome.capped_by_rule.granted) == (
        "model",
        "qualified",
    )


def test_every_statement_of_execution_sql_runs_on_this_database(
    pf: Planflow, org: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Functional tests cover each statement; this pins that none is left out."""
    ran: set[str] = set()
    for method in ("run", "one", "insert"):
        original = getattr(Tx, method)

        def spy(self: Tx, sql: Sql, params: object, _original: object = original) -> object:
            ran.add(sql.name)
            return _original(self, sql, params)  # type: ignore[operator]

        monkeypatch.setattr(Tx, method, spy)
    pf.execution.store = EvidenceStore(tmp_path / "evidence")
    plan_id = drive(pf, "inspection_scheduled")
    chair = pf.user_id("chair_a")
    pf.services.execution.report_progress(plan_id, chair, "i1", "done", "held")
    pf.services.execution.attach_evidence(plan_id, chair, "i1", "a.txt", "text/plain", b"minutes")
    pf.service.writers = (*pf.service.writers, _fail_evidence)
    with pytest.raises(RuntimeError):
        pf.services.execution.attach_evidence(plan_id, chair, "i1", "b.txt", "text/plain", b"other")
    pf.services.inspections.record_self_assessment(plan_id, chair, [CriterionScore("A1", 10)])
    assert score_and_finish(pf, plan_id, sheet_totalling(100)) == "accepted"
    assert ran >= {sql.name for sql in xs.ALL_STATEMENTS}


def _fail_evidence(_tx: Tx, change: object) -> None:
    if getattr(change, "action", None) == "attach_evidence":
        raise RuntimeError("fail after the file was written")


# -- the command line ----------------------------------------------------------------------------


def test_cli_inspection_score_show_and_finish(
    pf: Planflow,
    org: object,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CliRun,
) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)

    run = cli
    own = tmp_path / "self.json"
    own.write_text(json.dumps([{"code": "A1", "score": 10, "note": "met twice"}]))
    theirs = tmp_path / "scores.json"
    entries = [{"code": s.code, "score": s.inspector_score} for s in sheet_totalling(92)]
    entries[1]["note"] = "groups in place"
    entries[7]["measured"] = 100
    theirs.write_text(json.dumps(entries))

    p = str(plan_id)
    code, out, _ = run("inspection", "score", p, "--as", "chair_a", "--file", str(own), "--self")
    assert (code, out) == (
        0,
        f"plan {p}: 1 self-assessment score(s) recorded for round 1 (total 10)\n",
    )
    code, out, _ = run("inspection", "score", p, "--as", "inspector", "--file", str(theirs))
    assert (code, out) == (0, f"plan {p}: 9 inspector score(s) recorded for round 1 (total 92)\n")

    code, out, _ = run("inspection", "show", p)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Workers' home acceptance sheet - plan {p}, round 1"
    a1 = next(line for line in lines if line.strip().startswith("A1 "))
    assert a1.split()[:5] == ["A1", "10", "10", "10", "-"]  # points, self, inspector, measured
    c1 = next(line for line in lines if line.strip().startswith("C1 "))
    assert c1.split()[:5] == ["C1", "20", "-", "12", "-"]
    assert any(line.strip() == "self: met twice" for line in lines)
    assert any(line.strip() == "inspector: groups in place" for line in lines)
    assert next(line for line in lines if line.strip().startswith("E1*")).split()[:5] == [
        "E1*",
        "10",
        "-",
        "10",
        "100",
    ]
    assert "  total: self 10, inspector 92 of 100  (* mandatory)" in lines
    assert "  grade (if finished now): Model (model)" in lines

    code, _, err = run("inspection", "finish", p, "--as", "inspector")
    assert code == 1 and "fire 'inspect' first" in err
    pf.fire(plan_id, "inspect", "inspector")
    code, out, _ = run("inspection", "finish", p, "--as", "inspector")
    assert (code, out) == (0, f"plan {p}: accept -> accepted, grade model (total 92)\n")
    code, out, _ = run("inspection", "show", p, "--lang", "zh")
    assert code == 0 and "  grade (decided): 模范 (model)" in out.splitlines()

    bad = tmp_path / "bad.json"
    refusals: list[tuple[str, list[str], str]] = [
        ("{not json", [], "not valid JSON"),
        ('[{"code": "A1", "points": 3}]', [], "unknown field(s) points"),
        (
            '[{"code": "A1", "score": 30}, {"code": "Q1", "score": 1}]',
            [],
            "2 invalid score(s): A1: inspector score 30 is above",
        ),
        ('{"code": "A1"}', [], "non-empty JSON list"),
    ]
    other = drive(pf, "inspection_scheduled")
    for body, extra, fragment in refusals:
        bad.write_text(body)
        code, out, err = run(
            "inspection", "score", str(other), "--as", "inspector", "--file", str(bad), *extra
        )
        assert code == 1, (body, out, err)
        assert len(err.splitlines()) == 1 and err.startswith("planflow: error: ")
        assert fragment in err, (fragment, err)
    code, _, err = run("inspection", "finish", p, "--as", "chair_a")
    assert code == 1 and len(err.splitlines()) == 1 and "it is 'accepted'" in err
    code, _, err = run("inspection", "score", p, "--as", "inspector")
    assert code == 2 and len(err.splitlines()) == 1 and "--file" in err
    for command in ("score", "show", "finish"):
        code, out, _ = run("inspection", command, "--help")
        assert code == 0 and "Usage:" in out


def test_finishing_a_foreign_plan_answers_like_a_missing_one(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "approved")
    before = footprint(pf, plan_id)
    with pytest.raises(NotFound, match=f"unknown plan: {plan_id}"):
        pf.inspections.finish(plan_id, actor="drafter_b")
    with pytest.raises(ValidationError, match="only when the plan is 'inspected'"):
        pf.inspections.finish(plan_id, actor="officer")  # who may see it learns why
    assert footprint(pf, plan_id) == before
