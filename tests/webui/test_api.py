"""The HTTP API under /api/v1: tokens, the same rules as the UI, problem details.

Every test runs on SQLite and PostgreSQL (the ``app`` fixture builds on ``pf``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent

PROBLEM = "application/problem+json"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def token(pf: Planflow, username: str, scope: str = "read") -> dict[str, str]:
    return bearer(pf.tokens.create(username, scope=scope).secret)


def new_plan(pf: Planflow, unit: str = "branch_a", drafter: str = "drafter_a") -> int:
    plan_id = pf.create_plan(unit_code=unit, year=2027, title=f"Plan {unit}", actor=drafter)
    body = PlanContent.from_dict(
        {"sections": [{"title": "Work", "items": [{"key": "i1", "text": "Recruit", "due": 3}]}]},
        year=2027,
    )
    pf.content.set_content(plan_id, body, actor=drafter)
    return plan_id


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    # A client of its own: no cookie of a signed-in browser.
    return app.test_client()


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert (body["status"], body["code"]) == (status, code), body
    assert body["type"] == f"urn:planflow:problem:{code}"
    assert body["title"] and body["detail"]
    return body


# -- tokens --------------------------------------------------------------------------------


def test_no_token_a_bad_token_or_a_cookie_alone_opens_nothing(
    api: FlaskClient, client: Any, auth: Any, pf: Planflow
) -> None:
    assert_problem(api.get("/api/v1/plans"), 401, "token_missing")
    assert_problem(api.get("/api/v1/plans", headers=bearer("pft_nonsense")), 401, "token_invalid")
    assert_problem(
        api.get("/api/v1/plans", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
        401,
        "token_missing",
    )
    # Signed in in the browser: the session cookie is not a way into the API.
    auth.login("drafter_a")
    assert_problem(client.get("/api/v1/plans"), 401, "token_missing")


def test_revoked_expired_and_deactivated_tokens_authenticate_nobody(
    api: FlaskClient, pf: Planflow, clock: FixedClock
) -> None:
    made = pf.tokens.create("officer", expires_at=clock.now() + timedelta(days=1))
    headers = bearer(made.secret)
    assert api.get("/api/v1/plans", headers=headers).status_code == 200
    assert pf.tokens.of_user("officer")[0].last_used_at == clock.now()
    clock.advance(timedelta(days=1))
    assert_problem(api.get("/api/v1/plans", headers=headers), 401, "token_expired")

    other = pf.tokens.create("officer")
    assert api.get("/api/v1/plans", headers=bearer(other.secret)).status_code == 200
    pf.tokens.revoke(other.token.id, actor="officer")
    assert_problem(api.get("/api/v1/plans", headers=bearer(other.secret)), 401, "token_invalid")

    third = pf.tokens.create("reviewer")
    with pf.session() as s:
        pf.org_repo.set_active(s, "reviewer", False)
    assert_problem(api.get("/api/v1/plans", headers=bearer(third.secret)), 401, "token_invalid")


def test_the_secret_is_not_stored_and_tokens_are_listed_without_it(pf: Planflow, org: Any) -> None:
    made = pf.tokens.create("officer", scope="write", name="dashboard")
    assert made.secret.startswith("pft_") and len(made.secret) > 40
    assert made.secret not in repr(made)
    [listed] = pf.tokens.of_user("officer")
    assert (listed.name, listed.scope, listed.prefix) == ("dashboard", "write", made.secret[:12])
    with pf.db.read() as conn:
        stored = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM api_token")]
    assert all(made.secret not in str(value) for row in stored for value in row)


def test_only_the_owner_or_an_admin_above_may_revoke(pf: Planflow, org: Any) -> None:
    from planflow.errors import NotFound

    made = pf.tokens.create("drafter_a")
    with pytest.raises(NotFound):
        pf.tokens.revoke(made.token.id, actor="drafter_b")
    with pf.session() as s:
        pf.org_repo.add_user(s, "union_admin", "Union Admin")
        pf.org_repo.assign_role(
            s, "union_admin", "admin", "union", known_roles=("admin", "drafter")
        )
    assert pf.tokens.revoke(made.token.id, actor="union_admin").revoked_at is not None


def test_bad_token_requests_are_refused_with_codes(
    pf: Planflow, org: Any, clock: FixedClock
) -> None:
    from planflow.errors import ValidationError

    for kwargs, code in (
        ({"scope": "root"}, "token_scope_invalid"),
        ({"name": "   "}, "token_name_required"),
        ({"expires_at": clock.now() - timedelta(seconds=1)}, "token_expiry_invalid"),
        ({"expires_at": clock.now() + timedelta(days=3000)}, "token_expiry_invalid"),
    ):
        with pytest.raises(ValidationError) as info:
            pf.tokens.create("officer", **kwargs)
        assert info.value.code == code
    assert pf.tokens.of_user("officer") == []


# -- the same rules as the UI ------------------------------------------------------------------


def test_the_list_holds_exactly_the_plans_the_user_sees_in_the_ui(
    api: FlaskClient, pf: Planflow
) -> None:
    draft_a = new_plan(pf)
    draft_b = new_plan(pf, "branch_b", "drafter_b")
    pf.fire(draft_a, "submit", "chair_a")
    for user in ("officer", "drafter_a", "drafter_b", "inspector"):
        got = api.get("/api/v1/plans?page_size=200", headers=token(pf, user)).get_json()
        seen = pf.plans(as_user=user, page_size=200)
        assert [p["id"] for p in got["items"]] == [p.id for p in seen.items], user
    officer = api.get("/api/v1/plans", headers=token(pf, "officer")).get_json()
    assert [p["id"] for p in officer["items"]] == [draft_a]  # draft_b was never submitted
    assert officer["items"][0]["unit"] == {"code": "branch_a", "name": "Branch A 분회"}
    assert draft_b not in [p["id"] for p in officer["items"]]


def test_filters_and_pages(api: FlaskClient, pf: Planflow) -> None:
    ids = [new_plan(pf) for _ in range(3)]
    headers = token(pf, "drafter_a")
    first = api.get("/api/v1/plans?order=id&page_size=2", headers=headers).get_json()
    second = api.get("/api/v1/plans?order=id&page_size=2&page=2", headers=headers).get_json()
    assert [p["id"] for p in first["items"]] == ids[:2] and first["has_more"] is True
    assert [p["id"] for p in second["items"]] == ids[2:] and second["has_more"] is False
    none = api.get("/api/v1/plans?state=approved", headers=headers).get_json()
    assert none["items"] == []
    typo = assert_problem(
        api.get("/api/v1/plans?state=aproved", headers=headers), 422, "unknown_state"
    )
    assert typo["params"]["state"] == "aproved" and "approved" in typo["params"]["known"]
    body = assert_problem(
        api.get("/api/v1/plans?page_size=0&colour=red", headers=headers), 422, "invalid_request"
    )
    assert {e["field"] for e in body["errors"]} == {"page_size", "colour"}
    body = assert_problem(
        api.get("/api/v1/plans?unit=nowhere", headers=headers), 422, "invalid_request"
    )
    assert body["errors"][0]["field"] == "unit"


def test_a_foreign_plan_answers_exactly_like_a_missing_one(api: FlaskClient, pf: Planflow) -> None:
    draft_b = new_plan(pf, "branch_b", "drafter_b")
    headers = token(pf, "drafter_a", "write")
    for method, path in (
        ("get", "/api/v1/plans/{}"),
        ("post", "/api/v1/plans/{}/actions/submit"),
    ):
        foreign = getattr(api, method)(path.format(draft_b), headers=headers, json={})
        missing = getattr(api, method)(path.format(draft_b + 1000), headers=headers, json={})
        a, b = assert_problem(foreign, 404, "not_found"), assert_problem(missing, 404, "not_found")
        assert a["detail"] == b["detail"]
        assert a["params"]["kind"] == b["params"]["kind"] == "plan"
    too_big = api.get("/api/v1/plans/99999999999999999999", headers=headers)
    assert_problem(too_big, 404, "not_found")


def test_one_plan_says_what_the_caller_may_do_and_why_not(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    chair = api.get(f"/api/v1/plans/{plan_id}", headers=token(pf, "chair_a")).get_json()
    assert (chair["id"], chair["state"], chair["version"]) == (plan_id, "draft", 2)
    assert {a["action"]: a["ready"] for a in chair["actions"]} == {"submit": True, "abandon": True}
    empty = pf.create_plan(unit_code="branch_a", year=2027, title="Empty", actor="drafter_a")
    blocked = api.get(f"/api/v1/plans/{empty}", headers=token(pf, "chair_a")).get_json()
    [submit] = [a for a in blocked["actions"] if a["action"] == "submit"]
    assert submit["ready"] is False and "no_items" in [r["code"] for r in submit["blocked_by"]]


def test_fire_with_a_stale_version_is_409_naming_the_current_one(
    api: FlaskClient, pf: Planflow
) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    headers = token(pf, "reviewer", "write")
    version = pf.plan(plan_id).version
    stale = api.post(
        f"/api/v1/plans/{plan_id}/actions/start_review",
        headers=headers,
        json={"expected_version": version - 1},
    )
    body = assert_problem(stale, 409, "stale_version")
    assert body["current_version"] == version == body["params"]["current"]
    assert pf.plan(plan_id).state == "submitted"  # nothing written
    done = api.post(
        f"/api/v1/plans/{plan_id}/actions/start_review",
        headers=headers,
        json={"expected_version": version},
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json() | {"version": 0} == {
        "plan_id": plan_id,
        "action": "start_review",
        "from_state": "submitted",
        "to_state": "under_review",
        "version": 0,
        "moved": True,
        "quorum": None,
    }
    assert pf.audit_trail(plan_id)[-1].actor == "reviewer"


def test_refusals_keep_their_codes(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "start_review", "reviewer")
    reviewer = token(pf, "reviewer", "write")
    path = f"/api/v1/plans/{plan_id}/actions/return_for_revision"
    body = assert_problem(api.post(path, headers=reviewer, json={}), 422, "guard_failed")
    assert "comment_required" in str(body["params"])
    wrong = api.post(
        f"/api/v1/plans/{plan_id}/actions/approve", headers=token(pf, "chair_a", "write")
    )
    assert_problem(wrong, 403, "permission_denied")
    nonsense = api.post(f"/api/v1/plans/{plan_id}/actions/fly", headers=reviewer)
    assert_problem(nonsense, 422, "action_not_allowed")
    read_only = api.post(path, headers=token(pf, "reviewer"), json={"comment": "why"})
    assert_problem(read_only, 403, "token_scope")
    assert pf.plan(plan_id).state == "under_review"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "json_invalid"),
        ({"data": {"comment": "x"}}, 415, "json_required"),  # a form
        ({"data": {"comment": (b"x", "x.txt")}}, 415, "json_required"),  # a file part
        ({"json": {"comment": "x", "colour": "red"}}, 422, "invalid_request"),
        ({"json": {"expected_version": "two"}}, 422, "invalid_request"),
        ({"json": {"expected_version": 2**40}}, 422, "invalid_request"),
        ({"json": ["comment"]}, 422, "invalid_request"),
    ],
)
def test_odd_bodies_get_a_problem_and_change_nothing(
    api: FlaskClient, pf: Planflow, kwargs: dict[str, Any], status: int, code: str
) -> None:
    plan_id = new_plan(pf)
    version = pf.plan(plan_id).version
    response = api.post(
        f"/api/v1/plans/{plan_id}/actions/submit", headers=token(pf, "chair_a", "write"), **kwargs
    )
    assert_problem(response, status, code)
    assert pf.plan(plan_id).version == version


def test_unknown_addresses_and_methods_under_the_api_are_problems(
    api: FlaskClient, pf: Planflow
) -> None:
    headers = token(pf, "officer")
    assert_problem(api.get("/api/v1/nothing-here", headers=headers), 404, "not_found")
    assert_problem(api.delete("/api/v1/plans", headers=headers), 405, "method_not_allowed")
    # The web UI's own pages keep their HTML error pages.
    assert api.get("/nothing-here").mimetype == "text/html"


def test_problem_details_speak_the_readers_language(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    headers = token(pf, "reviewer", "write") | {"Accept-Language": "zh-CN,zh;q=0.9"}
    path = f"/api/v1/plans/{plan_id}/actions/start_review"
    stale = api.post(path, headers=headers, json={"expected_version": 1})
    body = assert_problem(stale, 409, "stale_version")
    assert not any("a" <= ch <= "z" for ch in body["detail"].lower()), body["detail"]


def test_field_problems_and_titles_speak_the_readers_language(
    api: FlaskClient, pf: Planflow
) -> None:
    """A new user's walk met English titles and pydantic's English in ``errors``, one
    naming a class ("… instance of FireRequest") in a Korean answer. Worded by code."""
    plan_id = new_plan(pf)
    write = token(pf, "chair_a", "write")
    path = f"/api/v1/plans/{plan_id}/actions/submit"
    said: dict[str, dict[str, Any]] = {}
    for lang in ("en", "zh", "ko"):
        headers = write | {"Accept-Language": lang}
        said[lang] = assert_problem(
            api.post(path, headers=headers, json=[1]), 422, "invalid_request"
        )
        text = repr(said[lang])
        assert "FireRequest" not in text and "dictionary" not in text, text
    assert said["en"]["errors"][0]["message"] == "Send a JSON object here."
    assert said["zh"]["errors"][0]["message"] == "此处应为 JSON 对象。"
    assert said["ko"]["errors"][0]["message"] == "여기에는 JSON 객체를 보내야 합니다."
    assert [said[lang]["title"] for lang in ("en", "zh", "ko")] == [
        "Unprocessable content", "无法处理的内容", "처리할 수 없는 내용"
    ]  # fmt: skip
    # A limit says its number, in the reader's words; the code and params stay for clients.
    long = api.post(
        f"/api/v1/plans/{plan_id}/comments",
        headers=write | {"Accept-Language": "zh"},
        json={"body": "x", "item_key": "k" * 500},
    )
    problem = assert_problem(long, 422, "invalid_request")["errors"][0]
    assert problem["code"] == "string_too_long" and problem["params"]["max_length"] > 0
    assert problem["message"] == f"最多 {problem['params']['max_length']} 个字符。"


def test_my_tasks(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    got = api.get("/api/v1/me/tasks", headers=token(pf, "reviewer")).get_json()
    assert [(t["plan_id"], t["role"], t["unit"]["code"]) for t in got["items"]] == [
        (plan_id, "reviewer", "branch_a")
    ]
    assert api.get("/api/v1/me/tasks", headers=token(pf, "drafter_b")).get_json() == {"items": []}


def test_the_openapi_document_describes_the_endpoints(api: FlaskClient) -> None:
    spec = api.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert {"/api/v1/plans", "/api/v1/plans/{plan_id}", "/api/v1/me/tasks"} <= set(spec["paths"])
    fire = spec["paths"]["/api/v1/plans/{plan_id}/actions/{action}"]["post"]
    assert {"200", "409", "404"} <= set(fire["responses"])
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_the_api_s_own_refusals_are_worded_in_every_language(
    api: FlaskClient, pf: Planflow
) -> None:
    plan_id = new_plan(pf)
    read = token(pf, "chair_a")
    calls = {
        "token_missing": lambda h: api.get("/api/v1/plans", headers=h),
        "token_invalid": lambda h: api.get(
            "/api/v1/plans", headers=h | {"Authorization": "Bearer pft_x"}
        ),
        "token_scope": lambda h: api.post(
            f"/api/v1/plans/{plan_id}/actions/submit", headers=h | read, json={}
        ),
        "invalid_request": lambda h: api.get("/api/v1/plans?page=0", headers=h | read),
        "json_required": lambda h: api.post(
            f"/api/v1/plans/{plan_id}/actions/submit", headers=h | read, data={"a": "b"}
        ),
        "json_invalid": lambda h: api.post(
            f"/api/v1/plans/{plan_id}/actions/submit",
            headers=h | read,
            data="{",
            content_type="application/json",
        ),
    }
    for code, call in calls.items():
        details = {
            lang: call({"Accept-Language": lang}).get_json()["detail"]
            for lang in ("en", "zh", "ko")
        }
        assert all(call({"Accept-Language": "zh"}).get_json()["code"] == code for _ in (0,))
        assert len(set(details.values())) == 3, (code, details)
        assert "could not be carried out" not in details["en"], (code, details)


def test_urge_through_the_api(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    path = f"/api/v1/plans/{plan_id}/urge"
    done = api.post(path, headers=token(pf, "drafter_a", "write"), json={"comment": "April!"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert set(done.get_json()["notified"]) == {"reviewer", "reviewer2"}
    again = assert_problem(
        api.post(path, headers=token(pf, "chair_a", "write")), 422, "guard_failed"
    )
    assert "urge_too_soon" in str(again["params"])
    assert_problem(api.post(path, headers=token(pf, "drafter_b", "write")), 404, "not_found")
    assert [e.action for e in pf.audit_trail(plan_id)].count("urge") == 1


def test_transfer_add_approver_and_cc_through_the_api(api: FlaskClient, pf: Planflow) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "start_review", "reviewer")
    write = token(pf, "reviewer", "write")
    base = f"/api/v1/plans/{plan_id}"
    refused = assert_problem(
        api.post(f"{base}/transfer", headers=write, json={"to": "officer"}), 422, "guard_failed"
    )
    assert "transfer_target_lacks_role" in str(refused["params"])
    assert_problem(
        api.post(
            f"{base}/cc", headers=token(pf, "drafter_b", "write"), json={"users": ["officer"]}
        ),
        404,
        "not_found",
    )
    assert_problem(
        api.post(f"{base}/add-approver", headers=write, json={"user": "officer", "mode": "x"}),
        422,
        "invalid_request",
    )
    added = api.post(
        f"{base}/add-approver", headers=write, json={"user": "officer", "mode": "after"}
    )
    assert added.status_code == 200, added.get_data(as_text=True)
    copied = api.post(f"{base}/cc", headers=write, json={"users": ["fed_reviewer"]})
    assert copied.get_json()["notified"] == ["fed_reviewer"]
    done = api.post(f"{base}/transfer", headers=write, json={"to": "reviewer2"})
    assert done.status_code == 200 and done.get_json()["action"] == "transfer"
    assert [e.action for e in pf.audit_trail(plan_id)][-3:] == ["add_approver", "cc", "transfer"]
