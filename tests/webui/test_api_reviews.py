"""Return to a chosen step and bulk approve/return through the API, on both databases."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from test_api import api, assert_problem, new_plan, token

from planflow.app import Planflow

__all__ = ["api"]


def under_review(pf: Planflow) -> int:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "start_review", "reviewer")
    return plan_id


def test_return_to_through_the_api(api: FlaskClient, pf: Planflow, app: Flask) -> None:
    plan_id = under_review(pf)
    path = f"/api/v1/plans/{plan_id}/return-to"
    write = token(pf, "reviewer", "write")
    wrong = assert_problem(
        api.post(path, headers=write, json={"state": "approved", "comment": "No."}),
        422,
        "guard_failed",
    )
    assert "return_target_not_allowed" in str(wrong["params"])
    done = api.post(path, headers=write, json={"state": "draft", "comment": "Budget."})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert (done.get_json()["to_state"], done.get_json()["action"]) == ("draft", "return_to")
    assert_problem(
        api.post(
            path, headers=token(pf, "drafter_b", "write"), json={"state": "x", "comment": "y"}
        ),
        404,
        "not_found",
    )


def test_bulk_through_the_api(api: FlaskClient, pf: Planflow, app: Flask) -> None:
    a, b = under_review(pf), under_review(pf)
    stale = pf.plan(b).version
    pf.content.add_comment(b, "Meanwhile.", actor="reviewer2")
    body = {
        "action": "approve",
        "comment": "Fine.",
        "items": [
            {"plan_id": a, "expected_version": pf.plan(a).version},
            {"plan_id": b, "expected_version": stale},
        ],
    }
    done = api.post("/api/v1/plans/bulk", headers=token(pf, "reviewer", "write"), json=body)
    assert done.status_code == 200, done.get_data(as_text=True)
    items = done.get_json()["items"]
    assert [(i["plan_id"], i["done"], i["to_state"], i["code"]) for i in items] == [
        (a, True, "approved", None),
        (b, False, None, "stale_version"),
    ]
    twice = {**body, "items": [body["items"][1], body["items"][1]]}
    assert_problem(
        api.post("/api/v1/plans/bulk", headers=token(pf, "reviewer", "write"), json=twice),
        422,
        "bulk_duplicate",
    )
