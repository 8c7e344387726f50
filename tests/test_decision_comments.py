"""A plan's comments include the comments given with decisions (a return's reason), on both
databases, through the library and the command line."""

from __future__ import annotations

from datetime import timedelta

from test_cli import Cli, PlanLine, assert_ok, demo, plan_in, run

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent

__all__ = ["demo", "run"]  # the fixtures, shared with test_cli

CONTENT = PlanContent.from_dict(
    {
        "sections": [
            {"key": "s1", "title": "Members", "items": [{"key": "i1", "text": "Recruit", "due": 3}]}
        ]
    },
    year=2027,
)


def _submitted(pf: Planflow) -> int:
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan A", actor="drafter_a")
    pf.content.set_content(plan_id, CONTENT, actor="drafter_a")
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "start_review", "reviewer")
    return plan_id


def test_a_returns_reason_and_an_approval_note_are_among_the_comments(
    pf: Planflow, org: object, clock: FixedClock
) -> None:
    plan_id = _submitted(pf)
    clock.advance(timedelta(minutes=1))
    pf.content.add_comment(plan_id, "Looking at it", actor="reviewer")
    clock.advance(timedelta(minutes=1))
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="Add targets to 1.1")
    clock.advance(timedelta(minutes=1))
    pf.content.add_comment(plan_id, "Done, see 1.1", actor="drafter_a", item_key="i1")
    clock.advance(timedelta(minutes=1))
    pf.fire(plan_id, "resubmit", "chair_a")  # no comment: not listed
    pf.fire(plan_id, "start_review", "reviewer")
    clock.advance(timedelta(minutes=1))
    pf.fire(plan_id, "approve", "reviewer", comment="Good work")
    listed = pf.content.comments(plan_id)
    assert [(c.kind, c.author, c.body, c.action, c.state) for c in listed] == [
        ("comment", "reviewer", "Looking at it", None, None),
        ("decision", "reviewer", "Add targets to 1.1", "return_for_revision", "returned"),
        ("comment", "drafter_a", "Done, see 1.1", None, None),
        ("decision", "reviewer", "Good work", "approve", "approved"),
    ]
    assert [c.created_at for c in listed] == sorted(c.created_at for c in listed)
    trail = {r.action: r for r in pf.audit_trail(plan_id)}
    returned = listed[1]
    assert (returned.id, returned.revision) == (
        trail["return_for_revision"].seq,
        trail["return_for_revision"].revision,
    )
    assert listed[2].item_key == "i1" and returned.item_key is None


def test_decisions_without_a_persons_words_are_not_comments(pf: Planflow, org: object) -> None:
    plan_id = _submitted(pf)
    pf.fire(plan_id, "approve", "reviewer")
    assert [r.action for r in pf.audit_trail(plan_id)][-1] == "approve"
    assert pf.content.comments(plan_id) == []
    assert pf.content.comments(999) == []  # no such plan: nothing written, as before


def test_the_command_line_lists_a_return_reason_with_the_comments(
    run: Cli, demo: list[PlanLine]
) -> None:
    plan = plan_in(demo, "under_review")
    reviewer = f"union{plan.unit[6]}.reviewer"
    assert_ok(
        run("plans", "return-to", str(plan.id), "draft", "--as", reviewer, "--comment", "Fix 2.1")
    )
    said = assert_ok(run("plans", "comments", str(plan.id))).out
    assert said.endswith(f" {reviewer} [return_to -> draft]: Fix 2.1\n"), said
