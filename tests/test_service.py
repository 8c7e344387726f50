"""Tests of the one transition path (``planflow.services.plans.PlanService`` via ``Planflow``).

Every test runs on SQLite and PostgreSQL (the ``pf`` and ``org`` fixtures).
Covered: the happy path to ``accepted`` with its audit trail and a verifying
chain; the version counter; stale versions, unknown plans and refused
transitions writing nothing; revisions frozen at submission; the task and
timer columns (working days from the Monday clock) and their clearing;
who gets notified; committee 2-of-3 voting with fresh rounds after a return;
organisation changes made by another process; post-commit events; and
definition versioning (old plans keep their version, a reused version number
with other content is refused).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from inspection_support import fire, score_sheet
from sqlmodel import col, select
from stored import stored_plan

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.audit_chain import GENESIS, sha256_hex
from planflow.core.content.model import PlanContent
from planflow.errors import (
    ActionNotAllowed,
    DefinitionError,
    GuardFailed,
    NotFound,
    PermissionDenied,
    StaleVersion,
)
from planflow.events import PlanChanged
from planflow.storage import audit_repo
from planflow.storage.tables import ApprovalVote, Notification, PlanRevision, WorkflowDefinition

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # the fixture clock: a Monday
KNOWN_ROLES = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin", "committee")


# -- helpers -----------------------------------------------------------------------------------


def content(*texts: str) -> PlanContent:
    """One section ``s1`` with dated items ``i1``, ``i2``, ... of the given texts."""
    items = [
        {"key": f"i{n}", "text": text, "due": n} for n, text in enumerate(texts or ("Recruit",), 1)
    ]
    return PlanContent.from_dict(
        {"sections": [{"key": "s1", "title": "Members", "items": items}]}, year=2027
    )


def new_plan(pf: Planflow, workflow: str = "annual_plan", *, with_items: bool = True) -> int:
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title="Branch A plan", actor="drafter_a", workflow=workflow
    )
    if with_items:
        pf.content.set_content(
            plan_id,
            content("Recruit", "Congress"),
            actor="drafter_a",
            expected_version=None,
        )
    return plan_id


def run(
    pf: Planflow, plan_id: int, *steps: tuple[str, str | None] | tuple[str, str | None, str]
) -> list[str]:
    """Fire ``(action, actor[, comment])`` steps in order; returns the states reached.

    Before ``inspect`` the inspector scores a passing sheet (``inspection_support.fire``).
    """
    return [fire(pf, plan_id, *step) for step in steps]


def names(pf: Planflow, user_ids: Iterable[int | None]) -> list[str | None]:
    by_id = pf.user_names()
    return [None if u is None else by_id[u] for u in user_ids]


def notified(pf: Planflow, plan_id: int) -> list[str]:
    """Usernames notified about the plan, in the order the rows were written (but for
    the chair's "draft ready to submit", which the content edit of ``new_plan`` sends)."""
    with pf.session() as s:
        rows = s.exec(
            select(Notification.user_id)
            .where(Notification.plan_id == plan_id, Notification.kind != "draft_ready")
            .order_by(col(Notification.id))
        ).all()
    return [n for n in names(pf, list(rows)) if n is not None]


def votes(pf: Planflow, plan_id: int) -> list[tuple[int, str]]:
    with pf.session() as s:
        rows = s.exec(
            select(ApprovalVote.round, ApprovalVote.user_id)
            .where(ApprovalVote.plan_id == plan_id)
            .order_by(col(ApprovalVote.round), col(ApprovalVote.user_id))
        ).all()
    by_id = pf.user_names()
    return [(r, by_id[u]) for r, u in rows]


def footprint(pf: Planflow, plan_id: int) -> tuple[object, ...]:
    """Everything a transition writes: compare before and after a refused one."""
    plan = stored_plan(pf, plan_id)
    with pf.session() as s:
        notes = len(s.exec(select(Notification.id)).all())
        revisions = len(s.exec(select(PlanRevision.id)).all())
        ballots = len(s.exec(select(ApprovalVote.id)).all())
    return (
        plan.state,
        plan.version,
        plan.audit_seq,
        plan.audit_hash,
        plan.revision,
        plan.submitted_by,
        plan.task_role,
        plan.task_due_at,
        plan.timer_at,
        pf.counts()["audit_records"],
        notes,
        revisions,
        ballots,
    )


def task(pf: Planflow, plan_id: int) -> tuple[object, ...]:
    p = stored_plan(pf, plan_id)
    return (p.task_role, p.task_unit_id, p.task_since, p.task_due_at, p.timer_at, p.timer_kind)


def at(day: int, hour: int = 8) -> datetime:
    return datetime(2027, 1, day, hour, 0, tzinfo=UTC)


HAPPY_PATH: list[tuple[str, str | None]] = [
    ("submit", "chair_a"),
    ("start_review", "reviewer"),
    ("approve", "reviewer2"),
    ("schedule_inspection", "officer"),
    ("inspect", "inspector"),
    ("accept", "inspector"),
]


# -- the happy path ----------------------------------------------------------------------------


def test_happy_path_to_accepted_with_its_audit_trail(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    states = run(pf, plan_id, *HAPPY_PATH)
    assert states == [
        "submitted",
        "under_review",
        "approved",
        "inspection_scheduled",
        "inspected",
        "accepted",
    ]
    assert stored_plan(pf, plan_id).state == "accepted"

    trail = pf.audit_trail(plan_id)
    assert [(r.seq, r.action, r.from_state, r.to_state) for r in trail] == [
        (1, "create", None, "draft"),
        (2, "edit_content", "draft", "draft"),
        (3, "submit", "draft", "submitted"),
        (4, "start_review", "submitted", "under_review"),
        (5, "approve", "under_review", "approved"),
        (6, "schedule_inspection", "approved", "inspection_scheduled"),
        (7, "inspection_scores", "inspection_scheduled", "inspection_scheduled"),
        (8, "inspect", "inspection_scheduled", "inspected"),
        (9, "accept", "inspected", "accepted"),
    ]
    assert [r.actor for r in trail] == [
        "drafter_a",
        "drafter_a",
        "chair_a",
        "reviewer",
        "reviewer2",
        "officer",
        "inspector",
        "inspector",
        "inspector",
    ]
    assert [r.revision for r in trail] == [0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert all(r.at == T0 for r in trail)
    # Each record carries the hash of the one before it.
    assert trail[0].prev_hash == GENESIS
    assert [r.prev_hash for r in trail[1:]] == [r.hash for r in trail[:-1]]
    plan = stored_plan(pf, plan_id)
    assert (plan.audit_seq, plan.audit_hash) == (9, trail[-1].hash)
    assert dict(trail[0].detail) == {
        "title": "Branch A plan",
        "year": 2027,
        "workflow": "annual_plan@5",
    }

    report = audit_repo.verify(pf.db)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.plans, report.records) == (1, 9)


def test_version_increments_by_one_per_change(pf: Planflow, org) -> None:
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="T", actor="drafter_a")
    assert stored_plan(pf, plan_id).version == 1
    pf.content.set_content(plan_id, content(), actor="drafter_a", expected_version=1)
    assert stored_plan(pf, plan_id).version == 2
    version = 2
    for action, actor in HAPPY_PATH:
        if action == "inspect":  # the inspector's scores are a change of their own
            assert score_sheet(pf, plan_id) == version + 1
            version += 1
        pf.fire(plan_id, action, actor, expected_version=version)
        version += 1
        plan = stored_plan(pf, plan_id)
        assert plan.version == version
        assert plan.audit_seq == version


# -- refusals write nothing --------------------------------------------------------------------


def test_stale_expected_version_is_refused_and_writes_nothing(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a", expected_version=2)
    before = footprint(pf, plan_id)
    with pytest.raises(StaleVersion) as info:
        pf.fire(plan_id, "start_review", "reviewer", expected_version=2)
    assert (info.value.expected, info.value.current, info.value.plan_id) == (2, 3, plan_id)
    assert footprint(pf, plan_id) == before
    assert stored_plan(pf, plan_id).state == "submitted"
    # With the current version the same action goes through.
    assert (
        pf.fire(plan_id, "start_review", "reviewer", expected_version=3).to_state == "under_review"
    )


def test_a_newer_expected_version_is_stale_too(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(StaleVersion) as info:
        pf.fire(plan_id, "submit", "chair_a", expected_version=7)
    assert (info.value.expected, info.value.current) == (7, 2)
    assert footprint(pf, plan_id) == before


def test_unknown_plan_is_not_found(pf: Planflow, org) -> None:
    with pytest.raises(NotFound) as info:
        pf.fire(4242, "submit", "chair_a")
    assert (info.value.kind, info.value.ident) == ("plan", 4242)
    with pytest.raises(NotFound):
        stored_plan(pf, 4242)
    with pytest.raises(NotFound):
        pf.available_actions(4242, "chair_a")
    with pytest.raises(NotFound):
        pf.audit_trail(4242)
    assert pf.counts()["audit_records"] == 0


def test_guard_refusal_writes_nothing(pf: Planflow, org) -> None:
    plan_id = new_plan(pf, with_items=False)
    before = footprint(pf, plan_id)
    with pytest.raises(GuardFailed) as info:
        pf.fire(plan_id, "submit", "chair_a")
    assert info.value.reasons == ("the plan has no items yet",)
    assert footprint(pf, plan_id) == before


def test_comment_guard_refusal_writes_nothing(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    run(pf, plan_id, ("submit", "chair_a"), ("start_review", "reviewer"))
    before = footprint(pf, plan_id)
    with pytest.raises(GuardFailed):
        pf.fire(plan_id, "return_for_revision", "reviewer", comment="   ")
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize(
    ("action", "actor", "error"),
    [
        ("start_review", "drafter_a", PermissionDenied),
        ("start_review", "fed_reviewer", PermissionDenied),
        ("start_review", "chair_b", NotFound),  # another branch: not theirs to see
        ("auto_return", "reviewer", ActionNotAllowed),
        ("approve", "reviewer", ActionNotAllowed),
        ("to_approved", "reviewer", ActionNotAllowed),
    ],
)
def test_refused_transition_writes_nothing(
    pf: Planflow, org, action: str, actor: str, error: type[Exception]
) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    before = footprint(pf, plan_id)
    with pytest.raises(error):
        pf.fire(plan_id, action, actor)
    assert footprint(pf, plan_id) == before


def test_permission_denied_names_the_role(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    with pytest.raises(PermissionDenied) as info:
        pf.fire(plan_id, "start_review", "fed_reviewer")
    assert (info.value.role, info.value.where) == ("reviewer", "at the unit above the plan's unit")


def test_system_may_auto_return_and_users_may_not(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    run(pf, plan_id, ("submit", "chair_a"), ("start_review", "reviewer"))
    with pytest.raises(PermissionDenied) as info:
        pf.fire(plan_id, "auto_return", "reviewer")
    assert info.value.role == "system"
    assert pf.fire(plan_id, "auto_return", None).to_state == "returned"
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.actor, last.to_state) == ("auto_return", None, "returned")
    assert audit_repo.verify(pf.db).ok


def test_on_behalf_of_is_recorded_on_the_trail(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "start_review", "reviewer2", on_behalf_of="reviewer")
    last = pf.audit_trail(plan_id)[-1]
    assert (last.actor, last.on_behalf_of) == ("reviewer2", "reviewer")
    assert audit_repo.verify(pf.db).ok


# -- revisions ---------------------------------------------------------------------------------


def test_submission_freezes_a_revision(pf: Planflow, org, clock: FixedClock) -> None:
    plan_id = new_plan(pf)
    first = content("Recruit", "Congress")
    assert stored_plan(pf, plan_id).revision == 0
    pf.fire(plan_id, "submit", "chair_a")
    assert stored_plan(pf, plan_id).revision == 1
    assert stored_plan(pf, plan_id).submitted_by == pf.user_id("chair_a")

    run(
        pf,
        plan_id,
        ("start_review", "reviewer"),
        ("return_for_revision", "reviewer", "add a budget"),
    )
    assert stored_plan(pf, plan_id).revision == 1  # returning does not freeze anything
    clock.advance(timedelta(days=1))
    second = content("Recruit 50 members", "Congress", "Budget")
    pf.content.set_content(plan_id, second, actor="drafter_a", expected_version=None)

    # The frozen revision is what was submitted, not the edited working copy.
    revisions = pf.content.revisions(plan_id)
    assert [r.number for r in revisions] == [1]
    assert revisions[0].content == first
    assert revisions[0].content_hash == sha256_hex(first.canonical_json())
    assert revisions[0].created_by == "chair_a"
    assert revisions[0].created_at == T0
    assert pf.content.content(plan_id) == second

    pf.fire(plan_id, "resubmit", "chair_a")
    plan = stored_plan(pf, plan_id)
    assert plan.revision == 2
    revisions = pf.content.revisions(plan_id)
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].content == first
    assert revisions[1].content == second
    assert revisions[1].created_at == T0 + timedelta(days=1)
    resubmit = pf.audit_trail(plan_id)[-1]
    assert (resubmit.action, resubmit.revision) == ("resubmit", 2)


# -- task and timer columns --------------------------------------------------------------------


def test_task_columns_follow_the_state(pf: Planflow, org, clock: FixedClock) -> None:
    plan_id = new_plan(pf)
    assert task(pf, plan_id) == (None, None, None, None, None, None)

    pf.fire(plan_id, "submit", "chair_a")
    # submitted: reviewer at the parent, due in 5 working days (Mon 4 -> Mon 11),
    # reminder 1 working day before (Fri 8).
    assert task(pf, plan_id) == ("reviewer", org.union, T0, at(11), at(8), "remind")
    assert stored_plan(pf, plan_id).task_level == 0

    clock.set(at(5, 9))  # Tuesday 09:00
    pf.fire(plan_id, "start_review", "reviewer")
    # under_review: due in 10 working days (Tue 5 -> Tue 19), reminder 2 before (Fri 15).
    assert task(pf, plan_id) == ("reviewer", org.union, at(5, 9), at(19, 9), at(15, 9), "remind")

    pf.fire(plan_id, "return_for_revision", "reviewer", comment="dates")
    # returned: the drafter at the plan's unit, due in 14 calendar days, no timer.
    assert task(pf, plan_id) == ("drafter", org.branch_a, at(5, 9), at(19, 9), None, None)

    pf.fire(plan_id, "resubmit", "chair_a")
    assert task(pf, plan_id) == ("reviewer", org.union, at(5, 9), at(12, 9), at(11, 9), "remind")


def test_task_columns_clear_on_leaving_a_waiting_state(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    run(pf, plan_id, ("submit", "chair_a"), ("start_review", "reviewer"))
    assert stored_plan(pf, plan_id).task_role == "reviewer"
    pf.fire(plan_id, "approve", "reviewer")
    plan = stored_plan(pf, plan_id)
    assert (plan.state, plan.task_level) == ("approved", 0)
    assert task(pf, plan_id) == (None, None, None, None, None, None)


def test_inspection_task_is_at_the_nearest_unit_above_with_an_inspector(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    run(pf, plan_id, *HAPPY_PATH[:4])
    # inspection_scheduled: due in 29 days; reminder 7 days before.
    assert task(pf, plan_id) == (
        "inspector",
        org.fed,
        T0,
        T0 + timedelta(days=29),
        T0 + timedelta(days=22),
        "remind",
    )


# -- notifications -----------------------------------------------------------------------------


def test_submit_notifies_the_union_reviewers_only(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    assert notified(pf, plan_id) == []
    pf.fire(plan_id, "submit", "chair_a")
    assert sorted(notified(pf, plan_id)) == ["reviewer", "reviewer2"]
    with pf.session() as s:
        note = s.exec(
            select(Notification).where(
                Notification.plan_id == plan_id, Notification.kind == "transition"
            )
        ).first()
        assert note is not None
        assert (note.kind, note.email_status, note.read_at) == ("transition", "pending", None)
        payload = json.loads(note.payload)
    assert payload["action"] == "submit"
    assert (payload["from"], payload["to"]) == ("draft", "submitted")
    assert payload["actor"] == pf.user_id("chair_a")
    assert payload["workflow"] == "annual_plan"


def test_return_for_revision_notifies_the_submitter(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    run(pf, plan_id, ("submit", "chair_a"), ("start_review", "reviewer"))
    already = len(notified(pf, plan_id))
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="item 2 needs a date")
    new = notified(pf, plan_id)[already:]
    # The submitter (notify_submitter) and the drafters who own the returned task;
    # not the reviewer who acted.
    assert sorted(new) == ["chair_a", "drafter_a"]


def test_notifications_skip_inactive_users(pf: Planflow, org) -> None:
    with pf.session() as s:
        pf.org_repo.set_active(s, "reviewer2", False)
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    assert notified(pf, plan_id) == ["reviewer"]


def test_no_notification_for_a_non_transition_change(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)  # create + edit_content
    assert notified(pf, plan_id) == []
    # Only the edit that made the draft ready tells the chair so, once.
    with pf.session() as s:
        rows = s.exec(select(Notification.user_id, Notification.kind)).all()
    assert [(names(pf, [u])[0], k) for u, k in rows] == [("chair_a", "draft_ready")]


# -- committee 2-of-3 --------------------------------------------------------------------------


def test_committee_two_of_three(pf: Planflow, org) -> None:
    plan_id = new_plan(pf, "committee_plan")
    assert pf.fire(plan_id, "submit", "chair_a").to_state == "committee_review"
    assert pf.fire(plan_id, "approve", "member1").to_state == "committee_review"
    plan = stored_plan(pf, plan_id)
    assert plan.state == "committee_review"
    assert votes(pf, plan_id) == [(1, "member1")]
    first_vote = pf.audit_trail(plan_id)[-1]
    assert (first_vote.action, first_vote.from_state, first_vote.to_state) == (
        "approve",
        "committee_review",
        "committee_review",
    )
    assert dict(first_vote.detail) == {"quorum": [1, 2]}

    with pytest.raises(GuardFailed) as info:
        pf.fire(plan_id, "approve", "member1")
    assert info.value.reasons == ("you have already approved in this review round",)
    assert votes(pf, plan_id) == [(1, "member1")]

    assert pf.fire(plan_id, "approve", "member2").to_state == "approved"
    assert votes(pf, plan_id) == [(1, "member1"), (1, "member2")]
    last = pf.audit_trail(plan_id)[-1]
    assert dict(last.detail) == {"quorum": [2, 2]}
    assert stored_plan(pf, plan_id).task_role is None
    assert audit_repo.verify(pf.db).ok


def test_committee_available_actions_show_the_vote(pf: Planflow, org) -> None:
    plan_id = new_plan(pf, "committee_plan")
    run(pf, plan_id, ("submit", "chair_a"), ("approve", "member1"))
    mine = {o.trigger: o.blocked_by for o in pf.available_actions(plan_id, "member1")}
    assert {k: [r.code for r in v] for k, v in mine.items()} == {
        "approve": ["already_voted"],
        "return_for_revision": [],
    }
    assert mine["approve"][0].message == "you have already approved in this review round"
    theirs = {o.trigger: o.blocked_by for o in pf.available_actions(plan_id, "member2")}
    assert theirs == {"approve": (), "return_for_revision": ()}


def test_committee_return_after_one_vote_starts_a_fresh_round(pf: Planflow, org) -> None:
    plan_id = new_plan(pf, "committee_plan")
    run(pf, plan_id, ("submit", "chair_a"), ("approve", "member1"))
    assert (
        pf.fire(plan_id, "return_for_revision", "member3", comment="no budget").to_state
        == "returned"
    )
    assert pf.fire(plan_id, "resubmit", "chair_a").to_state == "committee_review"
    assert stored_plan(pf, plan_id).revision == 2
    # Round 2: member1's earlier vote does not count, so their new vote is the first.
    assert pf.fire(plan_id, "approve", "member1").to_state == "committee_review"
    assert dict(pf.audit_trail(plan_id)[-1].detail) == {"quorum": [1, 2]}
    assert pf.fire(plan_id, "approve", "member3").to_state == "approved"
    assert votes(pf, plan_id) == [(1, "member1"), (2, "member1"), (2, "member3")]


def test_committee_review_notifies_the_committee(pf: Planflow, org) -> None:
    plan_id = new_plan(pf, "committee_plan")
    pf.fire(plan_id, "submit", "chair_a")
    assert sorted(notified(pf, plan_id)) == ["member1", "member2", "member3"]


def test_concurrent_committee_votes_both_count(pf: Planflow, org) -> None:
    plan_id = new_plan(pf, "committee_plan")
    pf.fire(plan_id, "submit", "chair_a")
    version = stored_plan(pf, plan_id).version
    ids = {name: pf.user_id(name) for name in ("member1", "member2")}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def vote(name: str) -> None:
        try:
            barrier.wait()
            pf.service.fire(plan_id, "approve", ids[name])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(name,)) for name in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    plan = stored_plan(pf, plan_id)
    # Whichever vote lost the race was re-decided on fresh state and completed the quorum.
    assert (plan.state, plan.version) == ("approved", version + 2)
    assert votes(pf, plan_id) == [(1, "member1"), (1, "member2")]
    quorums = [dict(r.detail)["quorum"] for r in pf.audit_trail(plan_id)[-2:]]
    assert quorums == [[1, 2], [2, 2]]
    assert audit_repo.verify(pf.db).ok


def test_committee_intermediate_vote_notifies_nobody(pf: Planflow, org) -> None:
    plan_id = new_plan(pf, "committee_plan")
    pf.fire(plan_id, "submit", "chair_a")
    before = len(notified(pf, plan_id))
    pf.fire(plan_id, "approve", "member1")
    # The plan is still under committee review: nobody has anything new to do.
    assert notified(pf, plan_id)[before:] == []
    pf.fire(plan_id, "approve", "member2")
    # Approval: the officer (notify) and the submitter (notify_submitter) hear of it.
    assert sorted(notified(pf, plan_id)[before:]) == ["chair_a", "officer"]


# -- organisation changes by another process ---------------------------------------------------


def test_org_changes_by_another_process_are_seen(
    pf: Planflow, org, database_url: str, clock: FixedClock
) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")  # this process now has the org cached
    other = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
    try:
        with other.session() as s:
            other.org_repo.add_user(s, "reviewer3", "Reviewer Three")
            other.org_repo.assign_role(s, "reviewer3", "reviewer", "union", known_roles=KNOWN_ROLES)
            other.org_repo.revoke_role(s, "reviewer", "reviewer", "union")
    finally:
        other.close()

    assert pf.fire(plan_id, "start_review", "reviewer3").to_state == "under_review"
    # Without the role, the plan is not theirs to see: acting and asking answer alike.
    with pytest.raises(NotFound):
        pf.fire(plan_id, "approve", "reviewer")
    with pytest.raises(NotFound):
        pf.available_actions(plan_id, "reviewer")
    assert pf.fire(plan_id, "approve", "reviewer3").to_state == "approved"


def test_deactivation_by_another_process_is_seen(
    pf: Planflow, org, database_url: str, clock: FixedClock
) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    other = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
    try:
        with other.session() as s:
            other.org_repo.set_active(s, "reviewer", False)
    finally:
        other.close()
    with pytest.raises(NotFound):  # deactivated: they hold no role, the plan is not theirs
        pf.fire(plan_id, "start_review", "reviewer")
    assert pf.fire(plan_id, "start_review", "reviewer2").to_state == "under_review"


# -- events ------------------------------------------------------------------------------------


def test_subscriber_gets_plan_changed_after_commit(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    events: list[PlanChanged] = []
    committed_states: list[tuple[str, int]] = []

    def listener(event: PlanChanged) -> None:
        events.append(event)
        # Read back on another connection: only committed data is visible there.
        plan = stored_plan(pf, event.plan_id)
        committed_states.append((plan.state, plan.version))

    pf.events.subscribe(listener)
    pf.fire(plan_id, "submit", "chair_a")
    assert events == [
        PlanChanged(
            plan_id=plan_id,
            action="submit",
            from_state="draft",
            to_state="submitted",
            actor_id=pf.user_id("chair_a"),
            version=3,
            at=T0,
            notified=tuple(sorted([pf.user_id("reviewer"), pf.user_id("reviewer2")])),
        )
    ]
    assert committed_states == [("submitted", 3)]


def test_no_event_for_a_refused_change(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    events: list[PlanChanged] = []
    pf.events.subscribe(events.append)
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "submit", "drafter_a")
    with pytest.raises(StaleVersion):
        pf.fire(plan_id, "submit", "chair_a", expected_version=1)
    assert events == []


def test_failing_subscriber_does_not_undo_the_change(
    pf: Planflow, org, caplog: pytest.LogCaptureFixture
) -> None:
    plan_id = new_plan(pf)
    later: list[str] = []

    def broken(event: PlanChanged) -> None:
        raise RuntimeError("mail server down")

    pf.events.subscribe(broken)
    pf.events.subscribe(lambda event: later.append(event.action))
    with caplog.at_level(logging.ERROR, logger="planflow.events"):
        assert pf.fire(plan_id, "submit", "chair_a").to_state == "submitted"
    plan = stored_plan(pf, plan_id)
    assert (plan.state, plan.version) == ("submitted", 3)
    assert pf.audit_trail(plan_id)[-1].action == "submit"
    assert later == ["submit"]  # the next subscriber still ran
    assert any("mail server down" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


# -- definition versioning ---------------------------------------------------------------------


def write_definition(folder: Path, *, version: int, submitted_due: int) -> Path:
    """A copy of annual_plan.yaml with another version and ``submitted`` due time."""
    text = (WORKFLOWS / "annual_plan.yaml").read_text(encoding="utf-8")
    old_task = "task: {role: reviewer, at: parent, due: {working_days: 5}}"
    assert text.count("version: 5\n") == 1 and old_task in text
    text = text.replace("version: 5\n", f"version: {version}\n", 1)
    text = text.replace(
        old_task, f"task: {{role: reviewer, at: parent, due: {{working_days: {submitted_due}}}}}", 1
    )
    folder.mkdir()
    (folder / "annual_plan.yaml").write_text(text, encoding="utf-8")
    return folder


def test_old_plan_keeps_its_definition_version(
    pf: Planflow, org, database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    old_plan = new_plan(pf)
    v4 = write_definition(tmp_path / "wf_v6", version=6, submitted_due=3)
    later = Planflow(database_url, clock=clock, workflows_dir=v4)
    try:
        new = later.create_plan(unit_code="branch_b", year=2027, title="B", actor="drafter_b")
        later.content.set_content(new, content(), actor="drafter_b", expected_version=None)
        assert stored_plan(later, new).workflow_version == 6
        assert stored_plan(later, old_plan).workflow_version == 5

        later.fire(new, "submit", "chair_b")
        later.fire(old_plan, "submit", "chair_a")
        assert stored_plan(later, new).task_due_at == at(7)  # version 6: 3 working days
        assert stored_plan(later, old_plan).task_due_at == at(11)  # version 3: 5 working days
        assert later.fire(old_plan, "start_review", "reviewer").to_state == "under_review"
        assert stored_plan(later, old_plan).workflow_version == 5

        by_id = {p.id: f"{p.workflow}@{p.workflow_version}" for p in later.plans().items}
        assert by_id == {old_plan: "annual_plan@5", new: "annual_plan@6"}
        with later.session() as s:
            stored = s.exec(
                select(WorkflowDefinition.name, WorkflowDefinition.version).order_by(
                    col(WorkflowDefinition.version)
                )
            ).all()
        assert [tuple(r) for r in stored] == [("annual_plan", 5), ("annual_plan", 6)]
        assert audit_repo.verify(later.db).ok
    finally:
        later.close()


def test_reusing_a_version_with_other_content_is_refused(
    pf: Planflow, org, database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    old_plan = new_plan(pf)
    changed = write_definition(tmp_path / "wf_changed_v5", version=5, submitted_due=3)
    later = Planflow(database_url, clock=clock, workflows_dir=changed)
    try:
        plans_before = later.counts()["plans"]
        with pytest.raises(DefinitionError) as info:
            later.create_plan(unit_code="branch_b", year=2027, title="B", actor="drafter_b")
        assert "annual_plan@5 is already in use with different content" in str(info.value)
        assert len(info.value.problems) == 1
        assert later.counts()["plans"] == plans_before
        # The running plan keeps the definition it started under (5 working days).
        later.fire(old_plan, "submit", "chair_a")
        assert stored_plan(later, old_plan).task_due_at == at(11)
    finally:
        later.close()
