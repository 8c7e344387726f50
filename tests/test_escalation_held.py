"""Escalation of a task held personally (transfer, added approvers; issue 17).

A review the reviewer transferred to a colleague, or shared with an approver
they added, is overdue: the deadline run escalates it exactly once, to the
same role at the next unit up (the federation's reviewer), records it in the
trail once, tells the people up there it came to them and the people who
held it that it went away from them (once each), and the person it was
escalated to may act on it and finds it among their tasks, like a task held
by its role. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from conftest import Org
from stored import stored_plan
from test_scheduler import DUE_AT, all_notices_now, notices, process, trail, under_review

from planflow.app import Planflow
from planflow.clock import FixedClock


def tasks_of(pf: Planflow, username: str) -> dict[int, tuple[int, bool]]:
    return {t.plan_id: (t.level, t.escalated_to_me) for t in pf.inbox.tasks(username)}


def test_a_transferred_review_escalates_once_to_the_reviewer_above(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = under_review(pf)
    pf.transfer(plan_id, "reviewer", "reviewer2", "On leave.")
    assert plan_id not in tasks_of(pf, "reviewer") and plan_id in tasks_of(pf, "reviewer2")
    clock.set(DUE_AT + timedelta(hours=1))
    report = process(pf).run()
    assert report.escalated == 1
    assert trail(pf, plan_id).count("escalate") == 1
    # Told once each: the reviewer above that it came to them; the colleague who
    # holds it that it went up. The reviewer who handed it on is told nothing.
    assert set(notices(pf, plan_id, "escalate")) == {"fed_reviewer"}
    assert set(notices(pf, plan_id, "escalated_away")) == {"reviewer2"}
    assert all_notices_now(pf, plan_id) == {"fed_reviewer": 1, "reviewer2": 1}
    record = pf.audit_trail(plan_id)[-1]
    assert (record.action, record.actor, dict(record.detail)["to_unit"]) == (
        "escalate",
        None,
        "fed",
    )
    plan = stored_plan(pf, plan_id)
    assert (plan.task_level, plan.task_escalated_unit_id) == (1, org.fed)
    # The next run does nothing more.
    assert process(pf, "w2").run().applied == 0
    assert trail(pf, plan_id).count("escalate") == 1
    # It is the federation reviewer's task now, as well as the colleague's.
    assert tasks_of(pf, "fed_reviewer") == {plan_id: (1, True)}
    assert plan_id in tasks_of(pf, "reviewer2") and plan_id not in tasks_of(pf, "reviewer")
    assert "approve" in {a.trigger for a in pf.available_actions(plan_id, "fed_reviewer")}
    assert pf.fire(plan_id, "approve", "fed_reviewer").to_state == "approved"
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.actor) == ("approve", "fed_reviewer")


def test_a_shared_review_escalates_once_and_the_reviewer_above_decides_it(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    """Alongside (会签): the reviewer approved their part, the added colleague sits on
    theirs. Escalated, the reviewer above decides the task as a whole."""
    plan_id = under_review(pf)
    pf.add_approver(plan_id, "reviewer", "reviewer2", "alongside")
    pf.fire(plan_id, "approve", "reviewer")  # their part
    assert stored_plan(pf, plan_id).state == "under_review"
    clock.set(DUE_AT + timedelta(hours=1))
    assert process(pf).run().escalated == 1
    assert set(notices(pf, plan_id, "escalate")) == {"fed_reviewer"}
    # Who still had it to do is told it went up; who had done their part is not.
    assert set(notices(pf, plan_id, "escalated_away")) == {"reviewer2"}
    assert process(pf, "w2").run().applied == 0
    assert tasks_of(pf, "fed_reviewer") == {plan_id: (1, True)}
    assert pf.fire(plan_id, "approve", "fed_reviewer").to_state == "approved"
