"""Return to a chosen earlier step (issue 17), through the library, on both databases.

A reviewer sends a plan back to a state its definition lists under
``allows: return_to``, with a reason: audited, the submitter told who and
why; with ``return_to_returner`` the resubmitted plan comes straight back to
the review. A target the definition does not allow, no reason, the submitter
themself or someone without the task: refused with a code, nothing written.
"""

from __future__ import annotations

import pytest
from conftest import Org
from test_gestures import footprint, notifications, submitted

from planflow import GuardFailed, PermissionDenied, Planflow
from planflow.errors import ActionNotAllowed


def under_review(pf: Planflow, workflow: str = "annual_plan") -> int:
    plan_id = submitted(pf, workflow)
    if workflow == "annual_plan":
        pf.fire(plan_id, "start_review", "reviewer")
    return plan_id


def test_a_reviewer_returns_the_plan_to_its_draft_and_it_comes_straight_back(
    pf: Planflow, org: Org
) -> None:
    plan_id = under_review(pf)
    assert [(o.state, o.label) for o in pf.return_options(plan_id, "reviewer", "ko")] == [
        ("draft", "초안"),
        ("submitted", "제출됨"),
    ]
    assert pf.return_options(plan_id, "chair_a") == []
    done = pf.return_to(plan_id, "draft", "reviewer", "Budget lines are missing.")
    assert (done.action, done.from_state, done.to_state) == ("return_to", "under_review", "draft")
    plan = pf.plan(plan_id)
    assert plan.state == "draft" and plan.task is None
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.actor, last.comment, last.from_state, last.to_state) == (
        "return_to",
        "reviewer",
        "Budget lines are missing.",
        "under_review",
        "draft",
    )
    (told,) = [n for n in notifications(pf, "chair_a") if n.kind == "returned"]
    assert told.payload["comment"] == "Budget lines are missing."
    assert told.payload["actor"] == pf.user_id("reviewer")
    assert (told.payload["from"], told.payload["to"]) == ("under_review", "draft")
    # Resubmitted, it skips "submitted" (start review, passed already) and is
    # back under review, with the reviewers holding the task.
    again = pf.fire(plan_id, "submit", "chair_a")
    assert again.to_state == "under_review"
    plan = pf.plan(plan_id)
    assert plan.state == "under_review" and plan.revision == 2
    assert plan.task is not None and plan.task.role == "reviewer"
    assert pf.fire(plan_id, "approve", "reviewer").to_state == "approved"
    # The next submission of another round goes the usual way.
    assert pf.verify_audit().ok


def test_a_plan_returned_to_a_middle_step_waits_there_for_its_reviewer(
    pf: Planflow, org: Org
) -> None:
    plan_id = under_review(pf)
    pf.return_to(plan_id, "submitted", "reviewer", "Look again from the start.")
    plan = pf.plan(plan_id)
    assert plan.state == "submitted" and plan.task is not None
    # The reviewers of that step are told; the returner is not.
    assert any(n.kind == "returned" for n in notifications(pf, "reviewer2"))
    assert not any(n.kind == "returned" for n in notifications(pf, "reviewer"))
    assert pf.fire(plan_id, "start_review", "reviewer2").to_state == "under_review"


def test_the_committee_sends_its_plan_back_and_gets_it_again(pf: Planflow, org: Org) -> None:
    plan_id = under_review(pf, "committee_plan")
    pf.fire(plan_id, "approve", "member1")  # one vote of two
    pf.return_to(plan_id, "returned", "member2", "Dates are wrong.")
    assert pf.plan(plan_id).state == "returned"
    assert pf.fire(plan_id, "resubmit", "chair_a").to_state == "committee_review"
    # A new round: member1's earlier vote does not count.
    assert pf.fire(plan_id, "approve", "member1").to_state == "committee_review"


@pytest.mark.parametrize(
    ("state", "actor", "comment", "error", "codes"),
    [
        ("approved", "reviewer", "No.", GuardFailed, ["return_target_not_allowed"]),
        ("nowhere", "reviewer", "No.", GuardFailed, ["return_target_not_allowed"]),
        ("draft", "reviewer", "  ", GuardFailed, ["comment_required"]),
        (
            "approved",
            "reviewer",
            "",
            GuardFailed,
            ["return_target_not_allowed", "comment_required"],
        ),
        ("draft", "chair_a", "Mine.", PermissionDenied, []),
        ("draft", "drafter_a", "Mine.", PermissionDenied, []),
    ],
)
def test_a_refused_return_names_its_reason_and_writes_nothing(
    pf: Planflow,
    org: Org,
    state: str,
    actor: str,
    comment: str,
    error: type[Exception],
    codes: list[str],
) -> None:
    plan_id = under_review(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(error) as refused:
        pf.return_to(plan_id, state, actor, comment)
    if codes:
        assert isinstance(refused.value, GuardFailed)
        assert [r.code for r in refused.value.refusals] == codes
        if codes[0] == "return_target_not_allowed":
            assert refused.value.refusals[0].params == {
                "state": "under_review",
                "target": state,
                "allowed": ["draft", "submitted"],
            }
    assert footprint(pf, plan_id) == before


def test_no_return_where_the_state_allows_none(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(ActionNotAllowed):
        pf.return_to(plan_id, "draft", "reviewer", "Not here.")
    assert footprint(pf, plan_id) == before
    assert pf.return_options(plan_id, "reviewer") == []


def test_a_stale_return_is_refused(pf: Planflow, org: Org) -> None:
    from planflow import StaleVersion

    plan_id = under_review(pf)
    version = pf.plan(plan_id).version
    pf.fire(plan_id, "approve", "reviewer2")
    with pytest.raises(StaleVersion):
        pf.return_to(plan_id, "draft", "reviewer", "Too late.", expected_version=version)


# -- bulk approve / return ---------------------------------------------------------------


def test_bulk_approve_does_each_plan_on_its_own_and_reports_each(pf: Planflow, org: Org) -> None:
    fresh = under_review(pf)
    stale = under_review(pf)
    early = submitted(pf)  # not under review yet: approve is not possible there
    seen = {p: pf.plan(p).version for p in (fresh, stale, early)}
    pf.content.add_comment(stale, "A remark meanwhile.", actor="reviewer2")
    stale_before = footprint(pf, stale)
    early_before = footprint(pf, early)
    outcomes = pf.bulk(
        [(fresh, seen[fresh]), (stale, seen[stale]), (early, seen[early])],
        "approve",
        "reviewer",
        "Fine.",
    )
    assert [(o.plan_id, o.done, o.to_state, o.code) for o in outcomes] == [
        (fresh, True, "approved", None),
        (stale, False, None, "stale_version"),
        (early, False, None, "action_not_allowed"),
    ]
    assert outcomes[1].params["current"] == seen[stale] + 1
    assert pf.plan(fresh).state == "approved"
    # (notifications are counted per person, and the approved plan told its chair)
    assert footprint(pf, stale)[:3] == stale_before[:3]
    assert footprint(pf, early)[:3] == early_before[:3]
    assert pf.audit_trail(fresh)[-1].comment == "Fine."
    assert pf.verify_audit().ok


def test_bulk_return_needs_the_comment_and_may_pick_the_state(pf: Planflow, org: Org) -> None:
    a, b = under_review(pf), under_review(pf)
    items = [(a, pf.plan(a).version), (b, pf.plan(b).version)]
    refused = pf.bulk(items, "return", "reviewer", "")
    assert [(o.done, o.code) for o in refused] == [(False, "guard_failed")] * 2
    assert refused[0].params["refusals"][0]["code"] == "comment_required"
    done = pf.bulk(items, "return", "reviewer", "Dates.", return_to="draft")
    assert [(o.done, o.to_state) for o in done] == [(True, "draft")] * 2
    plain = under_review(pf)
    (back,) = pf.bulk([(plain, pf.plan(plain).version)], "return", "reviewer", "Again.")
    assert (back.done, back.to_state) == (True, "returned")


@pytest.mark.parametrize(
    ("items", "action", "code"),
    [
        ([], "approve", "bulk_empty"),
        ([(1, 1), (1, 1)], "approve", "bulk_duplicate"),
        ([(0, 1)], "approve", "bulk_bad_item"),
        ([(n, 1) for n in range(1, 102)], "approve", "bulk_too_many"),
        ([(1, 1)], "delete", "bulk_action_unknown"),
    ],
)
def test_a_bulk_selection_that_cannot_be_meant_does_nothing(
    pf: Planflow, org: Org, items: list[tuple[int, int]], action: str, code: str
) -> None:
    from planflow import ValidationError

    plan_id = under_review(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError) as refused:
        pf.bulk(items, action, "reviewer", "x")
    assert refused.value.code == code
    assert footprint(pf, plan_id) == before
