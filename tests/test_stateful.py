"""Stateful property test: the workflow engine against an independent model.

A hypothesis ``RuleBasedStateMachine`` drives one ``Planflow`` on a fresh
database (both SQLite and PostgreSQL). Its rules create annual and committee
plans, edit their content, fire actions (real and bogus triggers, the right
and the wrong people, the submitter, deactivated users, the system, with or
without a comment, with a current or a stale ``expected_version``), return
plans to a chosen earlier step (allowed and not; resubmitted, a plan comes
straight back where the definition says so), bulk-approve and bulk-return
selections (each plan as if fired on its own), open plans from the queue
(a transition marked ``on_open:`` starts then, exactly when the definition
says so and only for whoever may take it; a second opening does nothing), name and end deputies
(delegation, 委托: a deputy acts for someone away, never around separation of
duties, never submitting for them) and switch users on and off.

Before every call the machine works out what *must* happen from the workflow
definition (``WorkflowSpec``) and the organisation (``pf.org_snapshot()``)
alone, without asking the engine: is the action defined in the plan's state,
does the actor hold the role where the definition routes it, do the guards
pass, does a committee vote complete the quorum. It then asserts that the
engine agrees: success exactly when the model allows it, otherwise the error
type the model predicts, with nothing written.

Invariants checked after every step: each plan's row (state, version,
revision, submitter, item counts, open task) equals the model's; every state
is a state of the plan's definition; the audit trail holds exactly one record
per successful change, in order and with the right actor, the person acted
for (a deputy's "on behalf of") and states; separation of duties holds
through transfers and delegation (neither the actor nor whom they act for
decides on what they submitted); the hash
chain verifies; votes are exactly the successful committee votes.

Bugs this machine found (an unassigned task that fell back to the plan's own
unit and so let the wrong people act - a root unit's reviewer, a branch's own
inspector - and the system casting a committee vote) are pinned by the plain
regression tests at the end of this file.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import T0, WORKFLOWS, reset_postgres
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import col, select
from stored import stored_plan

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.core.definitions.spec import TransitionSpec, WorkflowSpec
from planflow.core.inspection.scoring import CriterionScore
from planflow.core.org import OrgSnapshot
from planflow.errors import (
    ActionNotAllowed,
    GuardFailed,
    NotFound,
    PermissionDenied,
    PlanflowError,
    StaleVersion,
    ValidationError,
)
from planflow.storage import audit_repo
from planflow.storage.tables import ApprovalVote, Plan
from planflow.storage.tables.handover import TaskPart

YEAR = 2027
WORKFLOW_NAMES = ("annual_plan", "committee_plan")
ROLES = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin", "committee")
UNITS = (("fed", None), ("union", "fed"), ("branch_a", "union"), ("branch_b", "union"))
#: (username, [(role, unit)]). ``dual`` and ``dual_b`` submit for a branch *and*
#: review and vote at the union: the probes for the ``not_self`` separation of duties.
PEOPLE: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("drafter_a", (("drafter", "branch_a"),)),
    ("chair_a", (("submitter", "branch_a"),)),
    ("drafter_b", (("drafter", "branch_b"),)),
    ("chair_b", (("submitter", "branch_b"),)),
    ("reviewer", (("reviewer", "union"),)),
    ("reviewer2", (("reviewer", "union"),)),
    ("fed_reviewer", (("reviewer", "fed"),)),
    ("officer", (("officer", "union"),)),
    ("inspector", (("inspector", "fed"),)),
    ("member1", (("committee", "union"),)),
    ("member2", (("committee", "union"),)),
    ("member3", (("committee", "union"),)),
    ("dual", (("submitter", "branch_a"), ("reviewer", "union"), ("committee", "union"))),
    ("dual_b", (("submitter", "branch_b"), ("reviewer", "union"), ("committee", "union"))),
    ("outsider", ()),
)
USERNAMES = tuple(name for name, _ in PEOPLE)


def role_of(username: str, role: str) -> bool:
    """Is ``role`` one of the user's jobs (active or not)?"""
    return any(r == role for r, _unit in dict(PEOPLE)[username])


#: Users the machine may deactivate and reactivate.
TOGGLEABLE = ("chair_a", "drafter_a", "reviewer", "member1", "dual", "inspector", "officer")
BOGUS_ACTIONS = ("to_approved", "approve_all", "delete", "Approve", "", "create", "edit_content")
COMMENTS = (None, "", "   ", "Looks fine.", "Section 2 needs due dates.")
REASON = "Reasons given in the meeting."
#: A walk takes these moves only when its choice is at least this (0..7).
BACKWARD_FROM = {"abandon": 7, "recall": 6, "return_for_revision": 5, "require_rectification": 5}
#: Mostly no version or the current one; sometimes one behind or ahead (stale).
EXPECTED_VERSION_KINDS = ("none", "none", "none", "current", "current", "behind", "ahead")
#: The triggers a bulk action fires, by trigger: its bulk action.
BULK_TRIGGERS = {"approve": "approve", "return_for_revision": "return"}
REVIEWERS = ("reviewer", "reviewer2", "member1", "member2", "dual") * 2
#: Where a return may be asked to go: allowed somewhere, never allowed, or no state at all.
RETURN_TARGETS = ("draft", "submitted", "returned", "approved", "nowhere")
CONTENT_KINDS = ("empty", "no_items", "complete", "missing_due", "wrong_year")
HANDOVER_KINDS = ("transfer", "before", "after", "alongside", "cc")
#: The scopes a delegation may have: (workflow, role), None for any.
DELEGATION_SCOPES = (
    (None, None),
    ("annual_plan", None),
    ("committee_plan", None),
    (None, "reviewer"),
    (None, "committee"),
    (None, "submitter"),
)
#: Every delegation runs the week from the machine's fixed clock (T0 is a Monday).
DELEGATION_DAYS = (T0.date(), T0.date() + timedelta(days=6))

SQLITE_EXAMPLES, SQLITE_STEPS = 25, 30
POSTGRES_EXAMPLES, POSTGRES_STEPS = 8, 20


# -- content --------------------------------------------------------------------------


def make_content(kind: str) -> PlanContent:
    """Content of a given shape; "wrong_year" is complete content for the next year."""
    items: list[dict[str, Any]]
    if kind == "empty":
        return PlanContent.from_dict({"sections": []}, year=YEAR)
    if kind == "no_items":
        items = []
    elif kind == "missing_due":
        items = [{"text": "Dues drive", "due": 3}, {"text": "Visit members"}, {"text": "Report"}]
    else:
        items = [
            {"text": "Dues drive", "due": 3},
            {"text": "Workers' congress", "due": f"{YEAR}-11-30"},
        ]
    data = {"sections": [{"title": "Organisation", "items": items}]}
    if kind == "wrong_year":
        items[1]["due"] = 11  # a month, valid in any year
        return PlanContent.from_dict(data, year=YEAR + 1)
    return PlanContent.from_dict(data, year=YEAR)


# -- the model ------------------------------------------------------------------------


@dataclass
class PlanModel:
    """What the machine believes about one plan."""

    id: int
    workflow: str
    unit_id: int
    state: str
    version: int = 1
    revision: int = 0
    submitted_by: int | None = None
    item_count: int = 0
    items_without_due: int = 0
    task_role: str | None = None
    task_unit_id: int | None = None
    #: review round (revision) -> users whose approval vote was counted
    votes: dict[int, set[int]] = field(default_factory=dict)
    #: The current inspection round's sheet as the guards see it: "unrecorded",
    #: "unscored" (partly scored), "passed" or "failed" (``record_inspection``).
    inspection: str = "unrecorded"
    #: Whether someone other than the submitter decided on it since its last
    #: submission (a transition, a counted vote): then a recall is too late.
    acted_on: bool = False
    #: The state a reviewer returned it from (``return_to``) when that state takes
    #: it straight back on resubmission (``return_to_returner``); None after any other move.
    returned_from: str | None = None
    #: (action, actor_id, from_state, to_state) for every successful change
    log: list[tuple[str, int | None, str | None, str]] = field(default_factory=list)
    #: The open task held personally (transfer, added approvers): groups in the
    #: order they decide, each a list of [user, kind, done]; [] when the role holds it.
    groups: list[list[list[Any]]] = field(default_factory=list)
    #: Who was copied on the plan (may read it until it ends).
    cc: set[int] = field(default_factory=set)
    #: log index -> whom the actor acted for there (a deputy's decision)
    behalf: dict[int, int] = field(default_factory=dict)

    def current(self) -> set[int] | None:
        """Who decides now when the task is held personally; None: the role's holders."""
        if not self.groups:
            return None
        for group in self.groups:
            waiting = {u for u, _kind, done in group if not done}
            if waiting:
                return waiting
        return set()

    def everyone(self) -> set[int]:
        return {u for group in self.groups for u, _kind, done in group if not done}

    def last_to_decide(self, actor: int) -> bool:
        return all(done or u == actor for group in self.groups for u, _kind, done in group)


@dataclass
class DelegationModel:
    """A deputy (委托) the machine named, in force from T0 until ended."""

    id: int
    delegator: int
    deputy: int
    workflow: str | None
    role: str | None
    #: The delegator's roles as assigned (active or not): where their tasks wait.
    delegator_roles: frozenset[tuple[str, int]]
    active: bool = True

    def covers(self, plan: PlanModel) -> bool:
        if self.workflow is not None and self.workflow != plan.workflow:
            return False
        return self.role is None or self.role == plan.task_role

    def delegators_task(self, plan: PlanModel) -> bool:
        """Whether the plan's open task is among the delegator's tasks (their inbox)."""
        if plan.task_role is None:
            return False
        current = plan.current()
        if current is not None:
            return self.delegator in current
        if self.delegator in plan.votes.get(plan.revision, set()):
            return False  # voted this round: no longer their task (nor their deputy's)
        return (plan.task_role, plan.task_unit_id) in self.delegator_roles


@dataclass(frozen=True)
class Refused:
    error: type[PlanflowError]
    why: str


@dataclass(frozen=True)
class Allowed:
    transition: TransitionSpec
    to_state: str
    #: Only the actor's part of a task held by several (the plan stays).
    countersign: bool = False
    #: Whom the actor decides for as their deputy (None: themselves).
    on_behalf: int | None = None


def holds(snap: OrgSnapshot, actor: int, ref: Any, plan_unit: int) -> bool:
    """Does the active ``actor`` hold ``ref.role`` where the definition routes it?"""
    unit = snap.resolve(ref, plan_unit)
    return unit is not None and actor in snap.active_users and actor in snap.holders(ref.role, unit)


def sees(
    snap: OrgSnapshot,
    actor: int,
    plan: PlanModel,
    delegations: Sequence[DelegationModel] = (),
) -> bool:
    """The visibility rule, written out again for the model (services.visibility).

    Its own unit's people see a plan; once submitted, so do the oversight roles
    (all but drafter and submitter) at its unit or above; and whoever holds the
    role of its open task where the task waits.
    """
    held = {key for key, holders in snap.holders_by_unit_role.items() if actor in holders}
    if any(unit == plan.unit_id for unit, _role in held):
        return True
    # Granted personally: copied on it (until it ends), or a part of its task.
    if actor in plan.cc or any(u == actor for group in plan.groups for u, _k, _d in group):
        return True
    # A deputy sees the delegator's open tasks in the delegation's scope.
    if any(
        d.active and d.deputy == actor and d.covers(plan) and d.delegators_task(plan)
        for d in delegations
    ):
        return True
    above = {plan.unit_id, *snap.ancestors(plan.unit_id)}
    if plan.revision > 0 and any(
        unit in above and role not in ("drafter", "submitter") for unit, role in held
    ):
        return True
    return plan.task_role is not None and (plan.task_unit_id, plan.task_role) in held


def unseen(
    outcome: Refused | Allowed,
    snap: OrgSnapshot,
    actor: int | None,
    plan: PlanModel,
    delegations: Sequence[DelegationModel] = (),
) -> Refused | Allowed:
    """A refusal to someone who may not see the plan answers as for a missing plan."""
    if (
        isinstance(outcome, Refused)
        and actor is not None
        and not sees(snap, actor, plan, delegations)
    ):
        return Refused(NotFound, f"{outcome.why}, to someone who may not see the plan")
    return outcome


def guard_failures(
    t: TransitionSpec, plan: PlanModel, actor: int | None, comment: str | None
) -> list[str]:
    """The guards of ``t`` that refuse, evaluated from the model's facts."""
    failing = []
    for guard in t.guards:
        if guard.name == "has_items":
            ok = plan.item_count >= 1
        elif guard.name == "all_items_have_due_dates":
            ok = plan.items_without_due == 0
        elif guard.name == "comment_required":
            ok = bool(comment and comment.strip())
        elif guard.name == "not_self":
            ok = actor is None or plan.submitted_by is None or actor != plan.submitted_by
        elif guard.name == "inspection_recorded":
            ok = plan.inspection != "unrecorded"
        elif guard.name == "inspection_scored":
            ok = plan.inspection in ("passed", "failed")
        elif guard.name == "inspection_passed":
            ok = plan.inspection == "passed"
        elif guard.name == "not_acted_on":
            ok = not plan.acted_on
        else:  # pragma: no cover - a new guard needs a model first
            raise AssertionError(f"the model does not know guard {guard.name!r}")
        if not ok:
            failing.append(guard.name)
    if t.quorum is not None and actor in plan.votes.get(plan.revision, set()):
        failing.append("already_voted")
    return failing


def may_act(snap: OrgSnapshot, plan: PlanModel, t: TransitionSpec, actor: int) -> bool:
    """Whether the person ``actor`` may take ``t`` on the plan in their own right."""
    assert t.actor is not None
    current = plan.current()
    if current is not None and t.actor.role == plan.task_role:
        # Held personally: its current people act, role or not, and nobody else.
        return actor in current and actor in snap.active_users
    return holds(snap, actor, t.actor, plan.unit_id)


def expect_fire(
    spec: WorkflowSpec,
    snap: OrgSnapshot,
    plan: PlanModel,
    action: str,
    actor: int | None,
    comment: str | None,
    expected_version: int | None,
    delegations: Sequence[DelegationModel] = (),
) -> Refused | Allowed:
    """What the definition says firing ``action`` must do (checked in the engine's order)."""
    if expected_version is not None and expected_version != plan.version:
        return Refused(StaleVersion, "stale expected_version")
    # A trigger's former name (``withdraw`` for ``abandon``) fires the trigger.
    candidates = [t for t in spec.transitions_from(plan.state) if t.answers_to(action)]
    if not candidates:
        return Refused(ActionNotAllowed, f"{action!r} is not defined in {plan.state!r}")
    assert len(candidates) == 1, "the model assumes one transition per (state, trigger)"
    t = candidates[0]
    if actor is None:  # the system may fire any transition (timers, rounds) but never votes
        if t.quorum is not None:
            return Refused(PermissionDenied, "the system does not vote")
    else:
        if t.actor is None:
            return Refused(PermissionDenied, "only the system fires it")
        if not may_act(snap, plan, t, actor):
            return expect_deputy(spec, snap, plan, t, actor, comment, delegations)
    failing = guard_failures(t, plan, actor, comment)
    if failing:
        return Refused(GuardFailed, f"guards {failing}")
    return decided(spec, plan, t, actor)


def expect_deputy(
    spec: WorkflowSpec,
    snap: OrgSnapshot,
    plan: PlanModel,
    t: TransitionSpec,
    actor: int,
    comment: str | None,
    delegations: Sequence[DelegationModel],
) -> Refused | Allowed:
    """Someone without the right acts as a deputy (委托): for the first delegator in
    force who may take ``t``, the guards passing for the delegator *and* for the
    deputy, and never a submission."""
    refused = Refused(PermissionDenied, f"actor lacks {t.actor.describe() if t.actor else t}")
    if actor not in snap.active_users:
        return refused
    first_guard_refusal: Refused | None = None
    for d in delegations:
        if not (d.active and d.deputy == actor and d.covers(plan)):
            continue
        if not may_act(snap, plan, t, d.delegator):
            continue
        failing = guard_failures(t, plan, d.delegator, comment)
        if failing:
            first_guard_refusal = first_guard_refusal or Refused(
                GuardFailed, f"the delegator's guards {failing}"
            )
            continue
        if t.submission:
            event("deputy: a submission refused")
            return Refused(GuardFailed, "a deputy does not submit for someone else")
        failing = guard_failures(t, plan, actor, comment)
        if failing:
            event(f"deputy: refused by their own guards {failing}")
            return Refused(GuardFailed, f"the deputy's guards {failing}")
        event("deputy: may act on behalf")
        return decided(spec, plan, t, d.delegator, on_behalf=d.delegator)
    return first_guard_refusal or refused


def decided(
    spec: WorkflowSpec,
    plan: PlanModel,
    t: TransitionSpec,
    actor: int | None,
    on_behalf: int | None = None,
) -> Allowed:
    """Where ``t`` takes the plan, once ``actor`` (the one whose right is used) may take it."""
    to_state = t.dest
    if t.quorum is not None:
        voters = plan.votes.get(plan.revision, set()) | {actor}
        if len(voters) < t.quorum.required:
            to_state = plan.state
    if t.submission and plan.returned_from not in (None, to_state) and to_state != plan.state:
        to_state = plan.returned_from  # straight back to the reviewer who returned it
    if (
        plan.groups
        and actor is not None
        and to_state != plan.state
        and t.dest not in editable_states(spec)
        and not plan.last_to_decide(actor)
    ):
        return Allowed(t, plan.state, countersign=True, on_behalf=on_behalf)
    return Allowed(t, to_state, on_behalf=on_behalf)


def expect_return(
    spec: WorkflowSpec,
    snap: OrgSnapshot,
    plan: PlanModel,
    actor: int,
    target: str,
    comment: str | None,
    expected_version: int | None,
) -> Refused | str:
    """What a return to ``target`` must do: the state it goes to, or the refusal."""
    if expected_version is not None and expected_version != plan.version:
        return Refused(StaleVersion, "stale expected_version")
    allowed = spec.state(plan.state).return_to
    if not allowed:
        return Refused(ActionNotAllowed, f"{plan.state!r} allows no return")
    current = plan.current()
    if current is not None:  # held personally (transferred, approvers added): its people
        holds_task = actor in current and actor in snap.active_users
    else:
        holds_task = (
            plan.task_role is not None
            and plan.task_unit_id is not None
            and actor in snap.active_users
            and actor in snap.holders(plan.task_role, plan.task_unit_id)
        )
    if not holds_task:
        return Refused(PermissionDenied, "the actor does not hold the plan's task")
    failing = [
        name
        for name, ok in (
            ("return_target_not_allowed", target in allowed),
            ("comment_required", bool(comment and comment.strip())),
            ("not_self", actor != plan.submitted_by),
        )
        if not ok
    ]
    if failing:
        return Refused(GuardFailed, f"refusals {failing}")
    return target


def inspect_of(spec: WorkflowSpec) -> TransitionSpec:
    return next(t for t in spec.transitions if t.trigger == "inspect")


def editable_states(spec: WorkflowSpec) -> set[str]:
    """The initial state and every state a submission starts from (drafters own those)."""
    return {spec.initial} | {s for t in spec.transitions if t.submission for s in t.sources}


def content_editors(spec: WorkflowSpec) -> list[Any]:
    """The creator role and whoever may submit."""
    return [spec.creator] + [t.actor for t in spec.transitions if t.submission and t.actor]


# -- the machine -------------------------------------------------------------------------


class PlanflowMachine(RuleBasedStateMachine):
    """One example: a fresh database, a small federation, and a model of every plan."""

    def __init__(self, fresh_database: Any) -> None:
        super().__init__()
        self.pf = Planflow(fresh_database(), clock=FixedClock(T0), workflows_dir=WORKFLOWS)
        self.plans: list[PlanModel] = []
        self.users: dict[str, int] = {}
        self.units: dict[str, int] = {}
        self.specs = {name: self.pf.registry.get(name) for name in WORKFLOW_NAMES}
        self.triggers = tuple(
            sorted(
                {t.trigger for s in self.specs.values() for t in s.transitions}
                | {a for s in self.specs.values() for t in s.transitions for a in t.aliases}
            )
        )
        self.active = set(USERNAMES)
        self.delegations: list[DelegationModel] = []
        self.build_org()

    # -- setup and helpers ------------------------------------------------------------

    def build_org(self) -> None:
        with self.pf.session() as s:
            for code, parent in UNITS:
                self.pf.org_repo.add_unit(s, code, code.replace("_", " ").title(), parent)
            for username, roles in PEOPLE:
                self.pf.org_repo.add_user(s, username, username.title(), email=f"{username}@x.org")
                for role, unit in roles:
                    self.pf.org_repo.assign_role(s, username, role, unit, known_roles=ROLES)
        self.users = {name: self.pf.user_id(name) for name in USERNAMES}
        self.units = {code: self.pf.unit_id(code) for code, _ in UNITS}

    def teardown(self) -> None:
        self.pf.close()

    def snapshot(self) -> OrgSnapshot:
        snap = self.pf.org_snapshot()
        assert snap.active_users == {self.users[n] for n in self.active}, "org cache is stale"
        return snap

    def unseen(
        self, outcome: Refused | Allowed, snap: OrgSnapshot, actor: int | None, plan: PlanModel
    ) -> Refused | Allowed:
        return unseen(outcome, snap, actor, plan, self.delegations)

    def expect_fire(
        self,
        spec: WorkflowSpec,
        snap: OrgSnapshot,
        plan: PlanModel,
        action: str,
        actor: int | None,
        comment: str | None,
        expected_version: int | None,
    ) -> Refused | Allowed:
        return expect_fire(
            spec, snap, plan, action, actor, comment, expected_version, self.delegations
        )

    def uid(self, name: str | None) -> int | None:
        return None if name is None else self.users[name]

    def pick(self, index: int) -> PlanModel:
        return self.plans[index % len(self.plans)]

    @staticmethod
    def expected_version(plan: PlanModel, kind: str) -> int | None:
        return {
            "none": None,
            "current": plan.version,
            "behind": plan.version - 1,
            "ahead": plan.version + 1,
        }[kind]

    def enter_state(self, plan: PlanModel, state: str, snap: OrgSnapshot) -> None:
        """The task a plan gets on entering ``state`` (unassigned: no unit)."""
        plan.state = state
        plan.groups = []  # personal parts end with the task
        spec = self.specs[plan.workflow]
        if state in spec.final_states:
            plan.cc = set()  # a copy reads the plan until it ends
        if state in inspect_of(self.specs[plan.workflow]).sources:
            plan.inspection = "unrecorded"  # each time it awaits inspection, a new round
        task = self.specs[plan.workflow].state(state).task
        if task is None:
            plan.task_role = plan.task_unit_id = None
            return
        plan.task_role = task.assignee.role
        plan.task_unit_id = snap.resolve(task.assignee, plan.unit_id)

    @staticmethod
    def expect_refused(expected: Refused, call: Any, what: str) -> None:
        """``call`` must raise exactly ``expected.error`` (and so write nothing)."""
        try:
            call()
        except PlanflowError as e:
            assert type(e) is expected.error, (
                f"{what}: the model says {expected.error.__name__} ({expected.why}), "
                f"the engine raised {e!r}"
            )
            return
        raise AssertionError(f"{what}: succeeded, the model says {expected.why}")

    # -- rules --------------------------------------------------------------------------

    @rule(
        workflow=st.sampled_from(WORKFLOW_NAMES),
        own_drafter=st.booleans(),
        unit=st.sampled_from([code for code, _ in UNITS]),
        creator=st.sampled_from(USERNAMES),
        title=st.sampled_from(["Plan 2027", "  Plan  ", "", "   "]),
        year=st.sampled_from([YEAR, YEAR, 1999]),
    )
    def create_plan(
        self, workflow: str, own_drafter: bool, unit: str, creator: str, title: str, year: int
    ) -> None:
        """A plan by anyone at any unit, or (``own_drafter``) by a branch's own drafter."""
        if own_drafter:
            branch = "a" if unit in ("fed", "branch_a") else "b"
            unit, creator, year = f"branch_{branch}", f"drafter_{branch}", YEAR
            title = title if title.strip() else "Plan"
        self.check_create(workflow, unit, creator, title, year)

    def check_create(self, workflow: str, unit: str, creator: str, title: str, year: int) -> None:
        spec, snap = self.specs[workflow], self.snapshot()
        actor, unit_id = self.users[creator], self.units[unit]

        def call() -> int:
            return self.pf.service.create_plan(
                unit_id=unit_id, year=year, title=title, actor_id=actor, workflow=workflow
            )

        if not title.strip() or not 2000 <= year <= 2100:
            what = f"create {workflow} at {unit} by {creator}"
            return self.expect_refused(Refused(ValidationError, "title/year"), call, what)
        if not holds(snap, actor, spec.creator, unit_id):
            what = f"create {workflow} at {unit} by {creator}"
            return self.expect_refused(Refused(PermissionDenied, "not a creator"), call, what)
        plan = PlanModel(id=call(), workflow=workflow, unit_id=unit_id, state=spec.initial)
        self.enter_state(plan, spec.initial, snap)
        plan.log.append(("create", actor, None, spec.initial))
        self.plans.append(plan)

    @initialize(branches=st.tuples(st.sampled_from("ab"), st.sampled_from("ab")))
    def first_plans(self, branches: tuple[str, str]) -> None:
        """One plan of each workflow to start with."""
        for workflow, branch in zip(WORKFLOW_NAMES, branches, strict=True):
            self.check_create(workflow, f"branch_{branch}", f"drafter_{branch}", "Plan", YEAR)

    @precondition(lambda self: self.plans)
    @rule(
        index=st.integers(0, 100),
        editor=st.sampled_from(USERNAMES),
        kind=st.sampled_from(CONTENT_KINDS),
        version_kind=st.sampled_from(EXPECTED_VERSION_KINDS),
    )
    def set_content(self, index: int, editor: str, kind: str, version_kind: str) -> None:
        self.check_set_content(self.pick(index), editor, kind, version_kind)

    def check_set_content(self, plan: PlanModel, editor: str, kind: str, version_kind: str) -> None:
        spec, snap = self.specs[plan.workflow], self.snapshot()
        actor, content = self.users[editor], make_content(kind)
        expected_version = self.expected_version(plan, version_kind)

        def call() -> Any:
            return self.pf.services.content.set_content(
                plan.id, actor, content, expected_version=expected_version
            )

        what = f"edit {kind} content of {plan.workflow}#{plan.id} in {plan.state} by {editor}"
        refusal = None
        if expected_version is not None and expected_version != plan.version:
            refusal = Refused(StaleVersion, "stale")
        elif plan.state not in editable_states(spec) or content.year != YEAR:
            refusal = Refused(ValidationError, "not editable now")
        elif not any(holds(snap, actor, ref, plan.unit_id) for ref in content_editors(spec)):
            refusal = Refused(PermissionDenied, "not an editor")
        if refusal is not None:
            return self.expect_refused(self.unseen(refusal, snap, actor, plan), call, what)
        call()
        plan.version += 1
        plan.item_count = content.item_count
        plan.items_without_due = len(content.items_without_due())
        plan.log.append(("edit_content", actor, plan.state, plan.state))

    def fire_and_check(
        self,
        plan: PlanModel,
        action: str,
        actor: int | None,
        comment: str | None,
        version_kind: str,
    ) -> None:
        """Fire through the service and assert the engine agrees with the model."""
        spec, snap = self.specs[plan.workflow], self.snapshot()
        expected_version = self.expected_version(plan, version_kind)
        outcome = self.unseen(
            self.expect_fire(spec, snap, plan, action, actor, comment, expected_version),
            snap,
            actor,
            plan,
        )

        def call() -> Any:
            return self.pf.service.fire(plan.id, action, actor, comment, expected_version)

        what = (
            f"{action!r} by user {actor} (comment {comment!r}, expected_version "
            f"{expected_version}) on {plan.workflow}#{plan.id} in {plan.state}"
        )
        if isinstance(outcome, Refused):
            return self.expect_refused(outcome, call, what)
        try:
            change = call()
        except PlanflowError as e:
            raise AssertionError(f"{what}: the model allows it, the engine raised {e!r}") from e
        assert (change.from_state, change.to_state) == (plan.state, outcome.to_state)
        assert outcome.countersign == (change.action == "countersign"), (what, change.action)
        self.fired(plan, outcome, actor, snap)

    def fired(
        self, plan: PlanModel, outcome: Allowed, actor: int | None, snap: OrgSnapshot
    ) -> None:
        """The model after a successful transition."""
        t, from_state = outcome.transition, plan.state
        plan.version += 1
        # A deputy's part of a task and vote are the delegator's; the trail names both.
        acting = outcome.on_behalf if outcome.on_behalf is not None else actor
        if outcome.on_behalf is not None:
            plan.behalf[len(plan.log)] = outcome.on_behalf
        if outcome.countersign:
            assert actor is not None
            for group in plan.groups:
                for part in group:
                    if part[0] == acting and not part[2]:
                        part[2] = True
            if actor != plan.submitted_by and plan.revision > 0:
                plan.acted_on = True
            plan.log.append(("countersign", actor, from_state, from_state))
            return
        if t.quorum is not None and acting is not None:
            plan.votes.setdefault(plan.revision, set()).add(acting)
        if outcome.to_state != from_state and t.submission:
            plan.revision += 1
            plan.acted_on = False  # a new round: nobody has decided on it yet
            if actor is not None:  # the system never becomes the submitter
                plan.submitted_by = actor
        elif actor is not None and actor != plan.submitted_by and plan.revision > 0:
            plan.acted_on = True
        if outcome.to_state != from_state:
            plan.returned_from = None
            # A transition's ``cc:`` copies its roles' active people (they read the
            # plan until it ends, also once deactivated): before the new state's
            # task, which ends the copies in a final state.
            copied = {u for ref in t.cc for u in snap.assignees(ref, plan.unit_id)}
            plan.cc |= {u for u in copied if u in snap.active_users and u != actor}
            self.enter_state(plan, outcome.to_state, snap)
        # The trail names the trigger, also when it was fired by a former name.
        plan.log.append((t.trigger, actor, from_state, outcome.to_state))

    @precondition(lambda self: self.plans)
    @rule(
        index=st.integers(0, 100),
        data=st.data(),
        actor=st.sampled_from((*USERNAMES, None)),
        comment=st.sampled_from(COMMENTS),
        version_kind=st.sampled_from(EXPECTED_VERSION_KINDS),
    )
    def fire_anything(
        self,
        index: int,
        data: st.DataObject,
        actor: str | None,
        comment: str | None,
        version_kind: str,
    ) -> None:
        """Any trigger of either workflow, or nonsense, by anyone (the system too).

        ``index == 100`` aims at a plan that does not exist.
        """
        action = data.draw(st.sampled_from(self.triggers + BOGUS_ACTIONS), label="action")
        if index == 100:
            try:
                self.pf.service.fire(10_000, action, self.uid(actor), comment)
            except NotFound:
                return
            raise AssertionError("a missing plan was changed")
        self.fire_and_check(self.pick(index), action, self.uid(actor), comment, version_kind)

    @precondition(lambda self: self.plans)
    @rule(
        index=st.integers(0, 100),
        # Mostly people who review somewhere, so that some openings start a review.
        actor=st.sampled_from(REVIEWERS + USERNAMES),
        version_kind=st.sampled_from(EXPECTED_VERSION_KINDS),
        by_holder=st.booleans(),
    )
    def open_task(self, index: int, actor: str, version_kind: str, by_holder: bool) -> None:
        """Someone opens a plan from their queue (``Planflow.open_task``): mostly one
        who holds its task (so that it may start), else anyone."""
        plan = self.pick(index)
        holders = sorted(self.holders_now(plan, self.snapshot()))
        if by_holder and holders:
            uid = holders[index % len(holders)]
            actor = next(n for n, u in self.users.items() if u == uid)
        self.open_and_check(plan, actor, version_kind)

    def open_and_check(
        self, plan: PlanModel, actor: str, version_kind: str, again: bool = True
    ) -> None:
        """Opening starts the task exactly when the definition says so (an ``on_open:``
        transition out of the plan's state) and the opener may take it now, as its
        holder or a holder's deputy, at the version they saw; else nothing is
        written. Opening it again changes nothing more; a plan the opener may not
        see is ``NotFound``."""
        spec, snap = self.specs[plan.workflow], self.snapshot()
        uid = self.users[actor]
        expected_version = self.expected_version(plan, version_kind)
        what = (
            f"open by {actor} (expected_version {expected_version}) of #{plan.id} in {plan.state}"
        )

        def call() -> Any:
            return self.pf.open_task(plan.id, actor, expected_version)

        if not sees(snap, uid, plan, self.delegations):
            return self.expect_refused(Refused(NotFound, "may not see it"), call, what)
        outcome: Allowed | None = None
        if expected_version is None or expected_version == plan.version:
            for t in spec.transitions_from(plan.state):
                if not t.on_open:
                    continue
                o = self.expect_fire(spec, snap, plan, t.trigger, uid, None, plan.version)
                if isinstance(o, Allowed):
                    outcome = o
                    break
        version = plan.version
        try:
            result = call()
        except PlanflowError as e:
            raise AssertionError(f"{what}: opening raised {e!r}") from e
        if outcome is None:
            assert result is None, f"{what}: the model says nothing starts, got {result}"
            event("open_task: nothing started")
            return
        assert result is not None, f"{what}: the model says {outcome.transition.trigger} starts"
        assert (result.action, result.from_state, result.to_state) == (
            outcome.transition.trigger,
            plan.state,
            outcome.to_state,
        ), what
        event(f"open_task: started{' on behalf' if outcome.on_behalf is not None else ''}")
        self.fired(plan, outcome, uid, snap)
        if again:
            # A second tab with the version the queue showed: nothing more happens;
            # then without one, as the model says for the state it is in now.
            assert self.pf.open_task(plan.id, actor, version) is None, what
            self.open_and_check(plan, actor, "none", again=False)

    @precondition(lambda self: self.plans)
    @rule(
        index=st.integers(0, 100),
        actor=st.sampled_from(USERNAMES),
        to=st.sampled_from(RETURN_TARGETS),  # ``target`` is the rule's own keyword
        comment=st.sampled_from(COMMENTS),
        version_kind=st.sampled_from(EXPECTED_VERSION_KINDS),
    )
    def return_to(
        self, index: int, actor: str, to: str, comment: str | None, version_kind: str
    ) -> None:
        """A return to a chosen earlier step, by anyone, to any state (or none)."""
        self.return_and_check(self.pick(index), self.users[actor], to, comment, version_kind)

    def return_and_check(
        self, plan: PlanModel, actor: int, target: str, comment: str | None, version_kind: str
    ) -> None:
        spec, snap = self.specs[plan.workflow], self.snapshot()
        expected_version = self.expected_version(plan, version_kind)
        outcome = expect_return(spec, snap, plan, actor, target, comment, expected_version)
        if isinstance(outcome, Refused):
            outcome = self.unseen(outcome, snap, actor, plan)

        def call() -> Any:
            return self.pf.services.returns.return_to(
                plan.id, target, actor, comment, expected_version
            )

        what = f"return_to {target!r} by user {actor} on {plan.workflow}#{plan.id} in {plan.state}"
        if isinstance(outcome, Refused):
            return self.expect_refused(outcome, call, what)
        try:
            change = call()
        except PlanflowError as e:
            raise AssertionError(f"{what}: the model allows it, the engine raised {e!r}") from e
        from_state = plan.state
        assert (change.from_state, change.to_state) == (from_state, target)
        plan.version += 1
        back = spec.state(from_state).return_to_returner
        plan.returned_from = from_state if back else None
        self.enter_state(plan, target, snap)
        plan.log.append(("return_to", actor, from_state, target))

    @precondition(lambda self: self.plans)
    @rule(
        indices=st.lists(st.integers(0, 99), min_size=1, max_size=4),
        # Mostly people who review somewhere, so that some plans are done.
        actor=st.sampled_from(REVIEWERS + USERNAMES),
        action=st.sampled_from(("approve", "return")),
        comment=st.sampled_from(COMMENTS),
        version_kinds=st.lists(st.sampled_from(("current", "behind")), min_size=4, max_size=4),
    )
    def bulk(
        self,
        indices: list[int],
        actor: str,
        action: str,
        comment: str | None,
        version_kinds: list[str],
    ) -> None:
        """Bulk approve/return: each plan exactly as if fired on its own."""
        plans = list({id(p): p for p in (self.pick(i) for i in indices)}.values())
        self.bulk_and_check(plans, self.users[actor], action, comment, version_kinds)

    def bulk_and_check(
        self,
        plans: list[PlanModel],
        uid: int,
        action: str,
        comment: str | None,
        version_kinds: list[str],
    ) -> None:
        snap = self.snapshot()
        trigger = {"approve": "approve", "return": "return_for_revision"}[action]
        items, expected = [], []
        for plan, kind in zip(plans, version_kinds, strict=False):
            version = self.expected_version(plan, kind)
            assert version is not None
            items.append((plan.id, version))
            spec = self.specs[plan.workflow]
            outcome = self.expect_fire(spec, snap, plan, trigger, uid, comment, version)
            expected.append((plan, self.unseen(outcome, snap, uid, plan)))
        outcomes = self.pf.services.bulk.run(items, action, uid, comment)
        assert [o.plan_id for o in outcomes] == [p.id for p, _ in expected]
        for o, (plan, outcome) in zip(outcomes, expected, strict=True):
            if isinstance(outcome, Refused):
                assert not o.done and o.code == outcome.error.code, (o, outcome)
                continue
            assert o.done and o.to_state == outcome.to_state, (o, outcome)
            self.fired(plan, outcome, uid, snap)

    @precondition(lambda self: self.plans)
    @rule(index=st.integers(0, 100), choices=st.lists(st.integers(0, 7), min_size=1, max_size=8))
    def walk(self, index: int, choices: list[int]) -> None:
        """Up to eight allowed moves on one plan, each preceded by probes that must fail.

        Random triggers rarely get a plan far; walks take plans through
        returns and resubmissions, recalls (tried too late as well), committee
        rounds, inspection, rectification and archiving, so the deep states are
        exercised too. Before each move
        the people who must be refused try it first (see ``probe``). Moves
        backwards are only taken on high choices (``BACKWARD_FROM``), so plans
        also get far. Content that stops a submission is filled in by whoever
        may edit it.
        """
        plan = self.pick(index)
        for choice in choices:
            spec, snap = self.specs[plan.workflow], self.snapshot()
            if self.record_inspection(plan, spec, snap, choice):
                continue
            if choice == 1 and self.try_recall(plan, spec):
                continue
            if choice in (2, 5) and self.try_return(plan, spec, snap, choice):
                continue
            if choice % 2 == 0 and spec.state(plan.state).allows.transfer:
                self.hand_over_in_walk(plan, snap, choice)
            moves = []
            for t in spec.transitions_from(plan.state):
                if t.actor is None or choice < BACKWARD_FROM.get(t.trigger, 0):
                    continue
                outcomes = {
                    name: self.expect_fire(spec, snap, plan, t.trigger, uid, REASON, None)
                    for name, uid in self.users.items()
                }
                moves += [(t, n, outcomes) for n, o in outcomes.items() if isinstance(o, Allowed)]
            if moves:
                t, mover, outcomes = moves[choice % len(moves)]
                self.probe(plan, t, mover, outcomes, choice)
                if t.on_open and choice:
                    # Opened from the queue: first by someone refused it, then the mover.
                    refused = [n for n, o in outcomes.items() if isinstance(o, Refused)]
                    if refused:
                        self.open_and_check(plan, refused[choice % len(refused)], "none")
                    self.open_and_check(plan, mover, ("current", "none")[choice % 2])
                elif choice == 3 and t.trigger in BULK_TRIGGERS:
                    self.bulk_and_check(
                        [plan], self.users[mover], BULK_TRIGGERS[t.trigger], REASON, ["current"]
                    )
                else:
                    self.fire_and_check(plan, t.trigger, self.users[mover], REASON, "current")
                continue
            editors = [
                name
                for name, uid in self.users.items()
                if any(holds(snap, uid, ref, plan.unit_id) for ref in content_editors(spec))
            ]
            if plan.state not in editable_states(spec) or not editors:
                return
            self.check_set_content(plan, editors[choice % len(editors)], "complete", "none")

    def try_return(
        self, plan: PlanModel, spec: WorkflowSpec, snap: OrgSnapshot, choice: int
    ) -> bool:
        """A holder of its task returns it to one of the states its state allows."""
        allowed = spec.state(plan.state).return_to
        if not allowed or plan.task_role is None or plan.task_unit_id is None:
            return False
        current = plan.current()
        holders = sorted(
            uid
            for uid in (
                current if current is not None else snap.holders(plan.task_role, plan.task_unit_id)
            )
            if uid in snap.active_users and uid != plan.submitted_by
        )
        if not holders:
            return False
        target = allowed[choice % len(allowed)]
        self.return_and_check(plan, holders[0], target, REASON, "current")
        return True

    def try_recall(self, plan: PlanModel, spec: WorkflowSpec) -> bool:
        """Its submitter tries to recall it: back to draft while nobody else has
        decided on it since the submission, else refused (``recall_too_late``)."""
        if plan.submitted_by is None or not any(
            t.trigger == "recall" for t in spec.transitions_from(plan.state)
        ):
            return False
        self.fire_and_check(plan, "recall", plan.submitted_by, None, "none")
        return True

    def probe(
        self,
        plan: PlanModel,
        t: TransitionSpec,
        mover: str,
        outcomes: dict[str, Refused | Allowed],
        choice: int,
    ) -> None:
        """Send, before ``mover`` makes move ``t``, everyone who must be refused it.

        Those who hold the role but fail a guard (the submitter under
        ``not_self``, a member who already voted this round), deactivated
        holders of the role, one more refused user, the mover without a
        comment where one is required, and the mover with a stale version.
        """
        assert t.actor is not None
        refused = [n for n, o in outcomes.items() if isinstance(o, Refused)]
        guarded = [n for n in refused if outcomes[n].error is GuardFailed]  # type: ignore[union-attr]
        inactive = [n for n in refused if n not in self.active and role_of(n, t.actor.role)]
        others = [refused[choice % len(refused)]] if refused else []
        for name in dict.fromkeys(guarded + inactive + others):
            self.fire_and_check(plan, t.trigger, self.users[name], REASON, "none")
        if any(g.name == "comment_required" for g in t.guards):
            comment = COMMENTS[choice % 3]  # None, "" or blanks
            self.fire_and_check(plan, t.trigger, self.users[mover], comment, "none")
        if choice % 2:
            self.fire_and_check(plan, t.trigger, self.users[mover], REASON, "behind")

    def record_inspection(
        self, plan: PlanModel, spec: WorkflowSpec, snap: OrgSnapshot, choice: int
    ) -> bool:
        """Score the sheet, as the plan's inspector, while it is not complete.

        ``choice`` picks a full sheet that passes, one that fails (its first
        mandatory criterion at 0) or one criterion (its last, not mandatory).
        False when the plan is not being inspected or nobody may score it.
        """
        t = inspect_of(spec)
        if plan.state not in (*t.sources, t.dest) or plan.inspection in ("passed", "failed"):
            return False
        assert t.actor is not None and spec.inspection is not None
        scorers = [
            uid
            for uid in self.users.values()
            if holds(snap, uid, t.actor, plan.unit_id) and uid != plan.submitted_by
        ]
        if not scorers:
            return False
        kind = ("pass", "fail", "partial", "pass")[choice % 4]
        criteria = spec.inspection.criteria()
        failing = next(c.code for c in criteria if c.mandatory)
        scores = [
            CriterionScore(
                c.code, inspector_score=0.0 if kind == "fail" and c.code == failing else c.points
            )
            for c in (criteria[-1:] if kind == "partial" else criteria)
        ]
        assert not criteria[-1].mandatory
        actor = scorers[choice % len(scorers)]
        self.pf.services.inspections.record_scores(plan.id, actor, scores)
        plan.version += 1
        plan.log.append(("inspection_scores", actor, plan.state, plan.state))
        if kind != "partial":
            plan.inspection = "passed" if kind == "pass" else "failed"
        elif plan.inspection == "unrecorded":
            plan.inspection = "unscored"
        return True

    # -- transfer, added approvers, CC (services.handover) ---------------------------------

    def holders_now(self, plan: PlanModel, snap: OrgSnapshot) -> set[int]:
        current = plan.current()
        if current is not None:
            return current
        if plan.task_role is None or plan.task_unit_id is None:
            return set()
        return set(snap.holders(plan.task_role, plan.task_unit_id)) & set(snap.active_users)

    def expect_handover(
        self, plan: PlanModel, snap: OrgSnapshot, kind: str, actor: int, target: int
    ) -> Refused | None:
        """Whether a gesture must be refused (always ``GuardFailed``), from the model alone."""
        spec = self.specs[plan.workflow]
        allows = spec.state(plan.state).allows
        active = snap.active_users
        refused = Refused(GuardFailed, f"{kind} refused")
        if plan.task_role is None or actor not in active:
            return refused
        if actor not in self.holders_now(plan, snap):
            return refused
        if kind == "cc":
            return None if allows.cc and target != actor and target in active else refused
        if target not in active or target in (actor, plan.submitted_by):
            return refused
        if plan.groups and target in plan.everyone():
            return refused
        if kind == "transfer":
            if allows.transfer is None:
                return refused
            if allows.transfer == "role":
                assert plan.task_unit_id is not None
                if target not in snap.holders(plan.task_role, plan.task_unit_id):
                    return refused
            return None
        return None if kind in allows.add_approver else refused

    def apply_handover(self, plan: PlanModel, kind: str, actor: int, target: int) -> None:
        if kind == "cc":
            plan.cc.add(target)
        elif kind == "transfer":
            if not plan.groups:
                plan.groups = [[[target, "transfer", False]]]
            else:
                for group in plan.groups:
                    for part in group:
                        if part[0] == actor and not part[2]:
                            part[0], part[1] = target, "transfer"
        else:
            groups = plan.groups or [[[actor, "holder", False]]]
            mine = next(
                i for i, g in enumerate(groups) if any(u == actor and not d for u, _k, d in g)
            )
            added = [target, kind, False]
            if kind == "alongside":
                groups[mine].append(added)
            else:
                groups.insert(mine if kind == "before" else mine + 1, [added])
            plan.groups = groups
        action = {"cc": "cc", "transfer": "transfer"}.get(kind, "add_approver")
        plan.version += 1
        plan.log.append((action, actor, plan.state, plan.state))

    def check_handover(self, plan: PlanModel, kind: str, actor: int, target: int) -> None:
        snap = self.snapshot()
        handover = self.pf.services.handover

        def call() -> Any:
            if kind == "cc":
                return handover.cc(plan.id, actor, [target])
            if kind == "transfer":
                return handover.transfer(plan.id, actor, target)
            return handover.add_approver(plan.id, actor, target, kind)

        what = f"{kind} by {actor} to {target} on {plan.workflow}#{plan.id} in {plan.state}"
        refusal = self.expect_handover(plan, snap, kind, actor, target)
        if refusal is not None:
            return self.expect_refused(self.unseen(refusal, snap, actor, plan), call, what)
        try:
            call()
        except PlanflowError as e:
            raise AssertionError(f"{what}: the model allows it, the library raised {e!r}") from e
        self.apply_handover(plan, kind, actor, target)

    def hand_over_in_walk(self, plan: PlanModel, snap: OrgSnapshot, choice: int) -> None:
        """A holder hands the task on, adds someone or copies someone, to a person
        who may mostly take it (a holder of the role for a transfer)."""
        holders = sorted(self.holders_now(plan, snap))
        if not holders or plan.task_role is None or plan.task_unit_id is None:
            return
        n = len(plan.log)
        kind = HANDOVER_KINDS[(choice // 2 + n) % len(HANDOVER_KINDS)]
        actor = holders[n % len(holders)]
        pool = set(self.users.values()) - {actor}
        if kind == "transfer":
            pool &= set(snap.holders(plan.task_role, plan.task_unit_id)) | {plan.submitted_by or 0}
        targets = sorted(pool)
        if targets:
            self.check_handover(plan, kind, actor, targets[(n + choice) % len(targets)])

    @precondition(lambda self: self.plans)
    @rule(
        index=st.integers(0, 100),
        kind=st.sampled_from(HANDOVER_KINDS),
        actor=st.sampled_from(USERNAMES),
        to=st.sampled_from(USERNAMES),
        by_holder=st.booleans(),
    )
    def hand_over(self, index: int, kind: str, actor: str, to: str, by_holder: bool) -> None:
        """Transfer, add an approver or copy someone: mostly as a holder of the task
        (so that it may succeed), else as anyone."""
        plan = self.pick(index)
        actor_id = self.users[actor]
        holders = sorted(self.holders_now(plan, self.snapshot()))
        if by_holder and holders:
            actor_id = holders[index % len(holders)]
        self.check_handover(plan, kind, actor_id, self.users[to])

    # -- urge (services.gestures) --------------------------------------------------------

    @staticmethod
    def urged_already(plan: PlanModel) -> bool:
        """Whether the current task was urged: its latest urge is after its start
        (a state change, the plan's creation or a move to another version)."""
        for action, _actor, before, after in reversed(plan.log):
            if action == "urge":
                return True
            if before is None or before != after or action == "migrate_workflow":
                return False
        return False

    def expect_urge(self, plan: PlanModel, snap: OrgSnapshot, actor: int) -> Refused | None:
        """The submitter, or whoever may create or submit the plan, reminds the others
        holding its task now; once per task (the clock stands still here)."""
        spec = self.specs[plan.workflow]
        refs = [spec.creator, *(t.actor for t in spec.transitions if t.submission and t.actor)]
        may = actor in snap.active_users and (
            actor == plan.submitted_by or any(holds(snap, actor, r, plan.unit_id) for r in refs)
        )
        if not may:
            return Refused(PermissionDenied, "not theirs to urge")
        if not self.holders_now(plan, snap) - {actor}:
            return Refused(GuardFailed, "nobody else holds its task")
        if self.urged_already(plan):
            return Refused(GuardFailed, "urged already; the next urge is a day later")
        return None

    @precondition(lambda self: self.plans)
    @rule(index=st.integers(0, 100), actor=st.sampled_from(USERNAMES), by_chair=st.booleans())
    def urge(self, index: int, actor: str, by_chair: bool) -> None:
        """Urge (催办) the plan's task: mostly as its submitter (so that it may
        succeed, and a second time be refused), else as anyone."""
        plan = self.pick(index)
        actor_id = self.users[actor]
        if by_chair and plan.submitted_by is not None:
            actor_id = plan.submitted_by
        snap = self.snapshot()
        what = f"urge by {actor_id} on {plan.workflow}#{plan.id} in {plan.state}"
        refusal = self.expect_urge(plan, snap, actor_id)

        def call() -> Any:
            return self.pf.services.gestures.urge(plan.id, actor_id)

        if refusal is not None:
            return self.expect_refused(self.unseen(refusal, snap, actor_id, plan), call, what)
        try:
            call()
        except PlanflowError as e:
            raise AssertionError(f"{what}: the model allows it, the library raised {e!r}") from e
        plan.version += 1
        plan.log.append(("urge", actor_id, plan.state, plan.state))
        event("urged")

    @rule(
        delegator=st.sampled_from(USERNAMES),
        deputy=st.sampled_from(USERNAMES),
        scope=st.sampled_from(DELEGATION_SCOPES),
    )
    def delegate(self, delegator: str, deputy: str, scope: tuple[str | None, str | None]) -> None:
        """Name a deputy for the week (委托): refused for oneself, an inactive deputy,
        a second deputy for the same tasks, a deputy away all that week."""
        who, to = self.users[delegator], self.users[deputy]
        live = [d for d in self.delegations if d.active]
        refusal = None
        if who == to:
            refusal = "delegate_to_self"
        elif deputy not in self.active:
            refusal = "inactive_deputy"
        elif any(d.delegator == who and (d.workflow, d.role) == scope for d in live):
            refusal = "delegation_overlaps"
        elif any(d.delegator == to for d in live):
            refusal = "deputy_away"
        first, last = DELEGATION_DAYS

        def call() -> Any:
            return self.pf.delegations.add(
                delegator, deputy, first, last, workflow=scope[0], role=scope[1]
            )

        if refusal is not None:
            try:
                call()
            except ValidationError as e:
                assert e.code == refusal, (e.code, refusal)
                return
            raise AssertionError(f"delegation {delegator}->{deputy} {scope}: model says {refusal}")
        made = call()
        roles = frozenset((role, self.units[unit]) for role, unit in dict(PEOPLE)[delegator])
        self.delegations.append(DelegationModel(made.id, who, to, *scope, roles))

    @precondition(lambda self: any(d.active for d in self.delegations))
    @rule(index=st.integers(0, 100), by_deputy=st.booleans())
    def end_delegation(self, index: int, by_deputy: bool) -> None:
        """End one early (its delegator, or its deputy declining): open tasks go back."""
        live = [d for d in self.delegations if d.active]
        d = live[index % len(live)]
        by = d.deputy if by_deputy else d.delegator
        name = next(n for n, u in self.users.items() if u == by)
        assert self.pf.delegations.end(name, d.id) is True
        assert self.pf.delegations.end(name, d.id) is False
        d.active = False

    @rule(user=st.sampled_from(TOGGLEABLE))
    def toggle_active(self, user: str) -> None:
        """Switch a user off (or back on): they must lose (regain) every permission."""
        now_active = user not in self.active
        with self.pf.session() as s:
            self.pf.org_repo.set_active(s, user, now_active)
        if now_active:
            self.active.add(user)
        else:
            self.active.discard(user)

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def database_matches_model(self) -> None:
        with self.pf.session() as s:
            rows = {
                p.id: (
                    p.workflow_name,
                    p.state,
                    p.version,
                    p.revision,
                    p.submitted_by,
                    p.item_count,
                    p.items_without_due,
                    p.task_role,
                    p.task_unit_id,
                )
                for p in s.exec(select(Plan))
            }
            # The deadline index's hint is a lower bound of every pending timer.
            for p in s.exec(select(Plan).where(col(Plan.timer_at).is_not(None))):
                assert p.timer_hint is not None and p.timer_hint <= p.timer_at, p.id
            votes = {(v.plan_id, v.round, v.user_id) for v in s.exec(select(ApprovalVote))}
        assert set(rows) == {p.id for p in self.plans}
        for m in self.plans:
            assert rows[m.id][1] in self.specs[m.workflow].state_names
            want = (
                m.workflow,
                m.state,
                m.version,
                m.revision,
                m.submitted_by,
                m.item_count,
                m.items_without_due,
                m.task_role,
                m.task_unit_id,
            )
            assert rows[m.id] == want, f"plan {m.id}: db {rows[m.id]} != model {want}"
            assert m.version == len(m.log), "one version per successful change"
        assert votes == {
            (m.id, rnd, user)
            for m in self.plans
            for rnd, users in m.votes.items()
            for user in users
        }

    @invariant()
    def tasks_are_held_as_the_model_says(self) -> None:
        """The personal parts of every task are the model's; nobody holds a task
        beside someone else unless they were added alongside."""
        with self.pf.db.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(
                        TaskPart.plan_id, TaskPart.position, TaskPart.user_id, TaskPart.done
                    ).order_by(col(TaskPart.plan_id), col(TaskPart.position), col(TaskPart.id))
                )
            )
            kinds = {(r.plan_id, r.user_id): r.kind for r in conn.execute(select(TaskPart))}
        stored: dict[int, dict[int, list[tuple[int, bool]]]] = {}
        for plan_id, position, user_id, done in rows:
            stored.setdefault(plan_id, {}).setdefault(position, []).append((user_id, bool(done)))
        for m in self.plans:
            groups = [sorted(g) for _pos, g in sorted(stored.pop(m.id, {}).items())]
            want = [sorted((u, d) for u, _k, d in g) for g in m.groups]
            assert groups == want, f"plan {m.id}: parts {groups} != model {want}"
            current = m.current() or set()
            if len(current) > 1:
                assert any(kinds[(m.id, u)] == "alongside" for u in current), m.id
        assert not stored, "parts of plans the model does not know"

    @invariant()
    def nobody_decides_on_what_they_submitted(self) -> None:
        """Separation of duties, through transfers and added approvers too."""
        for m in self.plans:
            spec, submitter = self.specs[m.workflow], None
            for i, (action, actor, from_state, to_state) in enumerate(m.log):
                t = spec.transition_named(action)
                behalf = m.behalf.get(i)
                if t is not None and t.submission and from_state != to_state:
                    assert behalf is None, "a deputy submitted for someone else"
                    submitter = actor
                elif action == "countersign" or (
                    t is not None and t.guards and any(g.name == "not_self" for g in t.guards)
                ):
                    # Through delegation too: neither the deputy nor whom they act for.
                    assert actor is None or actor != submitter, (m.id, action, actor)
                    assert behalf is None or behalf != submitter, (m.id, action, behalf)

    @invariant()
    def audit_trail_is_the_list_of_successful_changes(self) -> None:
        trails: dict[int, list[tuple[Any, ...]]] = {}
        for rec in audit_repo.iter_records(self.pf.db):
            trails.setdefault(int(rec["plan_id"]), []).append(  # type: ignore[call-overload]
                (
                    rec["seq"],
                    rec["action"],
                    rec["actor_id"],
                    rec["from_state"],
                    rec["to_state"],
                    rec["on_behalf_of_id"],
                )
            )
        for m in self.plans:
            trail = sorted(trails.pop(m.id, []))
            assert [seq for seq, *_ in trail] == list(range(1, len(m.log) + 1))
            assert [tuple(r[1:5]) for r in trail] == m.log, f"plan {m.id}"
            behalf = {i: r[5] for i, r in enumerate(trail) if r[5] is not None}
            assert behalf == m.behalf, f"plan {m.id}: on behalf of {behalf} != model {m.behalf}"
        assert not trails, "audit records of plans the model never created"
        report = audit_repo.verify(self.pf.db)
        assert report.ok, report.problems
        assert report.records == sum(len(m.log) for m in self.plans)


# -- running it on both databases ---------------------------------------------------------


def fresh_databases(database_url: str, sqlite_template: Path, tmp_path: Path) -> Any:
    """A callable that hands out a clean, migrated database per example."""
    counter = itertools.count()

    def fresh() -> str:
        if database_url.startswith("sqlite"):
            path = tmp_path / f"example{next(counter)}.sqlite3"
            shutil.copyfile(sqlite_template, path)
            return f"sqlite:///{path}"
        reset_postgres(database_url)
        return database_url

    return fresh


def test_engine_agrees_with_the_model(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    sqlite = database_url.startswith("sqlite")
    fresh = fresh_databases(database_url, sqlite_template, tmp_path)
    run_state_machine_as_test(
        lambda: PlanflowMachine(fresh),
        settings=settings(
            max_examples=SQLITE_EXAMPLES if sqlite else POSTGRES_EXAMPLES,
            stateful_step_count=SQLITE_STEPS if sqlite else POSTGRES_STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[
                HealthCheck.function_scoped_fixture,
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
            ],
        ),
    )


# -- regressions: bugs the machine found ------------------------------------------------


@pytest.fixture
def federation(pf: Planflow, org: Any) -> Iterator[Planflow]:
    """The conftest org plus a drafter and a chair at the federation itself (the root)."""
    with pf.session() as s:
        for username, role in (("drafter_f", "drafter"), ("chair_f", "submitter")):
            pf.org_repo.add_user(s, username, username, email=f"{username}@x.org")
            pf.org_repo.assign_role(s, username, role, "fed", known_roles=ROLES)
        pf.org_repo.add_user(s, "committee_f", "Committee F", email="cf@x.org")
        pf.org_repo.assign_role(s, "committee_f", "committee", "fed", known_roles=ROLES)
        pf.org_repo.add_user(s, "local_inspector", "Local", email="li@x.org")
        pf.org_repo.assign_role(s, "local_inspector", "inspector", "branch_a", known_roles=ROLES)
    yield pf


def submitted_plan(pf: Planflow, unit: str, drafter: str, chair: str, workflow: str) -> int:
    plan_id = pf.create_plan(unit_code=unit, year=YEAR, title="P", actor=drafter, workflow=workflow)
    pf.content.set_content(
        plan_id,
        make_content("complete"),
        actor=drafter,
        expected_version=None,
    )
    pf.fire(plan_id, "submit", chair)
    return plan_id


def test_nobody_reviews_a_plan_of_the_root_unit(federation: Planflow) -> None:
    pf = federation
    plan_id = submitted_plan(pf, "fed", "drafter_f", "chair_f", "annual_plan")
    plan = stored_plan(pf, plan_id)
    assert (plan.task_role, plan.task_unit_id) == ("reviewer", None)  # unassigned
    # 'reviewer at parent' resolves to nobody for the root unit: only the system may act.
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "start_review", "fed_reviewer")
    assert pf.available_actions(plan_id, "fed_reviewer") == []


def test_an_inspector_at_the_plans_own_unit_cannot_inspect(federation: Planflow) -> None:
    pf = federation
    plan_id = submitted_plan(pf, "branch_a", "drafter_a", "chair_a", "annual_plan")
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "approve", "reviewer")
    with pf.session() as s:
        pf.org_repo.set_active(s, "inspector", False)
    pf.fire(plan_id, "schedule_inspection", "officer")
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "inspect", "local_inspector")


def test_the_system_cannot_cast_a_committee_vote(federation: Planflow) -> None:
    pf = federation
    plan_id = submitted_plan(pf, "branch_a", "drafter_a", "chair_a", "committee_plan")
    version = stored_plan(pf, plan_id).version
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "approve", None)
    assert stored_plan(pf, plan_id).version == version


def test_nobody_votes_on_a_committee_plan_of_the_root_unit(federation: Planflow) -> None:
    pf = federation
    plan_id = submitted_plan(pf, "fed", "drafter_f", "chair_f", "committee_plan")
    assert stored_plan(pf, plan_id).task_unit_id is None  # 'committee at parent': nobody
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "approve", "committee_f")
