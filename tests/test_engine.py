"""Unit tests of ``planflow.core.engine.WorkflowEngine`` and ``planflow.core.org.OrgSnapshot``.

Pure Python: the specs are the repository's ``workflows/annual_plan.yaml`` and
``workflows/committee_plan.yaml`` loaded with ``load_definition``, the
organisation is an ``OrgSnapshot`` built by hand, and the plan is a
``PlanFacts``. Nothing here touches a database.

Covered: the shared Machine (decisions on different facts don't interfere,
no ``to_<state>`` shortcuts), ActionNotAllowed / PermissionDenied / GuardFailed
and what they carry, role routing (parent, nearest_above, another union,
escalated task units, inactive users), every guard, the system actor, n-of-m
quorum votes, ``available_actions`` with ``blocked_by``, and the routing
queries of ``OrgSnapshot`` (resolve, escalation_unit, subtree, ancestors).
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planflow.core.definitions import RoleRef, Where, WorkflowSpec, load_definition
from planflow.core.engine import SYSTEM, Decision, WorkflowEngine
from planflow.core.guards import PlanFacts
from planflow.core.org import OrgSnapshot, UnitInfo
from planflow.errors import ActionNotAllowed, GuardFailed, PermissionDenied, Refusal

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"

# -- the organisation --------------------------------------------------------------------------
#
#   fed (1)
#   ├── union (2)
#   │   ├── branch_a (3)
#   │   │   └── group_a (7)
#   │   └── branch_b (4)
#   └── union2 (5)
#       └── branch_c (6)

FED, UNION, BRANCH_A, BRANCH_B, UNION2, BRANCH_C, GROUP_A = 1, 2, 3, 4, 5, 6, 7

DRAFTER_A = 10
CHAIR_A = 11  # submitter at branch_a
REVIEWER = 12  # reviewer at union
REVIEWER2 = 13  # reviewer at union
FED_REVIEWER = 14  # reviewer at fed
OFFICER = 15  # officer at fed only (nobody is officer at union)
INSPECTOR = 16  # inspector at fed
REVIEWER_U2 = 17  # reviewer at union2 (another union)
RETIRED = 18  # reviewer at union, but inactive
CHAIR_REVIEWER = 19  # submitter at branch_a AND reviewer at union
MEMBER1, MEMBER2, MEMBER3 = 20, 21, 22  # committee at union
CHAIR_B = 23  # submitter at branch_b

UNITS = [
    UnitInfo(FED, None, "fed", "Federation"),
    UnitInfo(UNION, FED, "union", "Union"),
    UnitInfo(BRANCH_A, UNION, "branch_a", "Branch A"),
    UnitInfo(BRANCH_B, UNION, "branch_b", "Branch B"),
    UnitInfo(UNION2, FED, "union2", "Union 2"),
    UnitInfo(BRANCH_C, UNION2, "branch_c", "Branch C"),
    UnitInfo(GROUP_A, BRANCH_A, "group_a", "Group A"),
]
ASSIGNMENTS = [
    (DRAFTER_A, BRANCH_A, "drafter"),
    (CHAIR_A, BRANCH_A, "submitter"),
    (REVIEWER, UNION, "reviewer"),
    (REVIEWER2, UNION, "reviewer"),
    (FED_REVIEWER, FED, "reviewer"),
    (OFFICER, FED, "officer"),
    (INSPECTOR, FED, "inspector"),
    (REVIEWER_U2, UNION2, "reviewer"),
    (RETIRED, UNION, "reviewer"),
    (CHAIR_REVIEWER, BRANCH_A, "submitter"),
    (CHAIR_REVIEWER, UNION, "reviewer"),
    (MEMBER1, UNION, "committee"),
    (MEMBER2, UNION, "committee"),
    (MEMBER3, UNION, "committee"),
    (CHAIR_B, BRANCH_B, "submitter"),
]
EVERYONE = frozenset(user for user, _unit, _role in ASSIGNMENTS)
ACTIVE = EVERYONE - {RETIRED}

REASON_NO_ITEMS = "the plan has no items yet"
REASON_COMMENT = "a comment giving the reason is required"
REASON_SELF = "you submitted this plan, so someone else must act on it"
REASON_VOTED = "you have already approved in this review round"


def make_org(
    active: frozenset[int] = ACTIVE, assignments: list[tuple[int, int, str]] = ASSIGNMENTS
) -> OrgSnapshot:
    return OrgSnapshot.build(7, UNITS, assignments, active)


@pytest.fixture(scope="module")
def annual_spec() -> WorkflowSpec:
    return load_definition(WORKFLOWS / "annual_plan.yaml")


@pytest.fixture(scope="module")
def committee_spec() -> WorkflowSpec:
    return load_definition(WORKFLOWS / "committee_plan.yaml")


@pytest.fixture
def annual(annual_spec: WorkflowSpec) -> WorkflowEngine:
    return WorkflowEngine(annual_spec)


@pytest.fixture
def committee(committee_spec: WorkflowSpec) -> WorkflowEngine:
    return WorkflowEngine(committee_spec)


@pytest.fixture
def org() -> OrgSnapshot:
    return make_org()


def facts(state: str, **overrides: object) -> PlanFacts:
    """A plan of branch_a, submitted by chair_a, with two dated items."""
    base = PlanFacts(
        plan_id=1,
        unit_id=BRANCH_A,
        state=state,
        version=3,
        submitted_by=CHAIR_A,
        item_count=2,
        items_without_due=0,
        revision=1,
    )
    return base._replace(**overrides)  # type: ignore[arg-type]


def triggers(
    engine: WorkflowEngine, f: PlanFacts, actor: int | None, org: OrgSnapshot
) -> list[str]:
    return [o.trigger for o in engine.available_actions(f, actor, org)]


# -- the shared Machine ------------------------------------------------------------------------


def test_decisions_on_different_facts_do_not_interfere(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    draft = facts("draft", submitted_by=None)
    review = facts("under_review")
    first = annual.decide(draft, "submit", CHAIR_A, org)
    second = annual.decide(review, "approve", REVIEWER, org)
    again = annual.decide(draft, "submit", CHAIR_A, org)

    assert (first.from_state, first.to_state) == ("draft", "submitted")
    assert (second.from_state, second.to_state) == ("under_review", "approved")
    assert again == first
    # The facts are values: deciding did not move them.
    assert draft.state == "draft" and review.state == "under_review"


def test_one_machine_serves_many_sequential_decisions_with_one_cursor(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    machine_before = annual._machine
    for _ in range(50):
        assert annual.decide(facts("submitted"), "start_review", REVIEWER, org).to_state == (
            "under_review"
        )
        assert annual.decide(facts("draft"), "submit", CHAIR_A, org).to_state == "submitted"
    assert annual._machine is machine_before
    # Sequential decisions reuse one attached cursor: memory stays flat.
    assert len(annual._machine.models) == 1


def test_concurrent_decisions_on_one_engine_each_get_their_own_answer(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    cases = [
        (facts("draft"), "submit", CHAIR_A, "submitted"),
        (facts("submitted"), "start_review", REVIEWER, "under_review"),
        (facts("under_review"), "approve", REVIEWER2, "approved"),
        (facts("approved"), "schedule_inspection", OFFICER, "inspection_scheduled"),
        # The inspections service's fact: the sheet is scored and passed.
        (facts("inspected", inspection="passed"), "accept", INSPECTOR, "accepted"),
    ]
    wrong: list[tuple[str, str, str]] = []
    barrier = threading.Barrier(len(cases))

    def run(f: PlanFacts, action: str, actor: int, expected: str) -> None:
        barrier.wait()
        for _ in range(200):
            got = annual.decide(f, action, actor, org)
            if got.from_state != f.state or got.to_state != expected:
                wrong.append((action, got.from_state, got.to_state))

    threads = [threading.Thread(target=run, args=case) for case in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_the_machine_states_behave_as_transitions_states(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    machine = annual._machine
    for name in annual.spec.state_names:
        state = machine.get_state(name)
        assert state.name == name and state.value == name
    # An unknown name is refused as the base Machine refuses it.
    with pytest.raises(ValueError, match="not a registered state"):
        machine.get_state("no_such_state")
    # The quiet enter/exit only skip empty callback lists: a callback still runs.
    seen: list[str] = []
    state = machine.get_state("submitted")
    state.add_callback("enter", lambda event: seen.append("enter"))
    state.add_callback("exit", lambda event: seen.append("exit"))
    try:
        annual.decide(facts("draft"), "submit", CHAIR_A, org)
        annual.decide(facts("submitted"), "start_review", REVIEWER, org)
    finally:
        state.on_enter.clear()
        state.on_exit.clear()
    assert seen == ["enter", "exit"]


def test_a_decision_runs_the_machines_transition_with_its_callbacks(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    """``decide`` runs the Event's transitions itself (``WorkflowEngine._trigger``),
    still each through ``Transition.execute``: the Machine's callbacks around a
    state change run, and a condition that fails stops it."""
    machine = annual._machine
    # What ``_trigger`` leaves out must not exist on this Machine.
    assert not machine.has_queue
    assert not machine.prepare_event and not machine.finalize_event
    assert not machine.on_exception
    seen: list[tuple[str, str]] = []
    (approve,) = machine.events["approve"].transitions["under_review"]
    approve.add_callback("before", lambda event: seen.append(("before", event.state.name)))
    approve.add_callback("after", lambda event: seen.append(("after", event.model.state)))
    machine.after_state_change.append(lambda event: seen.append(("machine", event.state.name)))
    try:
        decision = annual.decide(facts("under_review"), "approve", REVIEWER, org)
        # The Machine takes no transition whose conditions (the guards) fail.
        with pytest.raises(GuardFailed):
            annual.decide(facts("under_review", submitted_by=REVIEWER), "approve", REVIEWER, org)
    finally:
        approve.before.clear()
        approve.after.clear()
        machine.after_state_change.clear()
    assert decision.to_state == "approved"
    assert seen == [("before", "under_review"), ("after", "approved"), ("machine", "approved")]


def test_there_are_no_auto_to_state_triggers(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    with pytest.raises(ActionNotAllowed) as info:
        annual.decide(facts("draft"), "to_approved", CHAIR_A, org)
    assert info.value.action == "to_approved"
    assert info.value.state == "draft"
    for state in annual.spec.state_names:
        assert f"to_{state}" not in annual._machine.events


# -- actions that do not exist here ------------------------------------------------------------


def test_action_not_allowed_lists_what_this_user_may_do(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    with pytest.raises(ActionNotAllowed) as info:
        annual.decide(facts("draft"), "approve", CHAIR_A, org)
    assert info.value.available == ("submit", "abandon")
    assert "submit, abandon" in str(info.value)

    # A drafter holds no role any draft transition needs.
    with pytest.raises(ActionNotAllowed) as info:
        annual.decide(facts("draft"), "approve", DRAFTER_A, org)
    assert info.value.available == ()
    assert "allowed here: none" in str(info.value)


def test_action_not_allowed_in_a_final_state(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    with pytest.raises(ActionNotAllowed) as info:
        annual.decide(facts("archived"), "archive", OFFICER, org)
    assert info.value.available == ()


# -- permissions -------------------------------------------------------------------------------


def test_permission_denied_names_role_and_parent(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    with pytest.raises(PermissionDenied) as info:
        annual.decide(facts("submitted"), "start_review", DRAFTER_A, org)
    assert info.value.role == "reviewer"
    assert info.value.where == Where.PARENT.describe() == "at the unit above the plan's unit"
    assert info.value.action == "start_review"


def test_permission_denied_names_nearest_above(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    with pytest.raises(PermissionDenied) as info:
        annual.decide(facts("approved"), "schedule_inspection", REVIEWER, org)
    assert info.value.role == "officer"
    assert info.value.where == Where.NEAREST_ABOVE.describe()


def test_nearest_above_finds_the_officer_two_levels_up(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    # Nobody is officer at union, so the lookup continues to fed.
    decision = annual.decide(facts("approved"), "schedule_inspection", OFFICER, org)
    assert decision.to_state == "inspection_scheduled"


def test_reviewer_of_another_union_is_refused(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    with pytest.raises(PermissionDenied):
        annual.decide(facts("submitted"), "start_review", REVIEWER_U2, org)
    # ... but may act on a plan of their own union's branch.
    own = facts("submitted", unit_id=BRANCH_C)
    assert annual.decide(own, "start_review", REVIEWER_U2, org).to_state == "under_review"


def test_reviewer_above_the_parent_is_refused_without_escalation(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    not_escalated = facts("submitted", task_role="reviewer", task_units=(UNION,))
    with pytest.raises(PermissionDenied):
        annual.decide(not_escalated, "start_review", FED_REVIEWER, org)


def test_holder_at_escalated_task_unit_may_act(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    escalated = facts("submitted", task_role="reviewer", task_units=(FED,))
    decision = annual.decide(escalated, "start_review", FED_REVIEWER, org)
    assert decision.to_state == "under_review"
    # The union's own reviewers keep their right to act.
    assert annual.decide(escalated, "start_review", REVIEWER, org).to_state == "under_review"
    assert "start_review" in triggers(annual, escalated, FED_REVIEWER, org)


def test_escalation_of_another_role_gives_no_right(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    # The open task is the inspector's; a reviewer at that unit gains nothing.
    other_role = facts("submitted", task_role="inspector", task_units=(FED,))
    with pytest.raises(PermissionDenied):
        annual.decide(other_role, "start_review", FED_REVIEWER, org)


def test_inactive_user_cannot_act(annual: WorkflowEngine) -> None:
    org = make_org()
    with pytest.raises(PermissionDenied):
        annual.decide(facts("submitted"), "start_review", RETIRED, org)
    assert triggers(annual, facts("submitted"), RETIRED, org) == []
    # Deactivating an otherwise entitled user takes the right away too,
    # even for a task escalated to their unit.
    org_without = make_org(active=ACTIVE - {REVIEWER})
    with pytest.raises(PermissionDenied):
        annual.decide(facts("submitted"), "start_review", REVIEWER, org_without)
    escalated = facts("submitted", task_role="reviewer", task_units=(UNION,))
    with pytest.raises(PermissionDenied):
        annual.decide(escalated, "start_review", REVIEWER, org_without)


def test_unknown_user_cannot_act(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    with pytest.raises(PermissionDenied):
        annual.decide(facts("draft"), "submit", 999, org)


# -- guards ------------------------------------------------------------------------------------


def test_guards_report_every_failing_reason_at_once(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    empty = facts("draft", item_count=0, items_without_due=3, submitted_by=None)
    with pytest.raises(GuardFailed) as info:
        annual.decide(empty, "submit", CHAIR_A, org)
    assert info.value.reasons == (REASON_NO_ITEMS, "3 item(s) have no due date or month")
    assert info.value.action == "submit"
    # The protocol: a stable code per refusal, with its parameters.
    assert info.value.code == "guard_failed"
    assert info.value.refusals == (Refusal("no_items"), Refusal("items_without_due", {"count": 3}))
    assert info.value.params == {
        "action": "submit",
        "refusals": [
            {"code": "no_items", "params": {}},
            {"code": "items_without_due", "params": {"count": 3}},
        ],
    }


def test_all_items_have_due_dates_alone(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    undated = facts("draft", item_count=4, items_without_due=1)
    with pytest.raises(GuardFailed) as info:
        annual.decide(undated, "submit", CHAIR_A, org)
    assert info.value.reasons == ("1 item(s) have no due date or month",)


@pytest.mark.parametrize("comment", [None, "", "   \n\t"])
def test_comment_required_refuses_a_missing_comment(
    annual: WorkflowEngine, org: OrgSnapshot, comment: str | None
) -> None:
    with pytest.raises(GuardFailed) as info:
        annual.decide(facts("under_review"), "return_for_revision", REVIEWER, org, comment)
    assert info.value.reasons == (REASON_COMMENT,)


def test_comment_required_accepts_a_reason(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    decision = annual.decide(
        facts("under_review"), "return_for_revision", REVIEWER, org, "item 2 has no budget"
    )
    assert (decision.from_state, decision.to_state) == ("under_review", "returned")


def test_not_self_refuses_the_submitter_who_also_reviews(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    mine = facts("submitted", submitted_by=CHAIR_REVIEWER)
    with pytest.raises(GuardFailed) as info:
        annual.decide(mine, "start_review", CHAIR_REVIEWER, org)
    assert info.value.reasons == (REASON_SELF,)
    with pytest.raises(GuardFailed) as info:
        annual.decide(mine._replace(state="under_review"), "approve", CHAIR_REVIEWER, org)
    assert info.value.reasons == (REASON_SELF,)
    # The same person may review a plan somebody else submitted.
    other = facts("submitted", submitted_by=CHAIR_A)
    assert annual.decide(other, "start_review", CHAIR_REVIEWER, org).to_state == "under_review"


def test_not_self_and_comment_required_fail_together(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    mine = facts("under_review", submitted_by=CHAIR_REVIEWER)
    with pytest.raises(GuardFailed) as info:
        annual.decide(mine, "return_for_revision", CHAIR_REVIEWER, org, None)
    assert set(info.value.reasons) == {REASON_COMMENT, REASON_SELF}


#: The inspections service's fact for the current round -> whether inspect / accept pass.
SHEET_FACTS = {
    None: (False, False),  # not looked up: the guards refuse
    "unrecorded": (False, False),
    "unscored": (True, False),
    "failed": (True, False),
    "passed": (True, True),
}


@pytest.mark.parametrize("fact", list(SHEET_FACTS))
def test_the_sheet_guards_read_the_inspection_fact(
    annual: WorkflowEngine, org: OrgSnapshot, fact: str | None
) -> None:
    may_inspect, may_accept = SHEET_FACTS[fact]
    for state, action, allowed in [
        ("inspection_scheduled", "inspect", may_inspect),
        ("inspected", "accept", may_accept),
    ]:
        plan = facts(state, inspection=fact)
        if allowed:
            assert annual.decide(plan, action, INSPECTOR, org).from_state == state
            continue
        with pytest.raises(GuardFailed) as info:
            annual.decide(plan, action, INSPECTOR, org)
        assert len(info.value.reasons) == 1 and "inspect" in info.value.reasons[0]
    # What a decision in each state needs loaded: the fact, where a sheet guard waits
    # (and, for a recall, who decided since the submission).
    assert {s: needs for s, needs in annual.facts_needed.items() if needs} == {
        "submitted": {"acted_on"},
        "under_review": {"acted_on"},
        "inspection_scheduled": {"inspection"},
        "inspected": {"inspection"},
    }
    # A decision on one action loads only the facts of that action's guards.
    assert annual.facts_for("under_review", "approve") == frozenset()
    assert annual.facts_for("under_review", "recall") == {"acted_on"}
    assert annual.facts_for("inspected", "accept") == {"inspection"}


# -- the system actor --------------------------------------------------------------------------


def test_system_may_fire_a_system_only_transition(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    decision = annual.decide(facts("under_review"), "auto_return", SYSTEM, org)
    assert isinstance(decision, Decision)
    assert (decision.from_state, decision.to_state) == ("under_review", "returned")
    assert decision.transition.actor is None
    assert decision.quorum is None


@pytest.mark.parametrize("user", [REVIEWER, CHAIR_A, FED_REVIEWER, OFFICER])
def test_users_may_not_fire_a_system_only_transition(
    annual: WorkflowEngine, org: OrgSnapshot, user: int
) -> None:
    with pytest.raises(PermissionDenied) as info:
        annual.decide(facts("under_review"), "auto_return", user, org)
    assert info.value.role == "system"
    assert "auto_return" not in triggers(annual, facts("under_review"), user, org)


def test_system_only_transition_is_offered_to_the_system(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    assert "auto_return" in triggers(annual, facts("under_review"), SYSTEM, org)


# -- n-of-m approval ------------------------------------------------------------------------


def test_first_vote_is_an_internal_transition(committee: WorkflowEngine, org: OrgSnapshot) -> None:
    decision = committee.decide(facts("committee_review"), "approve", MEMBER1, org)
    assert decision.from_state == decision.to_state == "committee_review"
    assert decision.changes_state is False
    assert decision.quorum == (1, 2)
    assert decision.transition.trigger == "approve"


def test_second_distinct_vote_completes_the_quorum(
    committee: WorkflowEngine, org: OrgSnapshot
) -> None:
    voted = facts("committee_review", approvals=frozenset({MEMBER1}))
    decision = committee.decide(voted, "approve", MEMBER2, org)
    assert (decision.from_state, decision.to_state) == ("committee_review", "approved")
    assert decision.changes_state is True
    assert decision.quorum == (2, 2)


def test_same_voter_twice_is_refused(committee: WorkflowEngine, org: OrgSnapshot) -> None:
    voted = facts("committee_review", approvals=frozenset({MEMBER1}))
    with pytest.raises(GuardFailed) as info:
        committee.decide(voted, "approve", MEMBER1, org)
    assert info.value.reasons == (REASON_VOTED,)


def test_a_vote_still_needs_the_role_and_not_self(
    committee: WorkflowEngine, org: OrgSnapshot
) -> None:
    with pytest.raises(PermissionDenied) as info:
        committee.decide(facts("committee_review"), "approve", REVIEWER, org)
    assert info.value.role == "committee"
    org_with_chair = make_org(assignments=[*ASSIGNMENTS, (CHAIR_A, UNION, "committee")])
    with pytest.raises(GuardFailed) as guard:
        committee.decide(facts("committee_review"), "approve", CHAIR_A, org_with_chair)
    assert guard.value.reasons == (REASON_SELF,)


def test_one_member_may_return_after_a_vote(committee: WorkflowEngine, org: OrgSnapshot) -> None:
    voted = facts("committee_review", approvals=frozenset({MEMBER1}))
    decision = committee.decide(voted, "return_for_revision", MEMBER3, org, "see item 1")
    assert decision.to_state == "returned"
    assert decision.quorum is None


# -- available_actions -------------------------------------------------------------------------


def test_available_actions_shows_blocked_by_reasons(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    empty = facts("draft", item_count=0, items_without_due=0, submitted_by=None)
    options = {o.trigger: o for o in annual.available_actions(empty, CHAIR_A, org)}
    assert list(options) == ["submit", "abandon"]
    assert [r.message for r in options["submit"].blocked_by] == [REASON_NO_ITEMS]
    assert [r.code for r in options["submit"].blocked_by] == ["no_items"]
    assert options["submit"].ready is False
    # comment_required does not hide an action one can take by writing a reason.
    assert options["abandon"].blocked_by == ()
    assert options["abandon"].ready is True
    assert options["submit"].label == "Submit"


def test_available_actions_in_another_language(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    labels = [o.label for o in annual.available_actions(facts("draft"), CHAIR_A, org, lang="zh")]
    assert labels == ["提交", "作废"]


def test_available_actions_of_a_reviewer(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    options = annual.available_actions(facts("under_review"), REVIEWER, org)
    assert [(o.trigger, o.blocked_by) for o in options] == [
        ("approve", ()),
        ("return_for_revision", ()),
    ]
    mine = facts("under_review", submitted_by=CHAIR_REVIEWER)
    options = annual.available_actions(mine, CHAIR_REVIEWER, org)
    assert [(o.trigger, o.blocked_by) for o in options] == [
        ("approve", (Refusal("not_self", {"submitted_by": CHAIR_REVIEWER}),)),
        ("return_for_revision", (Refusal("not_self", {"submitted_by": CHAIR_REVIEWER}),)),
        # Their branch's chair too: a recall, refused while the fact is not looked up.
        ("recall", (Refusal("conditions_not_met"),)),
    ]
    assert options[0].blocked_by[0].message == REASON_SELF


def test_available_actions_blocked_by_an_earlier_vote(
    committee: WorkflowEngine, org: OrgSnapshot
) -> None:
    voted = facts("committee_review", approvals=frozenset({MEMBER1}))
    mine = {o.trigger: o.blocked_by for o in committee.available_actions(voted, MEMBER1, org)}
    assert mine == {"approve": (Refusal("already_voted"),), "return_for_revision": ()}
    assert mine["approve"][0].message == REASON_VOTED
    theirs = {o.trigger: o.blocked_by for o in committee.available_actions(voted, MEMBER2, org)}
    assert theirs == {"approve": (), "return_for_revision": ()}


def test_available_actions_is_empty_for_an_outsider(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    assert triggers(annual, facts("draft"), CHAIR_B, org) == []
    assert triggers(annual, facts("submitted"), REVIEWER_U2, org) == []


# -- OrgSnapshot routing -----------------------------------------------------------------------


def test_resolve_same_and_parent(org: OrgSnapshot) -> None:
    assert org.resolve(RoleRef("drafter", Where.SAME), BRANCH_A) == BRANCH_A
    assert org.resolve(RoleRef("reviewer", Where.PARENT), BRANCH_A) == UNION
    assert org.resolve(RoleRef("reviewer", Where.PARENT), GROUP_A) == BRANCH_A
    assert org.resolve(RoleRef("reviewer", Where.PARENT), FED) is None


def test_resolve_nearest_starts_at_the_plans_own_unit(org: OrgSnapshot) -> None:
    assert org.resolve(RoleRef("reviewer", Where.NEAREST), UNION) == UNION
    assert org.resolve(RoleRef("reviewer", Where.NEAREST), BRANCH_A) == UNION
    # group_a and branch_a have no reviewer: the nearest is the union.
    assert org.resolve(RoleRef("reviewer", Where.NEAREST), GROUP_A) == UNION
    assert org.resolve(RoleRef("drafter", Where.NEAREST), BRANCH_A) == BRANCH_A


def test_resolve_nearest_above_starts_at_the_parent(org: OrgSnapshot) -> None:
    assert org.resolve(RoleRef("reviewer", Where.NEAREST_ABOVE), UNION) == FED
    assert org.resolve(RoleRef("officer", Where.NEAREST_ABOVE), BRANCH_A) == FED
    assert org.resolve(RoleRef("drafter", Where.NEAREST_ABOVE), BRANCH_A) is None
    assert org.resolve(RoleRef("admin", Where.NEAREST), GROUP_A) is None


def test_resolve_ignores_inactive_holders() -> None:
    only_retired = make_org(active=ACTIVE - {REVIEWER, REVIEWER2, CHAIR_REVIEWER})
    # Union's remaining reviewer is inactive: the nearest active one is at fed.
    assert only_retired.resolve(RoleRef("reviewer", Where.NEAREST), BRANCH_A) == FED
    assert only_retired.holders("reviewer", UNION) == frozenset()


def test_assignees_and_holders(org: OrgSnapshot) -> None:
    assert org.holders("reviewer", UNION) == {REVIEWER, REVIEWER2, CHAIR_REVIEWER}
    assert org.holders("reviewer", BRANCH_A) == frozenset()
    assert org.assignees(RoleRef("committee", Where.PARENT), BRANCH_A) == {
        MEMBER1,
        MEMBER2,
        MEMBER3,
    }
    assert org.assignees(RoleRef("officer", Where.PARENT), BRANCH_A) == frozenset()


def test_escalation_unit(org: OrgSnapshot) -> None:
    assert org.escalation_unit("reviewer", UNION) == FED
    assert org.escalation_unit("reviewer", BRANCH_A) == UNION
    assert org.escalation_unit("reviewer", FED) is None
    assert org.escalation_unit("inspector", UNION2) == FED
    assert org.escalation_unit("drafter", GROUP_A) == BRANCH_A


def test_ancestors_nearest_first(org: OrgSnapshot) -> None:
    assert org.ancestors(GROUP_A) == [BRANCH_A, UNION, FED]
    assert org.ancestors(BRANCH_C) == [UNION2, FED]
    assert org.ancestors(FED) == []


def test_subtree(org: OrgSnapshot) -> None:
    assert sorted(org.subtree(UNION)) == [UNION, BRANCH_A, BRANCH_B, GROUP_A]
    assert org.subtree(UNION)[0] == UNION
    assert sorted(org.subtree(FED)) == sorted(u.id for u in UNITS)
    assert org.subtree(BRANCH_B) == [BRANCH_B]


def test_parent_and_unit(org: OrgSnapshot) -> None:
    assert org.parent(BRANCH_C) == UNION2
    assert org.parent(FED) is None
    assert org.unit(GROUP_A).code == "group_a"


@settings(max_examples=60, deadline=None)
@given(
    unit=st.sampled_from([u.id for u in UNITS]),
    role=st.sampled_from(["reviewer", "inspector", "officer", "committee", "drafter", "nobody"]),
    at=st.sampled_from(list(Where)),
    dropped=st.sets(st.integers(0, len(ASSIGNMENTS) - 1)),
)
def test_role_lookups_are_remembered_per_snapshot_only(
    unit: int, role: str, at: Where, dropped: set[int]
) -> None:
    """A remembered lookup answers as a fresh one would, in every snapshot of its own."""
    ref = RoleRef(role, at)
    fewer = [a for i, a in enumerate(ASSIGNMENTS) if i not in dropped]
    full, partial = make_org(), make_org(assignments=fewer)
    for snap in (full, partial, full, partial):
        fresh = OrgSnapshot.build(snap.generation, UNITS, ASSIGNMENTS if snap is full else fewer,
                                  ACTIVE)  # fmt: skip
        assert snap.resolve(ref, unit) == fresh.resolve(ref, unit) == snap.resolve(ref, unit)


# -- recall and a trigger's former names (issue 17) ----------------------------------------------


def test_recall_goes_back_to_draft_while_nobody_acted(
    annual: WorkflowEngine, org: OrgSnapshot
) -> None:
    untouched = facts("submitted", extra=MappingProxyType({"acted_on": {}}))
    decision = annual.decide(untouched, "recall", CHAIR_A, org)
    assert (decision.from_state, decision.to_state) == ("submitted", "draft")
    assert decision.transition.notify_task_holders
    acted = {"acted_by": REVIEWER, "action": "start_review", "at": "2027-01-04T10:00:00+00:00"}
    taken = facts("under_review", extra=MappingProxyType({"acted_on": acted}))
    with pytest.raises(GuardFailed) as info:
        annual.decide(taken, "recall", CHAIR_A, org)
    assert info.value.refusals == (Refusal("recall_too_late", acted),)
    # Not looked up (no provider): refused, never allowed by default.
    with pytest.raises(GuardFailed) as unknown:
        annual.decide(facts("submitted"), "recall", CHAIR_A, org)
    assert unknown.value.codes == ("conditions_not_met",)


def test_a_former_trigger_name_fires_the_trigger(annual: WorkflowEngine, org: OrgSnapshot) -> None:
    assert annual.canonical("withdraw") == "abandon"
    decision = annual.decide(facts("draft"), "withdraw", CHAIR_A, org, "Merged.")
    assert decision.transition.trigger == "abandon"
    assert decision.to_state == "abandoned"
    # The former name is no action of its own in the list.
    assert "withdraw" not in triggers(annual, facts("draft"), CHAIR_A, org)
