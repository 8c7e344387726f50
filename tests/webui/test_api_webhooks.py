"""Webhooks and robots through the API: admin scope, only within the admin's units."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_api import assert_problem, token

from planflow.app import Planflow

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def api(app: Flask, pf: Planflow) -> FlaskClient:
    with pf.session() as s:
        for name, unit in (("union_admin", "union"), ("branch_admin", "branch_a")):
            pf.org_repo.add_user(s, name, name.replace("_", " ").title())
            pf.org_repo.assign_role(s, name, "admin", unit, known_roles=("admin",))
    return app.test_client()


def test_add_list_deliveries_redeliver_remove(api: FlaskClient, pf: Planflow) -> None:
    union = token(pf, "union_admin", "admin")
    made = api.post(
        "/api/v1/admin/webhooks",
        headers=union,
        json={"unit": "union", "url": URL, "events": ["plan.comment"], "allow_private": True},
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert body["secret"].startswith("whsec_") and body["webhook"]["kind"] == "webhook"
    robot = api.post(
        "/api/v1/admin/webhooks",
        headers=union,
        json={
            "unit": "branch_a",
            "url": "http://127.0.0.1:9/robot/send?access_token=t",
            "events": ["plan.comment"],
            "kind": "dingtalk",
            "secret": "SECabc",
            "language": "zh",
            "allow_private": True,
        },
    ).get_json()
    assert robot["secret"] == "" and robot["webhook"]["language"] == "zh"
    listed = api.get("/api/v1/admin/webhooks", headers=union).get_json()["items"]
    assert [w["kind"] for w in listed] == ["webhook", "dingtalk"]
    assert all("secret" not in w for w in listed)
    # The branch's admin sees the branch's robot only, and cannot touch the union's webhook.
    branch = token(pf, "branch_admin", "admin")
    mine = api.get("/api/v1/admin/webhooks", headers=branch).get_json()["items"]
    assert [w["id"] for w in mine] == [robot["webhook"]["id"]]
    hook_id = body["webhook"]["id"]
    assert_problem(
        api.delete(f"/api/v1/admin/webhooks/{hook_id}", headers=branch), 404, "not_found"
    )

    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    pf.content.add_comment(plan_id, "hello", actor="drafter_a")
    log = api.get("/api/v1/admin/deliveries", headers=union).get_json()["items"]
    assert sorted(d["webhook_id"] for d in log) == sorted([hook_id, robot["webhook"]["id"]])
    theirs = api.get("/api/v1/admin/deliveries", headers=branch).get_json()["items"]
    assert [d["webhook_id"] for d in theirs] == [robot["webhook"]["id"]]
    union_delivery = next(d for d in log if d["webhook_id"] == hook_id)
    assert_problem(
        api.post(f"/api/v1/admin/deliveries/{union_delivery['id']}/redeliver", headers=branch),
        404,
        "not_found",
    )
    again = api.post(f"/api/v1/admin/deliveries/{union_delivery['id']}/redeliver", headers=union)
    assert again.status_code == 200 and again.get_json()["status"] == "pending"
    gone = api.delete(f"/api/v1/admin/webhooks/{hook_id}", headers=union)
    assert gone.status_code == 200 and gone.get_json()["active"] is False


def test_refusals_are_problems(api: FlaskClient, pf: Planflow) -> None:
    union = token(pf, "union_admin", "admin")

    def add(**fields: object) -> object:
        data = {"unit": "union", "url": URL, "events": ["plan.comment"], **fields}
        return api.post("/api/v1/admin/webhooks", headers=union, json=data)

    assert_problem(add(), 422, "webhook_url_private")
    assert_problem(add(kind="feishu", allow_private=True), 422, "robot_secret_required")
    assert_problem(add(url="ftp://x/", allow_private=True), 422, "webhook_url_invalid")
    assert add(events=["nope"]).status_code == 422
    assert add(kind="slack").status_code == 422
    assert_problem(add(unit="fed", allow_private=True), 403, "permission_denied")
    write = token(pf, "union_admin", "write")
    assert api.get("/api/v1/admin/webhooks", headers=write).status_code == 403
    assert pf.webhooks.list() == []
