"""``/api/v1/delegations`` (委托): list, add, end, the deputy's tasks; bad input is 422
with the field named; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_api import assert_problem, token
from webui_support import Plans

from planflow.app import Planflow

TODAY = "2027-01-04"  # the clock of the suite (conftest's T0)
WEEK = "2027-01-10"


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def test_a_deputy_is_named_sees_the_task_approves_and_the_delegation_ends(
    api: FlaskClient, pf: Planflow, plans: Plans, org: Any
) -> None:
    plan_id = plans.create()
    plans.fire(plan_id, ("submit", "chair_a"), ("start_review", "reviewer"))
    mine = token(pf, "reviewer", "write")
    added = api.post(
        "/api/v1/delegations",
        json={"deputy": "officer", "starts_on": TODAY, "ends_on": WEEK, "reason": "Leave"},
        headers=mine,
    )
    assert added.status_code == 200, added.get_data(as_text=True)
    body = added.get_json()
    assert (body["delegator"], body["deputy"], body["status"]) == (
        "reviewer",
        "officer",
        "in_force",
    )
    deputy = token(pf, "officer", "write")
    tasks = api.get("/api/v1/delegations/tasks", headers=deputy).get_json()["items"]
    assert [(t["task"]["plan_id"], t["on_behalf_of"]) for t in tasks] == [(plan_id, "reviewer")]
    listed = api.get("/api/v1/delegations", headers=deputy).get_json()["items"]
    assert [d["id"] for d in listed] == [body["id"]]
    fired = api.post(f"/api/v1/plans/{plan_id}/actions/approve", json={}, headers=deputy)
    assert fired.status_code == 200, fired.get_data(as_text=True)
    assert pf.audit_trail(plan_id)[-1].on_behalf_of == "reviewer"
    ended = api.post(f"/api/v1/delegations/{body['id']}/end", headers=mine).get_json()
    assert ended == {"id": body["id"], "ended": True}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (
            {"deputy": "reviewer", "starts_on": TODAY, "ends_on": TODAY},
            "delegate_to_self",
            "deputy",
        ),
        ({"deputy": "ghost", "starts_on": TODAY, "ends_on": TODAY}, "unknown_deputy", "deputy"),
        (
            {"deputy": "officer", "starts_on": "yesterday", "ends_on": TODAY},
            "invalid_date",
            "starts_on",
        ),
        (
            {"deputy": "officer", "starts_on": TODAY, "ends_on": "2027-02-30"},
            "invalid_date",
            "ends_on",
        ),
        (
            {"deputy": "officer", "starts_on": WEEK, "ends_on": TODAY},
            "delegation_ends_before_start",
            "ends_on",
        ),
        (
            {"deputy": "officer", "starts_on": TODAY, "ends_on": TODAY, "workflow": "nope"},
            "unknown_workflow",
            "workflow",
        ),
    ],
)
def test_bad_delegations_are_422_naming_the_field(
    api: FlaskClient, pf: Planflow, org: Any, body: dict[str, str], code: str, field: str
) -> None:
    answer = api.post("/api/v1/delegations", json=body, headers=token(pf, "reviewer", "write"))
    problem = assert_problem(answer, 422, code)
    assert problem["params"]["field"] == field
    assert pf.delegations.list("reviewer") == []


def test_an_overlap_is_refused_and_a_read_token_cannot_add(
    api: FlaskClient, pf: Planflow, org: Any
) -> None:
    body = {"deputy": "officer", "starts_on": TODAY, "ends_on": WEEK}
    writer = token(pf, "reviewer", "write")
    assert api.post("/api/v1/delegations", json=body, headers=writer).status_code == 200
    again = api.post("/api/v1/delegations", json={**body, "deputy": "reviewer2"}, headers=writer)
    assert assert_problem(again, 422, "delegation_overlaps")["params"]["field"] == "starts_on"
    reader = token(pf, "reviewer", "read")
    assert_problem(api.post("/api/v1/delegations", json=body, headers=reader), 403, "token_scope")
    assert_problem(api.post("/api/v1/delegations/999999/end", headers=writer), 404, "not_found")
    unknown_field = api.post("/api/v1/delegations", json={**body, "extra": 1}, headers=writer)
    assert unknown_field.status_code in (400, 422)


def test_the_openapi_document_has_the_delegation_endpoints(api: FlaskClient) -> None:
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/delegations", "/api/v1/delegations/tasks"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/delegations"])
    assert "422" in paths["/api/v1/delegations"]["post"]["responses"]
    assert "/api/v1/delegations/{delegation_id}/end" in paths
