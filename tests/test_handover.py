"""Transfer, add an approver and CC (issue 17), through the library, on both databases.

Each gesture works, is on the trail (a note in code and parameters) and tells
the people concerned; each bad case refuses with its code and writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Org, migrate_schema
from sqlalchemy import inspect
from test_gestures import footprint, notifications, submitted

from planflow import GuardFailed, NotFound, PermissionDenied, Planflow
from planflow.core.notes import render
from planflow.storage import handover_sql as hs
from planflow.storage.db import Database


def in_review(pf: Planflow) -> int:
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    return plan_id


def codes(refused: pytest.ExceptionInfo[GuardFailed]) -> tuple[str, ...]:
    return refused.value.codes


def last(pf: Planflow, plan_id: int) -> Any:
    return pf.audit_trail(plan_id)[-1]


# -- transfer ------------------------------------------------------------------------------


def test_transfer_hands_the_task_to_another_reviewer_and_only_they_may_act(
    pf: Planflow, org: Org
) -> None:
    plan_id = in_review(pf)
    done = pf.transfer(plan_id, "reviewer", "reviewer2", "On leave next week.")
    assert done.action == "transfer" and set(done.notified) == {"reviewer", "reviewer2"}
    record = last(pf, plan_id)
    assert (record.action, record.actor, record.from_state, record.to_state) == (
        "transfer",
        "reviewer",
        "under_review",
        "under_review",
    )
    assert record.comment == "On leave next week."
    told = notifications(pf, "reviewer2")[0]
    assert told.kind == "transfer"
    assert render(told.payload["note"]) == "reviewer transferred the task to reviewer2"
    assert render(told.payload["note"], "zh") != render(told.payload["note"], "ko")
    # The old holder no longer has it; the new one does.
    assert "approve" not in {o.trigger for o in pf.available_actions(plan_id, "reviewer")}
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "approve", "reviewer")
    assert pf.handover_options(plan_id, "reviewer") is None
    assert pf.fire(plan_id, "approve", "reviewer2").to_state == "approved"
    assert pf.verify_audit().ok


@pytest.mark.parametrize(
    ("actor", "target", "code"),
    [
        ("reviewer", "nobody_here", "unknown_user"),
        ("reviewer", "reviewer", "transfer_to_self"),
        ("reviewer", "officer", "transfer_target_lacks_role"),
        ("reviewer", "chair_a", "transfer_to_submitter"),
        ("reviewer2", "fed_reviewer", "transfer_target_lacks_role"),
        ("officer", "reviewer2", "not_task_holder"),
    ],
)
def test_transfer_refusals_write_nothing(
    pf: Planflow, org: Org, actor: str, target: str, code: str
) -> None:
    plan_id = in_review(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(GuardFailed) as refused:
        pf.transfer(plan_id, actor, target)
    assert codes(refused) == (code,)
    assert footprint(pf, plan_id) == before


def test_transfer_to_an_inactive_user_and_where_the_state_does_not_allow_it(
    pf: Planflow, org: Org
) -> None:
    plan_id = submitted(pf)  # 'submitted' allows nothing
    with pytest.raises(GuardFailed) as refused:
        pf.transfer(plan_id, "reviewer", "reviewer2")
    assert codes(refused) == ("not_allowed_in_state",)
    pf.fire(plan_id, "start_review", "reviewer")
    pf.org.set_active("reviewer2", False)
    with pytest.raises(GuardFailed) as refused:
        pf.transfer(plan_id, "reviewer", "reviewer2")
    assert codes(refused) == ("inactive_user",)


def test_a_stranger_learns_nothing(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    with pytest.raises(NotFound):
        pf.transfer(plan_id, "chair_b", "reviewer2")


# -- add an approver ------------------------------------------------------------------------


def test_an_approver_added_before_decides_first_then_the_task_comes_back(
    pf: Planflow, org: Org
) -> None:
    plan_id = in_review(pf)
    pf.add_approver(plan_id, "reviewer", "officer", "before")
    assert notifications(pf, "officer")[0].kind == "add_approver"
    # The officer holds no reviewer role, yet acts on this task; the reviewer waits.
    assert pf.plan(plan_id, as_user="officer").state == "under_review"
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "approve", "reviewer")
    done = pf.fire(plan_id, "approve", "officer")
    assert (done.action, done.to_state) == ("countersign", "under_review")
    assert notifications(pf, "reviewer")[0].kind == "countersign"
    assert pf.fire(plan_id, "approve", "reviewer").to_state == "approved"
    assert pf.verify_audit().ok


def test_an_approver_added_after_decides_before_the_plan_moves(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    pf.add_approver(plan_id, "reviewer", "reviewer2", "after")
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "approve", "reviewer2")
    assert pf.fire(plan_id, "approve", "reviewer").to_state == "under_review"
    assert pf.fire(plan_id, "approve", "reviewer2").to_state == "approved"


def test_alongside_both_must_approve_and_a_return_decides_at_once(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    pf.add_approver(plan_id, "reviewer", "officer", "alongside")
    assert pf.fire(plan_id, "approve", "officer").to_state == "under_review"
    assert pf.fire(plan_id, "approve", "reviewer").to_state == "approved"
    other = in_review(pf)
    pf.add_approver(other, "reviewer", "officer", "alongside")
    done = pf.fire(other, "return_for_revision", "officer", "Needs dates.")
    assert done.to_state == "returned"
    with pf.db.engine.connect() as conn:  # the parts ended with the task
        assert not conn.exec_driver_sql(
            f"SELECT count(*) FROM task_part WHERE plan_id = {other}"
        ).scalar()


@pytest.mark.parametrize(
    ("target", "mode", "code"),
    [
        ("reviewer", "before", "add_self_as_approver"),
        ("chair_a", "after", "add_submitter_as_approver"),
        ("ghost", "after", "unknown_user"),
    ],
)
def test_add_approver_refusals(pf: Planflow, org: Org, target: str, mode: str, code: str) -> None:
    plan_id = in_review(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(GuardFailed) as refused:
        pf.add_approver(plan_id, "reviewer", target, mode)
    assert codes(refused) == (code,)
    assert footprint(pf, plan_id) == before


def test_separation_of_duties_holds_for_an_added_approver(pf: Planflow, org: Org) -> None:
    # A drafter of the plan's own unit added alongside: not the submitter, so
    # allowed; yet the chair who submitted may never be added.
    plan_id = in_review(pf)
    with pytest.raises(GuardFailed):
        pf.add_approver(plan_id, "reviewer", "chair_a", "alongside")
    pf.add_approver(plan_id, "reviewer", "drafter_a", "alongside")
    assert pf.fire(plan_id, "approve", "drafter_a").action == "countersign"


# -- CC ---------------------------------------------------------------------------------------


def test_cc_tells_them_lets_them_read_that_plan_only_and_records_the_read(
    pf: Planflow, org: Org
) -> None:
    plan_id = in_review(pf)
    unrelated = in_review(pf)
    with pytest.raises(NotFound):
        pf.plan(plan_id, as_user="chair_b")
    done = pf.cc(plan_id, "reviewer", ["chair_b", "fed_reviewer"])
    assert done.action == "cc" and set(done.notified) == {"chair_b", "fed_reviewer"}
    assert notifications(pf, "chair_b")[0].kind == "cc"
    assert pf.plan(plan_id, as_user="chair_b").id == plan_id
    assert plan_id in {p.id for p in pf.plans(as_user="chair_b").items}
    with pytest.raises(NotFound):
        pf.plan(unrelated, as_user="chair_b")
    assert [r.read_at for r in pf.cc_receipts(plan_id)] == [None, None]
    assert pf.record_cc_read(plan_id, "chair_b") is True
    assert pf.record_cc_read(plan_id, "chair_b") is False
    receipts = {r.user: r for r in pf.cc_receipts(plan_id, as_user="reviewer")}
    assert receipts["chair_b"].read_at is not None and receipts["fed_reviewer"].read_at is None
    # Until the plan ends: approved is no end; abandoned would be.
    pf.fire(plan_id, "approve", "reviewer")
    assert pf.plan(plan_id, as_user="chair_b").state == "approved"


def test_cc_ends_with_the_plan(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf, "committee_plan")
    pf.cc(plan_id, "member1", ["chair_b"])
    assert pf.plan(plan_id, as_user="chair_b")
    pf.fire(plan_id, "return_for_revision", "member1", "Dates, please.")
    pf.fire(plan_id, "abandon", "chair_a", "Replaced by another plan.")
    with pytest.raises(NotFound):
        pf.plan(plan_id, as_user="chair_b")


def test_cc_refusals(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    with pytest.raises(GuardFailed) as refused:
        pf.cc(plan_id, "reviewer", [])
    assert codes(refused) == ("cc_nobody",)
    with pytest.raises(GuardFailed) as refused:
        pf.cc(plan_id, "reviewer", ["nobody_here"])
    assert codes(refused) == ("unknown_user",)
    with pytest.raises(GuardFailed) as refused:
        pf.cc(plan_id, "chair_a", ["officer"])
    assert codes(refused) == ("not_task_holder",)


def test_the_definition_copies_the_officer_on_approval(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    pf.fire(plan_id, "approve", "reviewer")
    kinds = [n.kind for n in notifications(pf, "officer")]
    assert "cc" in kinds
    assert [r.user for r in pf.cc_receipts(plan_id)] == ["officer"]
    assert pf.cc_receipts(plan_id)[0].added_by is None


def test_the_statements_are_the_ones_exercised_above() -> None:
    assert {s.name for s in hs.ALL_STATEMENTS} == {
        *("select_task_parts", "delete_task_parts", "insert_task_part"),
        *("insert_plan_cc", "select_plan_cc", "mark_cc_read", "end_plan_cc"),
        "select_granted_plans",
        "select_unread_cc",
    }


def test_the_migration_up_and_down(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0017")
        with db.engine.connect() as conn:
            assert {"task_part", "plan_cc"} <= set(inspect(conn).get_table_names())
        migrate_schema(db, "0014", "downgrade")
        with db.engine.connect() as conn:
            assert "plan_cc" not in inspect(conn).get_table_names()
    finally:
        db.dispose()


def test_the_task_lists_follow_the_task(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)

    def queue(user: str) -> set[int]:
        return {e.plan.id for e in pf.review_queue(user).mine.items}

    def tasks(user: str) -> set[int]:
        return {t.plan_id for t in pf.tasks(user)}

    assert plan_id in queue("reviewer") and plan_id in queue("reviewer2")
    pf.add_approver(plan_id, "reviewer", "drafter_b", "before")
    # Only the added person's turn now: nobody else lists it as theirs.
    assert plan_id not in queue("reviewer") | queue("reviewer2") | tasks("reviewer")
    assert plan_id in tasks("drafter_b")
    pf.fire(plan_id, "approve", "drafter_b")
    assert plan_id in queue("reviewer") and plan_id not in queue("reviewer2")
    assert plan_id not in tasks("drafter_b")


def test_an_urge_reminds_whoever_holds_the_task_after_a_transfer(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    pf.transfer(plan_id, "reviewer", "reviewer2")
    option = pf.urge_option(plan_id, "chair_a")
    assert option is not None and option.recipients == 1
    assert pf.urge(plan_id, "chair_a").notified == ("reviewer2",)


def test_the_forms_suggest_the_people_nearest_the_plan_first(pf: Planflow, org: Org) -> None:
    """The add-an-approver and CC forms suggest names (a phone has no directory to
    look usernames up in): the task's unit first, then the plan's unit and above;
    never the holder, the submitter or someone already holding a part."""
    plan_id = in_review(pf)
    options = pf.handover_options(plan_id, "reviewer")
    assert options is not None
    suggested = options.suggested
    assert "reviewer" not in suggested and "chair_a" not in suggested
    # The union's people (the task's unit), then the branch's, then the federation's.
    assert suggested.index("reviewer2") < suggested.index("drafter_a")
    assert suggested.index("drafter_a") < suggested.index("fed_reviewer")
    assert "drafter_b" not in suggested  # a sibling branch is not on the plan's way up
    pf.add_approver(plan_id, "reviewer", "fed_reviewer", "after")
    again = pf.handover_options(plan_id, "reviewer")
    assert again is not None and "fed_reviewer" not in again.suggested
