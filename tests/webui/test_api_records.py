"""The API's plan records and the caller's lists: content, comments, revisions,
the audit trail, creating a plan, notifications and the review queue."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_api import assert_problem, new_plan, token

from planflow.app import Planflow
from planflow.errors import NotFound

CONTENT = {
    "sections": [
        {"title": "Members", "items": [{"key": "i1", "text": "Recruit 50", "due": 4}]},
        {"title": "Checks", "items": [{"key": "i2", "text": "Financial check", "due": 12}]},
    ]
}


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def test_create_fill_and_submit_a_plan_through_the_api(api: FlaskClient, pf: Planflow) -> None:
    drafter, chair = token(pf, "drafter_a", "write"), token(pf, "chair_a", "write")
    made = api.post(
        "/api/v1/plans", headers=drafter, json={"unit": "branch_a", "year": 2027, "title": "P"}
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    plan = made.get_json()
    assert (plan["state"], plan["unit"]["code"], plan["item_count"]) == ("draft", "branch_a", 0)
    path = f"/api/v1/plans/{plan['id']}"
    got = api.get(f"{path}/content", headers=drafter).get_json()
    saved = api.put(
        f"{path}/content",
        headers=drafter,
        json={"content": CONTENT, "expected_version": got["version"]},
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    stale = api.put(
        f"{path}/content", headers=drafter, json={"content": CONTENT, "expected_version": 1}
    )
    assert (
        assert_problem(stale, 409, "stale_version")["current_version"]
        == saved.get_json()["version"]
    )
    back = api.get(f"{path}/content", headers=drafter).get_json()
    assert [s["title"] for s in back["content"]["sections"]] == ["Members", "Checks"]
    submitted = api.post(f"{path}/actions/submit", headers=chair, json={})
    assert submitted.get_json()["to_state"] == "submitted"
    assert pf.plan(plan["id"]).item_count == 2


def test_bad_content_lists_every_problem_and_saves_nothing(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    version = pf.plan(plan_id).version
    bad = {"sections": [{"title": "", "items": [{"key": "i1", "text": "", "due": 13}]}]}
    body = assert_problem(
        api.put(f"/api/v1/plans/{plan_id}/content", headers=token(pf, "drafter_a", "write"),
                json={"content": bad}),
        422,
        "content_invalid",
    )  # fmt: skip
    assert len(body["params"]["details"]) >= 2
    assert pf.plan(plan_id).version == version


def test_a_plan_at_a_unit_one_may_not_draft_for_is_refused(api: FlaskClient, pf: Planflow) -> None:
    refused = api.post(
        "/api/v1/plans",
        headers=token(pf, "drafter_b", "write"),
        json={"unit": "branch_a", "year": 2027, "title": "P"},
    )
    assert_problem(refused, 403, "permission_denied")
    assert pf.plans(as_user=None).items == ()


def test_comments_revisions_diff_and_audit(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="More")
    pf.content.set_content(
        plan_id,
        pf.content.content(plan_id).__class__.from_dict(CONTENT, year=2027),
        actor="drafter_a",
    )
    pf.fire(plan_id, "resubmit", "chair_a")
    officer = token(pf, "officer", "write")
    path = f"/api/v1/plans/{plan_id}"
    said = api.post(f"{path}/comments", headers=officer, json={"body": "Good", "item_key": "i2"})
    assert said.status_code == 200, said.get_data(as_text=True)
    comments = api.get(f"{path}/comments", headers=officer).get_json()["items"]
    # The return's reason is among the comments, marked as the decision it came with.
    assert [(c["author"], c["body"], c["item_key"], c["kind"], c["action"]) for c in comments] == [
        ("reviewer", "More", None, "decision", "return_for_revision"),
        ("officer", "Good", "i2", "comment", None),
    ]
    returned = next(r for r in pf.audit_trail(plan_id) if r.action == "return_for_revision")
    assert (comments[0]["state"], comments[0]["id"]) == (returned.to_state, returned.seq)
    assert comments[1]["state"] is None
    revisions = api.get(f"{path}/revisions", headers=officer).get_json()["items"]
    assert [r["number"] for r in revisions] == [1, 2]
    diff = api.get(f"{path}/revisions/1/diff/2", headers=officer).get_json()
    assert diff["changes"]["added"] and diff["changes"]["changed"]
    trail = api.get(f"{path}/audit", headers=officer).get_json()["items"]
    assert [e["action"] for e in trail][-2:] == ["resubmit", "comment"]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(trail))
    # Another branch sees none of it.
    stranger = token(pf, "drafter_b", "write")
    for sub in ("comments", "revisions", "audit", "content", "revisions/1/diff/2"):
        assert_problem(api.get(f"{path}/{sub}", headers=stranger), 404, "not_found")
    assert_problem(
        api.post(f"{path}/comments", headers=stranger, json={"body": "x"}), 404, "not_found"
    )
    assert len(pf.content.comments(plan_id)) == 2


def test_notifications_and_the_review_queue(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    reviewer = token(pf, "reviewer", "write")
    queue = api.get("/api/v1/me/review-queue", headers=reviewer).get_json()
    assert [e["plan"]["id"] for e in queue["mine"]] == [plan_id] and queue["oversees"] is True
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="Add targets")
    chair = token(pf, "chair_a", "write")
    got = api.get("/api/v1/me/notifications", headers=chair).get_json()
    assert got["unread"] >= 1 and any(n["plan_id"] == plan_id for n in got["items"])
    first = got["items"][0]["id"]
    marked = api.post("/api/v1/me/notifications/read", headers=chair, json={"ids": [first]})
    assert marked.get_json() == {"marked": 1}
    theirs = api.post("/api/v1/me/notifications/read", headers=reviewer, json={"ids": [first]})
    assert_problem(theirs, 404, "not_found")
    too_big = api.post("/api/v1/me/notifications/read", headers=chair, json={"ids": [2**40]})
    assert_problem(too_big, 422, "invalid_request")
    everything = api.post("/api/v1/me/notifications/read", headers=chair, json={})
    assert everything.status_code == 200
    assert api.get("/api/v1/me/notifications", headers=chair).get_json()["unread"] == 0


def test_the_library_refuses_an_id_no_row_can_have(pf: Planflow, org: Any) -> None:
    with pytest.raises(NotFound):
        pf.inbox.mark_read("officer", [2**63])
