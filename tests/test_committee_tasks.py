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
