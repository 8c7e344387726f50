"""The admin rule and the changes admins make.

Modules: ``planflow.services.admin_directory`` and ``planflow.services.org_admin``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import T0, CliRun
from sqlmodel import select
from stored import stored_plan

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.errors import NotFound, PermissionDenied, ValidationError
from planflow.scheduling.deadline_processor import DeadlineProcessor
from planflow.services.admin_directory import (
    AdminDirectory,
    AdminForbidden,
    AdminRefused,
    AdminScope,
    OrgConflict,
    build_scope,
    profile_stamp,
    scope_of,
)
from planflow.services.org_admin import OrgAdmin
from planflow.storage import audit_repo
from planflow.storage.org_cache import current_generation
from planflow.storage.passwords import verify_password
from planflow.storage.tables import Notification, User

ROLES = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin", "committee")


@pytest.fixture
def admin(pf: Planflow, org: Any) -> OrgAdmin:
    with pf.session() as s:
        pf.org_repo.add_unit(s, "union2", "Union Two", "fed")
        pf.org_repo.add_unit(s, "branch_c", "Branch C", "union2")
        for username, role, unit in [
            ("fed_admin", "admin", "fed"),
            ("union_admin", "admin", "union"),
            ("drafter_c", "drafter", "branch_c"),
        ]:
            pf.org_repo.add_user(s, username, username.title())
            pf.org_repo.assign_role(s, username, role, unit, known_roles=ROLES)
    return pf.org_admin()


def scope(pf: Planflow, username: str) -> AdminScope:
    found = scope_of(pf.org_snapshot(), pf.user_id(username))
    assert found is not None
    return found


def parent_of(pf: Planflow, code: str) -> str | None:
    org = pf.org_snapshot()
    parent = org.parent(pf.unit_id(code))
    return None if parent is None else org.unit(parent).code


def generation(pf: Planflow) -> int:
    with pf.db.read() as conn:
        return current_generation(conn)


# -- the rule --------------------------------------------------------------------------------


def test_build_scope_takes_every_subtree() -> None:
    parents = {1: None, 2: 1, 3: 2, 4: 2, 5: 1, 6: 5, 7: None}
    assert build_scope(9, parents, []) is None
    assert build_scope(9, parents, [42]) is None  # a unit that does not exist
    union = build_scope(9, parents, [2])
    assert union is not None and union.units == {2, 3, 4} and not union.everything
    two = build_scope(9, parents, [3, 5])
    assert two is not None and two.units == {3, 5, 6} and two.tops == {3, 5}
    both_roots = build_scope(9, parents, [1, 7])
    assert both_roots is not None and both_roots.everything
    assert union.manages(3) and not union.manages(5) and not union.manages(None)
    assert union.manages_account([2, 4]) and not union.manages_account([2, 5])
    # People without a role: only for admins of everything.
    assert not union.manages_account([]) and both_roots.manages_account([])
    assert union.sees_person([5, 3]) and not union.sees_person([]) and both_roots.sees_person([])


def test_scope_from_the_snapshot(pf: Planflow, admin: OrgAdmin) -> None:
    fed, union = scope(pf, "fed_admin"), scope(pf, "union_admin")
    assert fed.everything and len(fed.units) == 6
    codes = {pf.org_snapshot().unit(u).code for u in union.units}
    assert codes == {"union", "branch_a", "branch_b"}
    assert scope_of(pf.org_snapshot(), pf.user_id("reviewer")) is None
    # A deactivated admin is no admin.
    with pf.session() as s:
        pf.org_repo.set_active(s, "union_admin", False)
    assert scope_of(pf.org_snapshot(), pf.user_id("union_admin")) is None


def test_only_admins_change_anything(pf: Planflow, admin: OrgAdmin) -> None:
    reviewer = pf.user_id("reviewer")
    with pytest.raises(AdminForbidden) as caught:
        admin.add_unit(reviewer, "x1", "X", "union")
    assert caught.value.reason == "not_admin"
    assert isinstance(caught.value, PermissionDenied)
    with pytest.raises(AdminForbidden):
        admin.set_active(reviewer, pf.user_id("drafter_a"), False)


def test_a_revoked_admin_loses_their_rights_at_once(pf: Planflow, admin: OrgAdmin) -> None:
    union_admin = pf.user_id("union_admin")
    admin.rename_unit(union_admin, "branch_a", "Renamed", "Branch A 분회")
    admin.revoke_role(pf.user_id("fed_admin"), union_admin, "admin", "union")
    with pytest.raises(AdminForbidden):
        admin.rename_unit(union_admin, "branch_a", "Again", "Renamed")


# -- units -----------------------------------------------------------------------------------


def test_add_rename_and_move_units(pf: Planflow, admin: OrgAdmin) -> None:
    union_admin = pf.user_id("union_admin")
    before = generation(pf)
    unit_id = admin.add_unit(union_admin, "group-1", "  Group 一  ", "branch_a")
    assert pf.unit_id("group-1") == unit_id
    assert parent_of(pf, "group-1") == "branch_a"
    assert pf.org_snapshot().unit(unit_id).name == "Group 一"
    admin.rename_unit(union_admin, "group-1", "Group One", "Group 一")
    assert pf.org_snapshot().unit(unit_id).name == "Group One"
    admin.move_unit(union_admin, "group-1", "branch_b")
    assert parent_of(pf, "group-1") == "branch_b"
    # Every change moved the generation, so every process's cache reloads.
    assert generation(pf) == before + 3


@pytest.mark.parametrize(
    ("code", "reason"),
    [("branch_a", "duplicate_code"), ("Branch_A", "duplicate_code"), ("union2", "duplicate_code"),
     ("a b", "bad_code"), ("", "bad_code"), ("é", "bad_code"), ("x\x00", "bad_code")],
)  # fmt: skip
def test_unit_codes_are_checked(pf: Planflow, admin: OrgAdmin, code: str, reason: str) -> None:
    with pytest.raises(AdminRefused) as caught:
        admin.add_unit(pf.user_id("union_admin"), code, "Name", "union")
    assert caught.value.reason == reason
    assert pf.counts()["units"] == 6


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "x" * 301])
def test_unit_names_are_checked(pf: Planflow, admin: OrgAdmin, name: str) -> None:
    with pytest.raises(ValidationError):
        admin.add_unit(pf.user_id("union_admin"), "fine", name, "union")
    with pytest.raises(ValidationError):
        admin.rename_unit(pf.user_id("union_admin"), "branch_a", name, "Branch A 분회")


def test_a_rename_does_not_overwrite_one_made_meanwhile(pf: Planflow, admin: OrgAdmin) -> None:
    admin.rename_unit(pf.user_id("fed_admin"), "branch_a", "Theirs", "Branch A 분회")
    before = generation(pf)
    with pytest.raises(OrgConflict) as caught:
        admin.rename_unit(pf.user_id("union_admin"), "branch_a", "Mine", "Branch A 분회")
    assert caught.value.current == "Theirs"
    assert pf.org_snapshot().unit(pf.unit_id("branch_a")).name == "Theirs"
    assert generation(pf) == before


@pytest.mark.parametrize(
    ("actor", "code", "parent"),
    [("union_admin", "union", "branch_a"), ("fed_admin", "fed", "branch_c"),
     ("fed_admin", "union", "union")],
)  # fmt: skip
def test_no_unit_goes_below_itself(
    pf: Planflow, admin: OrgAdmin, actor: str, code: str, parent: str
) -> None:
    with pytest.raises(AdminRefused) as caught:
        admin.move_unit(pf.user_id(actor), code, parent)
    assert caught.value.reason == "cycle"
    assert parent_of(pf, "union") == "fed" and parent_of(pf, "fed") is None


@pytest.mark.parametrize(
    "change",
    [
        lambda a, u: a.add_unit(u, "x1", "X", "union2"),
        lambda a, u: a.rename_unit(u, "branch_c", "X", "Branch C"),
        lambda a, u: a.move_unit(u, "branch_c", "union"),
        lambda a, u: a.move_unit(u, "branch_a", "union2"),
        lambda a, u: a.move_unit(u, "no_such", "union"),
        lambda a, u: a.move_unit(u, "bad code\x00", "union"),
    ],
)
def test_units_outside_the_subtree_do_not_exist(pf: Planflow, admin: OrgAdmin, change: Any) -> None:
    with pytest.raises(NotFound):
        change(admin, pf.user_id("union_admin"))
    assert parent_of(pf, "branch_c") == "union2" and parent_of(pf, "branch_a") == "union"


# -- people ------------------------------------------------------------------------------------


def test_create_a_person_with_a_first_role(pf: Planflow, admin: OrgAdmin) -> None:
    user_id = admin.create_user(
        pf.user_id("union_admin"),
        username="li.wei",
        display_name=" Li Wei ",
        email="li@example.org",
        language="zh",
        password="a long password",
        role="reviewer",
        unit_code="branch_a",
        known_roles=ROLES,
    )
    with pf.session() as s:
        user = s.get(User, user_id)
        assert user is not None
        assert (user.username, user.display_name, user.language) == ("li.wei", "Li Wei", "zh")
        assert verify_password(user.password_hash, "a long password")
    org = pf.org_snapshot()
    assert user_id in org.holders("reviewer", pf.unit_id("branch_a"))


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"username": "Drafter_A"}, "duplicate_username"),
        ({"username": "drafter_c"}, "duplicate_username"),
        ({"username": "bad name"}, "bad_username"),
        ({"username": "x\x00"}, "bad_username"),
        ({"role": None, "unit_code": None}, "role_required"),
        ({"email": "nope"}, "invalid"),
        ({"language": "fr"}, "invalid"),
        ({"password": "short"}, "password_length"),
        ({"password": "\ud800" * 9}, "password_invalid"),
    ],
)
def test_a_new_person_is_checked(
    pf: Planflow, admin: OrgAdmin, kwargs: dict[str, Any], reason: str
) -> None:
    args: dict[str, Any] = {"username": "new", "display_name": "New", "role": "drafter",
                            "unit_code": "branch_a", "known_roles": ROLES}  # fmt: skip
    before = pf.counts()["users"]
    with pytest.raises(AdminRefused) as caught:
        admin.create_user(pf.user_id("union_admin"), **(args | kwargs))
    assert caught.value.reason == reason
    assert pf.counts()["users"] == before


def test_people_and_the_paged_search(pf: Planflow, admin: OrgAdmin) -> None:
    directory = AdminDirectory(pf.db)
    union = directory.people(scope(pf, "union_admin"))
    assert union.total == 11 and not union.more
    assert "drafter_c" not in {p.username for p in union.people}
    everyone = directory.people(scope(pf, "fed_admin"))
    assert everyone.total == pf.counts()["users"]
    found = directory.people(scope(pf, "fed_admin"), "DRAFTER")
    assert [p.username for p in found.people] == ["drafter_a", "drafter_b", "drafter_c"]
    assert directory.people(scope(pf, "union_admin"), "branch c").total == 0
    assert directory.people(scope(pf, "fed_admin"), "%").total == 0
    with pytest.raises(ValidationError):
        directory.people(scope(pf, "fed_admin"), "a\x00")
    person = directory.person(scope(pf, "union_admin"), pf.user_id("drafter_a"))
    assert [(r.role, r.unit_code, r.manageable) for r in person.roles] == [
        ("drafter", "branch_a", True)
    ]
    with pytest.raises(NotFound):
        directory.person(scope(pf, "union_admin"), pf.user_id("drafter_c"))


def test_profile_changes_check_what_the_admin_saw(pf: Planflow, admin: OrgAdmin) -> None:
    union_admin, uid = pf.user_id("union_admin"), pf.user_id("chair_a")
    seen = profile_stamp("Chair A", "chair_a@example.org", "en")
    admin.update_profile(union_admin, uid, display_name="Chair Ahn", email="", language="ko",
                         expected=seen)  # fmt: skip
    with pytest.raises(OrgConflict):
        admin.update_profile(union_admin, uid, display_name="Again", email="", language="ko",
                             expected=seen)  # fmt: skip
    with pf.session() as s:
        user = s.get(User, uid)
        assert user is not None and (user.display_name, user.language) == ("Chair Ahn", "ko")


def test_deactivating_and_a_new_password_end_sessions(pf: Planflow, admin: OrgAdmin) -> None:
    union_admin, uid = pf.user_id("union_admin"), pf.user_id("drafter_a")
    version = pf.accounts.account(uid).session_version  # type: ignore[union-attr]
    admin.set_password(union_admin, uid, "brand new password")
    assert pf.accounts.session_account(uid, version) is None
    version += 1
    assert pf.accounts.session_account(uid, version) is not None
    admin.set_active(union_admin, uid, False)
    assert pf.accounts.session_account(uid, version) is None
    assert uid not in pf.org_snapshot().active_users
    admin.set_active(union_admin, uid, True)
    assert uid in pf.org_snapshot().active_users


def test_accounts_with_roles_elsewhere_are_left_alone(pf: Planflow, admin: OrgAdmin) -> None:
    with pf.session() as s:
        pf.org_repo.assign_role(s, "officer", "inspector", "fed", known_roles=ROLES)
    union_admin, uid = pf.user_id("union_admin"), pf.user_id("officer")
    for change in (
        lambda: admin.set_active(union_admin, uid, False),
        lambda: admin.set_password(union_admin, uid, "a long password"),
        lambda: admin.update_profile(
            union_admin, uid, display_name="X", email="", language="en", expected=""
        ),
    ):
        with pytest.raises(AdminForbidden) as caught:
            change()
        assert caught.value.reason == "account_elsewhere"
    # Roles within the union admin's units remain theirs to give and take.
    assert admin.assign_role(union_admin, uid, "reviewer", "branch_a", known_roles=ROLES)
    assert not admin.assign_role(union_admin, uid, "reviewer", "branch_a", known_roles=ROLES)
    assert admin.revoke_role(union_admin, uid, "reviewer", "branch_a")
    assert not admin.revoke_role(union_admin, uid, "reviewer", "branch_a")
    with pytest.raises(NotFound):
        admin.revoke_role(union_admin, uid, "inspector", "fed")


def test_admins_cannot_lock_themselves_out(pf: Planflow, admin: OrgAdmin) -> None:
    me = pf.user_id("fed_admin")
    for change, reason in [
        (lambda: admin.set_active(me, me, False), "self_deactivate"),
        (lambda: admin.set_password(me, me, "a long password"), "self_password"),
        (lambda: admin.revoke_role(me, me, "admin", "fed"), "self_admin"),
    ]:
        with pytest.raises(AdminForbidden) as caught:
            change()
        assert caught.value.reason == reason
    assert scope_of(pf.org_snapshot(), me) is not None


def test_roles_are_checked(pf: Planflow, admin: OrgAdmin) -> None:
    union_admin, uid = pf.user_id("union_admin"), pf.user_id("drafter_a")
    with pytest.raises(AdminRefused):
        admin.assign_role(union_admin, uid, "emperor", "branch_a", known_roles=ROLES)
    with pytest.raises(NotFound):
        admin.assign_role(union_admin, uid, "drafter", "branch_c", known_roles=ROLES)
    with pytest.raises(NotFound):
        admin.assign_role(union_admin, pf.user_id("drafter_c"), "drafter", "branch_a",
                          known_roles=ROLES)  # fmt: skip
    # A role given bumps the generation: routing sees it at once.
    admin.assign_role(union_admin, uid, "reviewer", "union", known_roles=ROLES)
    assert uid in pf.org_snapshot().holders("reviewer", pf.unit_id("union"))


def test_counts_per_unit_and_plans_per_definition(pf: Planflow, admin: OrgAdmin) -> None:
    directory = AdminDirectory(pf.db)
    stats = directory.unit_stats()
    assert stats[pf.unit_id("union")].people == 6 + 1
    assert stats[pf.unit_id("branch_c")].roles == 1
    pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    assert directory.definitions_in_use(scope(pf, "union_admin")) == {("annual_plan", 5): 1}
    org = pf.org_snapshot()
    parents = {u.id: u.parent_id for u in org.units.values()}
    union2 = build_scope(0, parents, [pf.unit_id("union2")])
    assert union2 is not None and not union2.everything
    assert directory.definitions_in_use(union2) == {("annual_plan", 5): 0}


# -- open tasks follow a moved unit (``planflow.services.reroute``) ----------------------------

DUE_AT = datetime(2027, 1, 18, 8, 0, tzinfo=UTC)  # ten working days after T0: under_review


def submitted(pf: Planflow, branch: str = "a") -> int:
    plan_id = pf.create_plan(
        unit_code=f"branch_{branch}", year=2027, title=f"Plan {branch}", actor=f"drafter_{branch}"
    )
    items = {"sections": [{"title": "Work", "items": [{"text": "Dues drive", "due": 4}]}]}
    pf.content.set_content(
        plan_id,
        PlanContent.from_dict(items, year=2027),
        actor=f"drafter_{branch}",
        expected_version=None,
    )
    pf.fire(plan_id, "submit", f"chair_{branch}")
    return plan_id


def add_reviewer(pf: Planflow, username: str, unit: str) -> None:
    with pf.session() as s:
        pf.org_repo.add_user(s, username, username.title())
        pf.org_repo.assign_role(s, username, "reviewer", unit, known_roles=ROLES)


def told(pf: Planflow, plan_id: int, kind: str = "reroute") -> dict[str, dict[str, Any]]:
    names = pf.user_names()
    with pf.session() as s:
        rows = s.exec(
            select(Notification).where(Notification.plan_id == plan_id, Notification.kind == kind)
        ).all()
        return {names[n.user_id]: json.loads(n.payload) for n in rows}


def test_a_moved_branch_takes_its_waiting_plan_to_the_new_union(
    pf: Planflow, admin: OrgAdmin, cli: CliRun, database_url: str
) -> None:
    add_reviewer(pf, "reviewer_2", "union2")
    plan_id = submitted(pf)
    assert stored_plan(pf, plan_id).task_unit_id == pf.unit_id("union")
    version = stored_plan(pf, plan_id).version

    report = admin.move_unit(pf.user_id("fed_admin"), "branch_a", "union2")

    assert (report.rerouted, report.unchanged, report.failed) == ([plan_id], 0, [])
    plan = stored_plan(pf, plan_id)
    assert (plan.task_role, plan.task_unit_id, plan.version) == (
        "reviewer",
        pf.unit_id("union2"),
        version + 1,
    )
    assert plan.task_since == T0 and plan.task_due_at is not None  # the same task, elsewhere
    record = pf.audit_trail(plan_id)[-1]
    assert (record.action, record.actor) == ("reroute_task", "fed_admin")
    assert dict(record.detail) == {
        "from_unit": "union",
        "to_unit": "union2",
        "reason": "unit moved",
    }
    assert audit_repo.verify(pf.db).ok
    notice = told(pf, plan_id)
    assert set(notice) == {"reviewer_2"}
    assert (notice["reviewer_2"]["unit"], notice["reviewer_2"]["from_unit"]) == ("union2", "union")
    assert [t.plan_id for t in pf.inbox.tasks("reviewer_2")] == [plan_id]
    assert pf.inbox.tasks("reviewer") == []
    code, out, err = cli("--database-url", database_url, "notifications", "reviewer_2")
    assert code == 0 and "task moved to you at union2 (its unit moved)" in out, err

    # Running it again finds nothing to do: no new version, record or notice.
    again = admin.rerouter.reroute_subtree(pf.unit_id("branch_a"), pf.user_id("fed_admin"))
    assert (again.rerouted, again.unchanged, again.failed) == ([], 1, [])
    assert stored_plan(pf, plan_id).version == version + 1
    assert len(told(pf, plan_id)) == 1

    # The old union's reviewer no longer oversees the branch: the plan is not theirs to see.
    with pytest.raises(NotFound):
        pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "start_review", "reviewer_2")
    assert stored_plan(pf, plan_id).state == "under_review"
    assert audit_repo.verify(pf.db).ok


def test_an_escalated_task_starts_again_at_the_new_unit_and_escalates_up_the_new_tree(
    pf: Planflow, admin: OrgAdmin, clock: FixedClock
) -> None:
    fed_admin = pf.user_id("fed_admin")
    admin.add_unit(fed_admin, "region", "Region", "fed")
    admin.add_unit(fed_admin, "union3", "Union Three", "region")
    add_reviewer(pf, "region_reviewer", "region")
    add_reviewer(pf, "reviewer_3", "union3")
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    clock.set(DUE_AT + timedelta(hours=1))
    DeadlineProcessor(pf.service, "w1").run()
    plan = stored_plan(pf, plan_id)
    assert (plan.task_level, plan.task_escalated_unit_id) == (1, pf.unit_id("fed"))

    clock.set(DUE_AT + timedelta(hours=2))
    report = admin.move_unit(fed_admin, "branch_a", "union3")

    assert report.rerouted == [plan_id]
    plan = stored_plan(pf, plan_id)
    assert (plan.task_unit_id, plan.task_level, plan.task_escalated_unit_id) == (
        pf.unit_id("union3"),
        0,
        None,
    )
    # Overdue already: the first escalation of the timeline is due at once.
    assert (plan.timer_kind, plan.timer_at) == ("escalate", DUE_AT)
    detail = dict(pf.audit_trail(plan_id)[-1].detail)
    assert detail["escalation_reset"] == {"level": 1, "unit": "fed"}
    assert "reviewer_3" in told(pf, plan_id)

    clock.set(DUE_AT + timedelta(hours=3))
    ran = DeadlineProcessor(pf.service, "w1").run()
    assert ran.escalated == 1
    plan = stored_plan(pf, plan_id)
    # Up the new tree: union3 -> region (the old one went union -> fed).
    assert (plan.task_level, plan.task_escalated_unit_id) == (1, pf.unit_id("region"))
    # Escalated to the region's reviewer; the union's own, where it waits, is told
    # it was escalated away from them.
    assert set(told(pf, plan_id, "escalate")) >= {"region_reviewer"}
    assert "reviewer_3" in set(told(pf, plan_id, "escalated_away"))
    assert audit_repo.verify(pf.db).ok


def test_plans_without_a_task_to_move_and_outside_the_subtree_are_untouched(
    pf: Planflow, admin: OrgAdmin
) -> None:
    add_reviewer(pf, "reviewer_2", "union2")
    draft = pf.create_plan(unit_code="branch_a", year=2027, title="Draft", actor="drafter_a")
    approved = submitted(pf)
    pf.fire(approved, "start_review", "reviewer")
    pf.fire(approved, "approve", "reviewer")
    elsewhere = submitted(pf, "b")
    before = {p: stored_plan(pf, p).version for p in (draft, approved, elsewhere)}
    assert stored_plan(pf, approved).task_role is None

    report = admin.move_unit(pf.user_id("fed_admin"), "branch_a", "union2")

    assert (report.rerouted, report.unchanged, report.failed) == ([], 0, [])
    assert {p: stored_plan(pf, p).version for p in before} == before
    assert stored_plan(pf, elsewhere).task_unit_id == pf.unit_id("union")
    assert all(told(pf, p) == {} for p in before)


def test_a_repair_run_decides_a_plan_changed_meanwhile_again(pf: Planflow, admin: OrgAdmin) -> None:
    add_reviewer(pf, "reviewer_2", "union2")
    plan_id = submitted(pf)
    with pf.session() as s:  # the bare storage step: the tasks stay behind
        pf.org_repo.move_unit(s, "branch_a", "union2")
    rerouter = admin.rerouter
    decide = rerouter._decide
    calls = []

    def racing(pid: int) -> Any:
        decision = decide(pid)
        if not calls:  # someone comments between our read and our write, once
            pf.content.add_comment(pid, "Still here", actor="drafter_a")
        calls.append(pid)
        return decision

    rerouter._decide = racing  # type: ignore[method-assign]
    report = rerouter.reroute_subtree(pf.unit_id("branch_a"), pf.user_id("fed_admin"))
    assert (report.rerouted, report.failed) == ([plan_id], [])
    assert len(calls) == 2
    assert stored_plan(pf, plan_id).task_unit_id == pf.unit_id("union2")
    assert [r.action for r in pf.audit_trail(plan_id)][-2:] == ["comment", "reroute_task"]
    assert audit_repo.verify(pf.db).ok
