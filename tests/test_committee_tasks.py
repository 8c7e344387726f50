"""A committee member who has voted no longer has the task (n-of-m, committee_plan).

The vote is counted in its round (the plan's revision): after a return and a
resubmission the task is everyone's again, the earlier voter's included.
"""

from __future__ import annotations

from conftest import Org
from test_gestures import submitted

from planflow import Planflow


def holds(pf: Planflow, username: str, plan_id: int) -> bool:
    return plan_id in {t.plan_id for t in pf.inbox.tasks(username)}


def in_queue(pf: Planflow, username: str, plan_id: int) -> bool:
    return plan_id in {e.plan.id for e in pf.review_queue(username).mine.items}


def test_a_member_who_voted_no_longer_has_the_task(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf, "committee_plan")
    assert all(holds(pf, m, plan_id) for m in ("member1", "member2", "member3"))
    pf.fire(plan_id, "approve", "member1")  # one of two: the plan stays
    assert pf.plan(plan_id).state == "committee_review"
    assert not holds(pf, "member1", plan_id)
    assert not in_queue(pf, "member1", plan_id)
    assert holds(pf, "member2", plan_id) and in_queue(pf, "member2", plan_id)
    assert holds(pf, "member3", plan_id)


def test_a_new_round_gives_the_task_back_to_the_earlier_voter(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf, "committee_plan")
    pf.fire(plan_id, "approve", "member1")
    pf.fire(plan_id, "return_for_revision", "member2", comment="Add the dues targets.")
    pf.fire(plan_id, "resubmit", "chair_a")
    assert pf.plan(plan_id).state == "committee_review"
    assert holds(pf, "member1", plan_id) and holds(pf, "member2", plan_id)


def followed(pf: Planflow, username: str) -> set[int]:
    return {t.plan_id for t in pf.inbox.followed(username)}


def elsewhere(pf: Planflow, username: str) -> set[int]:
    return {e.plan.id for e in pf.review_queue(username).others.items}


def test_a_plan_the_member_voted_on_waits_for_others_where_they_can_follow_it(
    pf: Planflow, org: Org
) -> None:
    """Not theirs any more (the library's rule), the plan is in the member's list of
    plans waiting for others after their part, and in their queue's "Elsewhere";
    never in both of a list pair, and gone from both once decided."""
    plan_id = submitted(pf, "committee_plan")
    assert followed(pf, "member1") == set() and plan_id not in elsewhere(pf, "member1")
    pf.fire(plan_id, "approve", "member1")
    assert followed(pf, "member1") == {plan_id}
    assert plan_id in elsewhere(pf, "member1") and not in_queue(pf, "member1", plan_id)
    # The others still have it to do: theirs, not followed.
    assert holds(pf, "member2", plan_id) and followed(pf, "member2") == set()
    assert plan_id not in elsewhere(pf, "member2")
    pf.fire(plan_id, "approve", "member2")  # two of two: approved, no task left
    assert pf.plan(plan_id).state != "committee_review"
    assert followed(pf, "member1") == set() and plan_id not in elsewhere(pf, "member1")


def test_a_new_round_makes_it_the_voters_task_again(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf, "committee_plan")
    pf.fire(plan_id, "approve", "member1")
    pf.fire(plan_id, "return_for_revision", "member2", comment="Add the dues targets.")
    pf.fire(plan_id, "resubmit", "chair_a")
    assert holds(pf, "member1", plan_id) and followed(pf, "member1") == set()
    assert plan_id not in elsewhere(pf, "member1")


def test_an_approved_part_of_a_shared_task_waits_for_the_others(pf: Planflow, org: Org) -> None:
    """Alongside (会签): the reviewer approves their part, the colleague has not yet:
    the reviewer follows it, the colleague has it; an approver added before the
    reviewer goes first, and the reviewer follows it meanwhile."""
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    pf.add_approver(plan_id, "reviewer", "reviewer2", "alongside")
    pf.fire(plan_id, "approve", "reviewer")  # their part only
    assert pf.plan(plan_id).state == "under_review"
    assert followed(pf, "reviewer") == {plan_id} and not holds(pf, "reviewer", plan_id)
    assert plan_id in elsewhere(pf, "reviewer") and not in_queue(pf, "reviewer", plan_id)
    assert holds(pf, "reviewer2", plan_id) and followed(pf, "reviewer2") == set()
    pf.fire(plan_id, "approve", "reviewer2")
    assert pf.plan(plan_id).state == "approved"
    assert followed(pf, "reviewer") == set() == followed(pf, "reviewer2")

    other = submitted(pf)
    pf.fire(other, "start_review", "reviewer")
    pf.add_approver(other, "reviewer", "fed_reviewer", "before")
    assert followed(pf, "reviewer") == {other} and not holds(pf, "reviewer", other)
    assert holds(pf, "fed_reviewer", other)
    pf.fire(other, "approve", "fed_reviewer")  # back to the reviewer: theirs again
    assert holds(pf, "reviewer", other) and followed(pf, "reviewer") == set()
    assert followed(pf, "fed_reviewer") == {other}
