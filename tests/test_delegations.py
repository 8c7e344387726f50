"""Delegation / out of office (委托, issue 17), through the library, on both databases.

A deputy acts for someone away while the delegation is in force (the audit
says "on behalf of"), never around separation of duties; the refusals name
their code and field and write nothing; the start and end notices are
written once, whatever the number of schedulers; admins set delegations for
people in their units, on the organisation's chain.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from conftest import Org
from test_gestures import notifications, submitted

from planflow import (
    AdminForbidden,
    GuardFailed,
    NotFound,
    PermissionDenied,
    Planflow,
    ValidationError,
)
from planflow.clock import FixedClock
from planflow.core.notes import render
from planflow.scheduling.delegations import DelegationNotices
from planflow.storage import org_audit

TODAY = date(2027, 1, 4)  # conftest's T0, a Monday


def in_review(pf: Planflow) -> int:
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    return plan_id


def make_admin(pf: Planflow, username: str, unit: str) -> None:
    with pf.session() as s:
        pf.org_repo.assign_role(s, username, "admin", unit)


def add_user(pf: Planflow, username: str, *roles: tuple[str, str]) -> None:
    with pf.session() as s:
        pf.org_repo.add_user(s, username, username.title(), email=f"{username}@example.org")
        for role, unit in roles:
            pf.org_repo.assign_role(s, username, role, unit)


def away(pf: Planflow, who: str = "reviewer", deputy: str = "officer", **kw: object) -> int:
    days = {"starts_on": TODAY, "ends_on": TODAY + timedelta(days=6)}
    days.update(kw)  # type: ignore[arg-type]
    return pf.delegations.add(who, deputy, **days).id  # type: ignore[arg-type]


def test_a_deputy_approves_on_behalf_and_the_trail_says_so(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "approve", "officer")
    away(pf, reason="Annual leave")
    assert [t.task.plan_id for t in pf.delegations.tasks("officer")] == [plan_id]
    assert pf.delegations.tasks("officer")[0].on_behalf_of == "reviewer"
    assert pf.plan(plan_id, as_user="officer").id == plan_id  # the deputy may read it
    assert pf.fire(plan_id, "approve", "officer").to_state == "approved"
    record = pf.audit_trail(plan_id)[-1]
    assert (record.action, record.actor, record.on_behalf_of) == ("approve", "officer", "reviewer")
    assert pf.verify_audit().ok


def test_whoever_may_act_themselves_acts_for_nobody(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    away(pf, deputy="reviewer2")
    pf.fire(plan_id, "approve", "reviewer2")
    assert pf.audit_trail(plan_id)[-1].on_behalf_of is None


def test_the_delegator_keeps_their_own_right(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    away(pf)
    pf.fire(plan_id, "approve", "reviewer")
    assert pf.audit_trail(plan_id)[-1].on_behalf_of is None


def test_outside_the_range_or_scope_or_after_the_end_the_deputy_may_not_act(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = in_review(pf)
    later = away(pf, starts_on=TODAY + timedelta(days=2), ends_on=TODAY + timedelta(days=3))
    other_workflow = away(pf, deputy="member1", workflow="committee_plan")
    by_role = away(pf, deputy="inspector", role="inspector")
    for deputy in ("officer", "member1", "inspector"):
        with pytest.raises((PermissionDenied, NotFound)):
            pf.fire(plan_id, "approve", deputy)
    assert {later, other_workflow, by_role}
    clock.advance(timedelta(days=2))
    assert pf.delegations.list("reviewer")[-1].status == "in_force"
    assert pf.delegations.end("reviewer", later) is True
    assert pf.delegations.end("reviewer", later) is False
    with pytest.raises((PermissionDenied, NotFound)):
        pf.fire(plan_id, "approve", "officer")
    assert pf.delegations.tasks("officer") == []


def test_the_task_goes_back_when_the_range_ends(pf: Planflow, org: Org, clock: FixedClock) -> None:
    plan_id = in_review(pf)
    away(pf, ends_on=TODAY + timedelta(days=1))
    assert pf.delegations.tasks("officer")
    clock.advance(timedelta(days=2))
    assert pf.delegations.tasks("officer") == []
    with pytest.raises((PermissionDenied, NotFound)):
        pf.fire(plan_id, "approve", "officer")
    assert plan_id in {t.plan_id for t in pf.inbox.tasks("reviewer")}


def test_a_deputy_who_submitted_the_plan_cannot_approve_it(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    away(pf, deputy="chair_a")
    with pytest.raises(GuardFailed) as refused:
        pf.fire(plan_id, "approve", "chair_a")
    assert refused.value.codes == ("not_self",)
    assert pf.plan(plan_id).state == "under_review"


def test_nobody_approves_for_the_submitter(pf: Planflow, org: Org) -> None:
    add_user(pf, "dual", ("submitter", "branch_a"), ("reviewer", "union"))
    plan_id = submitted(pf)  # chair_a submits; now dual submits another
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "return_for_revision", "reviewer", "Fix it")
    pf.fire(plan_id, "resubmit", "dual")
    pf.fire(plan_id, "start_review", "reviewer")
    away(pf, who="dual", deputy="officer")
    with pytest.raises(GuardFailed) as refused:
        pf.fire(plan_id, "approve", "officer")
    assert "not_self" in refused.value.codes


@pytest.mark.parametrize(
    ("deputy", "starts_on", "ends_on", "code", "field"),
    [
        ("reviewer", TODAY, TODAY, "delegate_to_self", "deputy"),
        ("nobody_here", TODAY, TODAY, "unknown_deputy", "deputy"),
        ("officer", TODAY + timedelta(days=3), TODAY, "delegation_ends_before_start", "ends_on"),
        (
            "officer",
            TODAY - timedelta(days=9),
            TODAY - timedelta(days=2),
            "delegation_in_past",
            "ends_on",
        ),
        ("officer", "2027-13-01", TODAY, "invalid_date", "starts_on"),
        ("officer", TODAY, "soon", "invalid_date", "ends_on"),
        (
            "officer",
            TODAY + timedelta(days=1),
            TODAY + timedelta(days=2),
            "delegation_overlaps",
            "starts_on",
        ),
        ("member1", TODAY, TODAY, "deputy_away", "deputy"),
    ],
)
def test_bad_delegations_are_refused_with_code_and_field_and_write_nothing(
    pf: Planflow,
    org: Org,
    deputy: str,
    starts_on: object,
    ends_on: object,
    code: str,
    field: str,
) -> None:
    away(pf, deputy="reviewer2", starts_on=TODAY + timedelta(days=1))  # what overlaps meet
    away(pf, who="member1", deputy="member2")  # member1 is away all week
    before = pf.delegations.list("reviewer")
    with pytest.raises(ValidationError) as refused:
        pf.delegations.add("reviewer", deputy, starts_on, ends_on)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.params["field"]) == (code, field)
    assert pf.delegations.list("reviewer") == before


def test_an_inactive_deputy_is_refused(pf: Planflow, org: Org) -> None:
    with pf.session() as s:
        pf.org_repo.set_active(s, "officer", False)
    with pytest.raises(ValidationError) as refused:
        away(pf)
    assert refused.value.code == "inactive_deputy"


def test_an_admin_sets_and_ends_a_delegation_for_someone_in_their_units(
    pf: Planflow, org: Org
) -> None:
    make_admin(pf, "fed_reviewer", "union")
    set_for = pf.delegations.add(
        "fed_reviewer", "officer", TODAY, TODAY + timedelta(days=2), for_user="reviewer"
    )
    assert (set_for.delegator, set_for.deputy, set_for.created_by) == (
        "reviewer",
        "officer",
        "fed_reviewer",
    )
    assert [d.id for d in pf.delegations.list("fed_reviewer", for_user="reviewer")] == [set_for.id]
    assert pf.delegations.end("fed_reviewer", set_for.id) is True
    with pf.db.engine.connect() as conn:
        actions = [r.action for r in org_audit.records(conn)]
    assert actions[-2:] == ["delegation_set", "delegation_ended"]
    # Someone who is no admin may neither set one for another nor end theirs.
    with pytest.raises(AdminForbidden):
        pf.delegations.add("officer", "reviewer2", TODAY, TODAY, for_user="reviewer")
    mine = away(pf, deputy="reviewer2")
    with pytest.raises(NotFound):
        pf.delegations.end("chair_b", mine)
    # An admin of branch_b only does not reach the union's reviewer.
    make_admin(pf, "chair_b", "branch_b")
    with pytest.raises(NotFound):
        pf.delegations.add("chair_b", "officer", TODAY, TODAY, for_user="reviewer")


def notices(pf: Planflow, username: str, kind: str) -> list[str]:
    return [render(n.payload["note"]) for n in notifications(pf, username) if n.kind == kind]


def test_start_and_end_notices_are_written_once_by_two_schedulers(
    pf: Planflow, database_url: str, org: Org, clock: FixedClock
) -> None:
    away(pf, starts_on=TODAY + timedelta(days=1), ends_on=TODAY + timedelta(days=2))
    other = Planflow(database_url, clock=clock, workflows_dir=pf.registry.directory)
    try:
        runners = [DelegationNotices(p.db, p.clock, p.service.org_cache) for p in (pf, other)]
        assert sum(r.run().started for r in runners) == 0  # not yet
        clock.advance(timedelta(days=1))
        barrier = threading.Barrier(2)
        reports = []

        def run(runner: DelegationNotices) -> None:
            barrier.wait()
            reports.append(runner.run())

        threads = [threading.Thread(target=run, args=(r,)) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r.started for r in reports) == 1
        for person in ("reviewer", "officer"):
            assert notices(pf, person, "delegation_starts") == [
                "officer acts for reviewer from 2027-01-05 to 2027-01-06"
            ]
        clock.advance(timedelta(days=2))
        assert sum(r.run().ended for r in runners) == 1
        assert sum(r.run().ended for r in runners) == 0
        assert len(notices(pf, "reviewer", "delegation_ends")) == 1
        assert len(notices(pf, "officer", "delegation_ends")) == 1
    finally:
        other.close()


def test_a_delegation_ended_before_its_first_day_tells_nobody(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    later = away(pf, starts_on=TODAY + timedelta(days=3), ends_on=TODAY + timedelta(days=4))
    pf.delegations.end("reviewer", later)
    runner = DelegationNotices(pf.db, pf.clock, pf.service.org_cache)
    clock.advance(timedelta(days=5))
    report = runner.run()
    assert (report.started, report.ended) == (0, 0)
    assert notices(pf, "officer", "delegation_starts") == []


def test_a_committee_deputy_votes_once_and_for_the_delegator(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf, "committee_plan")
    state = pf.plan(plan_id).state
    options = {o.trigger for o in pf.available_actions(plan_id, "member1")}
    if "approve" not in options:
        pytest.skip(f"committee_plan waits in {state} with {options}")
    away(pf, who="member1", deputy="member2")
    pf.fire(plan_id, "approve", "member2")  # member2's own vote
    with pytest.raises(GuardFailed) as refused:
        pf.fire(plan_id, "approve", "member2")  # and again, as member1's deputy
    assert "already_voted" in refused.value.codes


def test_the_deputy_sees_the_actions_and_for_whom(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    assert pf.available_actions(plan_id, "reviewer")  # their own
    away(pf)
    assert pf.acting_on_behalf_of(plan_id, "reviewer") is None
    options = {o.trigger: o for o in pf.available_actions(plan_id, "officer")}
    assert options["approve"].ready
    assert pf.acting_on_behalf_of(plan_id, "officer") == "reviewer"


def test_a_submitter_deputy_sees_the_approval_blocked(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    away(pf, deputy="chair_a")
    options = {o.trigger: o for o in pf.available_actions(plan_id, "chair_a")}
    assert [r.code for r in options["approve"].blocked_by] == ["not_self"]


def test_the_notices_read_well_in_every_language_by_mail(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    from planflow.integrations.mail.messages import MailContext, RawLabels, render

    away(pf)
    DelegationNotices(pf.db, pf.clock, pf.service.org_cache).run()
    told = next(n for n in notifications(pf, "officer") if n.kind == "delegation_starts")
    assert told.plan_id is None
    said = {
        lang: render(told.kind, told.payload, MailContext(language=lang, labels=RawLabels()))
        for lang in ("en", "zh", "ko")
    }
    assert said["en"].subject.endswith("A deputy acts from today (delegation)")
    assert "officer acts for reviewer from 2027-01-04 to 2027-01-10" in said["en"].body
    assert "委托" in said["zh"].subject and "代 reviewer 办理" in said["zh"].body
    assert "대리" in said["ko"].subject and "2027년 1월 4일" in said["ko"].body


def test_a_deputy_does_not_submit_for_someone_else(pf: Planflow, org: Org) -> None:
    from test_gestures import drafted

    plan_id = drafted(pf)
    away(pf, who="chair_a", deputy="drafter_a")  # who sees the draft, and lacks the role
    with pytest.raises(GuardFailed) as refused:
        pf.fire(plan_id, "submit", "drafter_a")
    assert refused.value.codes == ("deputy_cannot_submit",)
    assert pf.plan(plan_id).state == "draft"
