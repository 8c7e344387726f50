"""A deputy's tasks where a deputy looks (issue 17), through the library, on both databases.

While a delegation is in force, the deputy's "My work" (``pf.inbox.tasks``,
``pf.tasks``) and review queue (``ReviewQueue.for_others``) list the
delegator's open tasks in its scope, each ``on_behalf_of`` the delegator;
a plan the deputy may act on themselves shows once, as theirs; when the
delegation ends or does not cover the task, it is gone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import Org
from stored import CountStatements
from test_delegations import TODAY, away, in_review

from planflow import Planflow
from planflow.clock import FixedClock


def plans_of(tasks: Any) -> list[tuple[int, str | None]]:
    return [(t.plan_id, t.on_behalf_of) for t in tasks]


def test_my_work_lists_the_delegators_tasks_marked_for_them(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = in_review(pf)
    assert plan_id not in {t.plan_id for t in pf.inbox.tasks("officer")}
    away(pf, ends_on=TODAY + timedelta(days=1))
    assert (plan_id, "reviewer") in plans_of(pf.inbox.tasks("officer"))
    assert (plan_id, "reviewer") in plans_of(pf.tasks("officer"))
    # The delegator's own list is unchanged: their task, not marked.
    assert (plan_id, None) in plans_of(pf.inbox.tasks("reviewer"))
    clock.advance(timedelta(days=2))
    assert plan_id not in {t.plan_id for t in pf.inbox.tasks("officer")}


def test_the_review_queue_lists_them_apart_and_the_deputy_may_act(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    assert pf.review_queue("officer").for_others == ()
    away(pf)
    queue = pf.review_queue("officer")
    assert plans_of(queue.for_others) == [(plan_id, "reviewer")]
    assert plan_id not in {e.plan.id for e in queue.mine.items}
    pf.fire(plan_id, "approve", "officer")
    assert pf.review_queue("officer").for_others == ()
    assert plan_id not in {t.plan_id for t in pf.inbox.tasks("officer")}


def test_a_deputy_who_holds_the_role_too_sees_the_task_once_as_theirs(
    pf: Planflow, org: Org
) -> None:
    plan_id = in_review(pf)
    away(pf, deputy="reviewer2")
    assert plans_of(pf.inbox.tasks("reviewer2")).count((plan_id, None)) == 1
    assert plan_id not in {t.plan_id for t in pf.inbox.tasks("reviewer2") if t.on_behalf_of}
    queue = pf.review_queue("reviewer2")
    assert queue.for_others == ()
    assert plan_id in {e.plan.id for e in queue.mine.items}


def test_out_of_scope_tasks_are_not_listed(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    away(pf, deputy="member1", workflow="committee_plan")
    away(pf, deputy="inspector", role="inspector")
    for deputy in ("member1", "inspector"):
        assert plan_id not in {t.plan_id for t in pf.inbox.tasks(deputy)}
        assert pf.review_queue(deputy).for_others == ()


def test_the_queue_costs_nothing_more_for_no_ones_deputy_and_one_read_for_a_deputy(
    pf: Planflow, org: Org, count_statements: CountStatements
) -> None:
    in_review(pf)
    pf.review_queue("officer")  # warm the caches
    with count_statements(pf) as before:
        pf.review_queue("officer")
    away(pf, who="reviewer2", deputy="inspector")  # someone else's deputy
    pf.review_queue("officer")  # the new generation: the organisation is read anew, once
    with count_statements(pf) as after:  # at the driver: fixed statements count too
        queue = pf.review_queue("officer")
    assert queue.for_others == ()
    assert len(after) == len(before)
    away(pf)  # now officer stands in for reviewer
    pf.review_queue("officer")
    with count_statements(pf) as deputy:
        queue = pf.review_queue("officer")
    assert len(queue.for_others) == 1
    assert len(deputy) == len(before) + 1


def test_a_delegation_set_or_ended_is_seen_at_once_by_another_worker(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    """Two ``Planflow`` on one database, as two worker processes: each one's cache
    of delegations follows the organisation's generation."""
    plan_id = in_review(pf)
    other = Planflow(pf.db.url, clock=clock)
    try:
        assert other.review_queue("officer").for_others == ()
        delegation = away(pf)
        assert plans_of(other.review_queue("officer").for_others) == [(plan_id, "reviewer")]
        assert pf.delegations.end("reviewer", delegation)
        assert other.review_queue("officer").for_others == ()
        assert plan_id not in {t.plan_id for t in other.inbox.tasks("officer")}
    finally:
        other.close()
