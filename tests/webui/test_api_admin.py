"""The organisation through the API: only for admins, only within their units."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_api import assert_problem, token

from planflow.app import Planflow


@pytest.fixture
def api(app: Flask, pf: Planflow) -> FlaskClient:
    with pf.session() as s:
        for name, unit in (("union_admin", "union"), ("branch_admin", "branch_a")):
            pf.org_repo.add_user(s, name, name.replace("_", " ").title())
            pf.org_repo.assign_role(s, name, "admin", unit, known_roles=("admin",))
    return app.test_client()


def test_an_admin_sees_and_changes_only_their_units(api: FlaskClient, pf: Planflow) -> None:
    branch = token(pf, "branch_admin", "admin")
    units = api.get("/api/v1/admin/units", headers=branch).get_json()["items"]
    assert [u["code"] for u in units] == ["branch_a"]
    people = api.get("/api/v1/admin/people", headers=branch).get_json()
    assert {p["username"] for p in people["items"]} == {"drafter_a", "chair_a", "branch_admin"}

    made = api.post(
        "/api/v1/admin/people",
        headers=branch,
        json={
            "username": "new_drafter",
            "display_name": "New",
            "role": "drafter",
            "unit": "branch_a",
        },
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    assert pf.viewer("new_drafter").own_units == {pf.unit_id("branch_a")}
    # Outside their units: refused, and nothing written.
    outside = api.put("/api/v1/admin/people/new_drafter/roles/drafter/branch_b", headers=branch)
    assert outside.status_code in (403, 404) and outside.mimetype == "application/problem+json"
    assert_problem(
        api.put("/api/v1/admin/people/drafter_b/active", headers=branch, json={"active": False}),
        404,
        "not_found",
    )
    union = token(pf, "union_admin", "admin")
    moved = api.put("/api/v1/admin/people/new_drafter/roles/drafter/branch_b", headers=union)
    assert moved.get_json() == {"username": "new_drafter", "changed": True}
    gone = api.delete("/api/v1/admin/people/new_drafter/roles/drafter/branch_a", headers=union)
    assert gone.get_json()["changed"] is True
    assert pf.viewer("new_drafter").own_units == {pf.unit_id("branch_b")}
    # A role no definition has names itself and the roles there are (the walk saw
    # only {"reason": "unknown_role"}).
    pope = api.put("/api/v1/admin/people/new_drafter/roles/pope/branch_b", headers=union)
    refused = assert_problem(pope, 422, "unknown_role")
    assert refused["params"]["role"] == "pope" and "drafter" in refused["params"]["known"]


@pytest.mark.parametrize(("user", "scope"), [("officer", "admin"), ("union_admin", "write")])
def test_not_an_admin_or_not_an_admin_token(
    api: FlaskClient, pf: Planflow, user: str, scope: str
) -> None:
    got = api.get("/api/v1/admin/people", headers=token(pf, user, scope))
    body: dict[str, Any] = got.get_json()
    assert got.status_code == 403 and body["code"] in ("admin_forbidden", "token_scope"), body
