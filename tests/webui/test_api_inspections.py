"""A plan's inspection through the API: the sheet, both columns, finishing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_api import assert_problem, new_plan, token

from planflow.app import Planflow


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def scheduled(pf: Planflow) -> int:
    plan_id = new_plan(pf)
    for action, actor in (
        ("submit", "chair_a"),
        ("start_review", "reviewer"),
        ("approve", "reviewer"),
        ("schedule_inspection", "officer"),
    ):
        pf.fire(plan_id, action, actor)
    return plan_id


def test_an_inspection_from_self_assessment_to_acceptance(api: FlaskClient, pf: Planflow) -> None:
    plan_id = scheduled(pf)
    path = f"/api/v1/plans/{plan_id}/inspection"
    inspector, chair = token(pf, "inspector", "write"), token(pf, "chair_a", "write")
    sheet = api.get(path, headers=inspector | {"Accept-Language": "zh"}).get_json()
    codes = [c["code"] for c in sheet["criteria"]]
    assert codes and sheet["outcome"] is None
    own = [{"code": code, "score": 1} for code in codes[:2]]
    saved = api.put(f"{path}/self-assessment", headers=chair, json={"scores": own})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    # The unit may not fill the inspector's column, nor the inspector the unit's.
    assert_problem(
        api.put(f"{path}/scores", headers=chair, json={"scores": own}), 403, "permission_denied"
    )
    assert_problem(
        api.put(f"{path}/self-assessment", headers=inspector, json={"scores": own}),
        403,
        "permission_denied",
    )
    full = [{"code": c["code"], "score": c["points"]} for c in sheet["criteria"]]
    version = pf.plan(plan_id).version
    stale = api.put(
        f"{path}/scores", headers=inspector, json={"scores": full, "expected_version": version - 1}
    )
    assert_problem(stale, 409, "stale_version")
    scored = api.put(
        f"{path}/scores", headers=inspector, json={"scores": full, "expected_version": version}
    )
    assert scored.status_code == 200, scored.get_data(as_text=True)
    inspected = api.post(f"/api/v1/plans/{plan_id}/actions/inspect", headers=inspector, json={})
    assert inspected.get_json()["to_state"] == "inspected", inspected.get_data(as_text=True)
    done = api.post(f"{path}/finish", headers=inspector, json={"comment": "Well done"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert (done.get_json()["action"], done.get_json()["to_state"]) == (
        "accept",
        pf.plan(plan_id).state,
    )
    after = api.get(path, headers=chair).get_json()
    assert after["outcome"]["passed"] is True
    assert {r["code"]: r["self_score"] for r in after["scores"]}.get(codes[0]) in (1, None)


def test_unknown_criteria_and_strangers(api: FlaskClient, pf: Planflow) -> None:
    plan_id = scheduled(pf)
    path = f"/api/v1/plans/{plan_id}/inspection"
    bad = api.put(
        f"{path}/scores",
        headers=token(pf, "inspector", "write"),
        json={"scores": [{"code": "ZZ9", "score": 1}]},
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    stranger = token(pf, "drafter_b", "write")
    assert_problem(api.get(path, headers=stranger), 404, "not_found")
    assert_problem(api.post(f"{path}/finish", headers=stranger, json={}), 404, "not_found")
    assert pf.plan(plan_id).state == "inspection_scheduled"


def test_accepting_a_failed_sheet_names_the_criteria(api: FlaskClient, pf: Planflow) -> None:
    plan_id = scheduled(pf)
    path = f"/api/v1/plans/{plan_id}/inspection"
    inspector = token(pf, "inspector", "write")
    sheet = api.get(path, headers=inspector).get_json()
    mandatory = next(c for c in sheet["criteria"] if c["mandatory"])
    scores = [
        {"code": c["code"], "score": 0 if c is mandatory else c["points"]}
        for c in sheet["criteria"]
    ]
    assert api.put(f"{path}/scores", headers=inspector, json={"scores": scores}).status_code == 200
    pf.fire(plan_id, "inspect", "inspector")
    accept = f"/api/v1/plans/{plan_id}/actions/accept"
    for language in ("en", "zh", "ko"):
        refused = api.post(accept, headers=inspector | {"Accept-Language": language}, json={})
        problem = assert_problem(refused, 422, "guard_failed")
        [refusal] = problem["params"]["refusals"]
        assert refusal["code"] == "inspection_failed"
        [criterion] = refusal["params"]["criteria"]
        assert criterion["code"] == mandatory["code"]
        worded = api.get(path, headers=inspector | {"Accept-Language": language}).get_json()
        text = next(c["text"] for c in worded["criteria"] if c["code"] == mandatory["code"])
        assert criterion["text"][language] == text
        assert f"{mandatory['code']} {text}" in problem["detail"]
    assert pf.plan(plan_id).state == "inspected"
