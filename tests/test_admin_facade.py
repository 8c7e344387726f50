"""``Planflow.admin``: an administrator's changes named by username and unit code.

The rule itself is tested in test_admin.py (``services.org_admin``); here the
front door a script, the admin pages and the HTTP API share.
"""

from __future__ import annotations

from typing import Any

import pytest

import planflow
from planflow import AdminForbidden, AdminRefused, NotFound, OrgConflict, Planflow

ROLES = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin", "committee")


@pytest.fixture
def with_admins(pf: Planflow, org: Any) -> Planflow:
    pf.org.add_unit("union2", "Union Two", "fed")
    pf.org.add_unit("branch_c", "Branch C", "union2")
    for username, role, unit in [
        ("fed_admin", "admin", "fed"),
        ("union_admin", "admin", "union"),
        ("drafter_c", "drafter", "branch_c"),
    ]:
        pf.org.add_user(username, username.title())
        pf.org.assign_role(username, role, unit)
    return pf


def test_a_person_is_created_given_roles_and_deactivated_by_name(with_admins: Planflow) -> None:
    pf = with_admins
    pf.admin.create_user(
        "union_admin", "ann", "Ann", email="ann@example.org", role="drafter", unit="branch_a"
    )
    assert pf.admin.assign_role("union_admin", "ann", "reviewer", "union") is True
    assert pf.admin.assign_role("union_admin", "ann", "reviewer", "union") is False
    ann = pf.admin.person("union_admin", "ann")
    assert {(r.role, r.unit_code) for r in ann.roles} == {
        ("drafter", "branch_a"),
        ("reviewer", "union"),
    }
    assert "ann" in [p.username for p in pf.admin.people("union_admin", "an").people]

    pf.admin.update_profile(
        "union_admin", "ann", display_name="Ann Lee", email="", language="zh", expected=ann.stamp
    )
    with pytest.raises(OrgConflict):  # the profile changed since the stamp was read
        pf.admin.update_profile(
            "union_admin", "ann", display_name="X", email="", language="en", expected=ann.stamp
        )
    pf.admin.set_active("union_admin", "ann", False)
    assert [u.active for u in pf.org.users() if u.username == "ann"] == [False]
    assert pf.admin.revoke_role("union_admin", "ann", "reviewer", "union") is True


def test_units_are_added_renamed_and_moved_by_code(with_admins: Planflow) -> None:
    pf = with_admins
    pf.admin.add_unit("fed_admin", "branch_d", "Branch D", "union")
    pf.admin.rename_unit("fed_admin", "branch_d", "Branch Delta", expected_name="Branch D")
    with pytest.raises(OrgConflict):
        pf.admin.rename_unit("fed_admin", "branch_d", "B", expected_name="Branch D")
    moved = pf.admin.move_unit("fed_admin", "branch_d", "union2")
    assert (moved.unit.code, moved.parent.code if moved.parent else None) == ("branch_d", "union2")
    with pytest.raises(AdminRefused) as refused:
        pf.admin.move_unit("fed_admin", "union", "branch_a")
    assert refused.value.reason == "cycle"


def test_someone_outside_the_units_is_answered_like_no_one(with_admins: Planflow) -> None:
    pf = with_admins
    # union_admin manages union and below; drafter_c is at union2's branch.
    for name in ("drafter_c", "nobody_at_all"):
        with pytest.raises(NotFound):
            pf.admin.set_active("union_admin", name, False)
        with pytest.raises(NotFound):
            pf.admin.person("union_admin", name)
    with pytest.raises(NotFound):
        pf.admin.assign_role("union_admin", "drafter_c", "reviewer", "union")


def test_a_non_admin_learns_nothing_about_usernames(with_admins: Planflow) -> None:
    pf = with_admins
    for name in ("drafter_c", "nobody_at_all"):
        with pytest.raises(AdminForbidden) as forbidden:
            pf.admin.set_active("drafter_c", name, False)
        assert forbidden.value.code == "admin_forbidden"


def test_the_admin_names_are_public() -> None:
    for name in ("AdminForbidden", "AdminRefused", "OrgConflict", "Person", "PeoplePage"):
        assert name in planflow.__all__
