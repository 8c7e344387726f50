"""An IT integrator's walk through the HTTP API with curl: what HTTP itself promises
(``WWW-Authenticate`` on a 401, ``Allow`` on a 405), choices and unknown names worded
in the reader's language, and the OpenAPI document's ``Problem`` as answered.

Every test runs on SQLite and PostgreSQL (the ``app`` fixture builds on ``pf``).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_api import assert_problem, bearer, token

from planflow.app import Planflow


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def test_a_401_names_the_scheme_it_wants(api: FlaskClient, pf: Planflow) -> None:
    """RFC 9110 §15.5.2: a 401 carries ``WWW-Authenticate``; RFC 6750 names a bad token."""
    missing = api.get("/api/v1/plans")
    assert_problem(missing, 401, "token_missing")
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="planflow"'
    bad = api.get("/api/v1/plans", headers=bearer("pft_nonsense"))
    assert_problem(bad, 401, "token_invalid")
    assert bad.headers["WWW-Authenticate"] == 'Bearer realm="planflow", error="invalid_token"'
    # Answers that are no 401 do not ask for credentials.
    assert "WWW-Authenticate" not in api.get("/api/v1/plans", headers=token(pf, "officer")).headers


def test_a_405_says_which_methods_the_address_takes(api: FlaskClient, pf: Planflow) -> None:
    """RFC 9110 §15.5.6: a 405 carries ``Allow``; the detail says it too."""
    answer = api.delete("/api/v1/plans", headers=token(pf, "officer"))
    body = assert_problem(answer, 405, "method_not_allowed")
    allowed = {m.strip() for m in answer.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "DELETE" not in allowed
    assert body["params"]["allowed"] == sorted(allowed)
    assert "GET" in body["detail"] and "POST" in body["detail"]


def test_an_unknown_address_points_to_the_documentation(api: FlaskClient, pf: Planflow) -> None:
    for lang in ("en", "zh", "ko"):
        headers = token(pf, "officer") | {"Accept-Language": lang}
        body = assert_problem(api.get("/api/v1/nothing-here", headers=headers), 404, "not_found")
        assert "/api/v1/docs" in body["detail"], body


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "One of: year, recent or id."),
        ("zh", "可选值：year、recent、id。"),
        ("ko", "다음 중 하나여야 합니다: year, recent, id."),
    ],
)
def test_a_choice_is_worded_whole_in_the_readers_language(
    api: FlaskClient, pf: Planflow, lang: str, expected: str
) -> None:
    """``?order=sideways`` answered pydantic's English (a regular expression) to a Chinese
    reader, and a list of choices kept pydantic's "or" in Chinese and Korean."""
    headers = token(pf, "officer") | {"Accept-Language": lang}
    body = assert_problem(
        api.get("/api/v1/plans?order=sideways", headers=headers), 422, "invalid_request"
    )
    (error,) = body["errors"]
    assert error["code"] == "literal_error"
    assert error["params"]["allowed"] == ["year", "recent", "id"]
    assert error["message"] == expected


def test_a_choice_of_the_openapi_document_is_an_enum(api: FlaskClient) -> None:
    spec = api.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert spec["PlanQuery"]["properties"]["order"]["enum"] == ["year", "recent", "id"]
    assert spec["NewPerson"]["properties"]["language"]["enum"] == ["en", "zh", "ko"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "There is no unit nosuch."),
        ("zh", "没有单位 nosuch。"),
        ("ko", "단위 nosuch이(가) 없습니다."),
    ],
)
def test_an_unknown_unit_to_filter_by_is_worded_in_the_readers_language(
    api: FlaskClient, pf: Planflow, lang: str, expected: str
) -> None:
    headers = token(pf, "officer") | {"Accept-Language": lang}
    body = assert_problem(
        api.get("/api/v1/plans?unit=nosuch", headers=headers), 422, "invalid_request"
    )
    (error,) = body["errors"]
    assert (error["field"], error["code"]) == ("unit", "not_found")
    assert error["params"] == {"kind": "unit", "ident": "nosuch"}
    assert error["message"] == expected


def test_the_problem_schema_has_the_fields_a_problem_is_answered_with(
    api: FlaskClient, pf: Planflow
) -> None:
    """A client generated from the document must find ``current_version`` of a 409."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    stale = api.post(
        f"/api/v1/plans/{plan_id}/actions/submit",
        headers=token(pf, "chair_a", "write"),
        json={"expected_version": 99},
    )
    answered: dict[str, Any] = assert_problem(stale, 409, "stale_version")
    spec = api.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Problem"]
    assert set(answered) <= set(spec["properties"]), set(answered) - set(spec["properties"])
    kinds = {k.get("type") for k in spec["properties"]["current_version"]["anyOf"]}
    assert kinds == {"integer", "null"} and "current_version" not in spec["required"]


@pytest.mark.parametrize(("lang", "limit"), [("en", "1 MB"), ("zh", "1 MB"), ("ko", "1MB")])
def test_a_body_too_large_says_how_large_one_may_be(
    api: FlaskClient, pf: Planflow, lang: str, limit: str
) -> None:
    """A 413 answered only its title ("Content too large"): not what the limit is."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    headers = token(pf, "drafter_a", "write") | {"Accept-Language": lang}
    answer = api.post(
        f"/api/v1/plans/{plan_id}/comments", headers=headers, json={"body": "x" * 2_000_000}
    )
    body = assert_problem(answer, 413, "too_large")
    assert body["params"] == {"max_bytes": 1024 * 1024}
    assert limit in body["detail"] and body["detail"] != body["title"], body
    if lang != "en":
        assert "body" not in body["detail"].lower() and "large" not in body["detail"], body


def test_a_query_parameter_no_endpoint_takes_is_refused_everywhere(
    api: FlaskClient, pf: Planflow
) -> None:
    """``GET /plans?bogus=1`` was refused, ``GET /plans/3?bogus=1`` answered as if it had
    not been sent: a misspelt parameter must not be silently ignored on some addresses."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    headers = token(pf, "drafter_a", "write") | {"Accept-Language": "zh"}
    for answer in (
        api.get(f"/api/v1/plans/{plan_id}?lang=zh&x=1", headers=headers),
        api.get("/api/v1/me/tasks?page=2", headers=headers),
        api.post(
            f"/api/v1/plans/{plan_id}/comments?dry_run=1", headers=headers, json={"body": "Hi"}
        ),
    ):
        body = assert_problem(answer, 422, "invalid_request")
        assert {e["code"] for e in body["errors"]} == {"extra_forbidden"}, body
        assert body["errors"][0]["message"] == "此请求没有这个字段。"
    assert not pf.content.comments(plan_id)  # nothing was done
    # The documentation stays open to any query (a browser's cache-buster, say).
    assert api.get("/api/v1/openapi.json?v=2").status_code == 200
    assert api.get(f"/api/v1/plans/{plan_id}", headers=headers).status_code == 200


def test_a_body_the_endpoint_does_without_is_not_required_in_the_document(
    api: FlaskClient, pf: Planflow
) -> None:
    """``POST …/actions/approve`` with no body at all is answered (no comment, no version
    check), yet the document said ``requestBody.required: true``."""
    spec = api.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    fire = paths["/api/v1/plans/{plan_id}/actions/{action}"]["post"]["requestBody"]
    assert fire.get("required", False) is False
    assert paths["/api/v1/plans/{plan_id}/urge"]["post"]["requestBody"].get("required") is False
    assert paths["/api/v1/plans"]["post"]["requestBody"]["required"] is True
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    answer = api.post(
        f"/api/v1/plans/{plan_id}/actions/submit", headers=token(pf, "chair_a", "write")
    )
    # Answered by the plan's own rule (it has no items yet), not refused for its lack of a body.
    assert_problem(answer, 422, "guard_failed")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "The plan is in the state draft, which has no action aprove. Possible there: "),
        ("zh", "计划处于状态 draft，该状态没有操作 aprove。该状态下可以："),
        ("ko", "계획은 draft 상태이며, 이 상태에는 aprove 작업이 없습니다. 이 상태에서 가능한 "),
    ],
)
def test_an_action_the_state_does_not_have_says_which_it_has(
    api: FlaskClient, pf: Planflow, lang: str, expected: str
) -> None:
    """A misspelt action ("aprove") was answered "This action is not possible while the
    plan is in its current state.": an integrator needs the names that are possible."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    headers = token(pf, "chair_a", "write") | {"Accept-Language": lang}
    answer = api.post(f"/api/v1/plans/{plan_id}/actions/aprove", headers=headers, json={})
    body = assert_problem(answer, 422, "action_not_allowed")
    assert body["params"]["action"] == "aprove" and "submit" in body["params"]["available"]
    assert body["detail"].startswith(expected), body["detail"]
    assert "submit" in body["detail"][len(expected) :]


def test_two_documents_in_one_import_are_refused_as_such(api: FlaskClient, pf: Planflow) -> None:
    """Two ``file`` parts were answered "Send the document as a file part." (it had been)."""
    text = "一、组织建设\n1. 召开职工代表大会，3月完成。\n".encode()
    answer = api.post(
        "/api/v1/plans/import",
        headers=token(pf, "drafter_a") | {"Accept-Language": "zh"},
        data={"file": [(io.BytesIO(text), "a.txt"), (io.BytesIO(text), "b.txt")], "year": "2027",
              "dry_run": "1"},
        content_type="multipart/form-data",
    )  # fmt: skip
    (error,) = assert_problem(answer, 422, "invalid_request")["errors"]
    assert (error["field"], error["code"]) == ("file", "one_file")
    assert error["params"] == {"count": 2}
    assert error["message"] == "只能发送一个文档（一个文件部分），这里有 2 个。"


def test_a_query_parameter_sent_twice_is_refused_as_such(api: FlaskClient, pf: Planflow) -> None:
    """``?state=draft&state=approved`` was answered "Send text here." (it had been)."""
    headers = token(pf, "officer") | {"Accept-Language": "ko"}
    answer = api.get("/api/v1/plans?state=draft&state=approved&year=2027", headers=headers)
    (error,) = assert_problem(answer, 422, "invalid_request")["errors"]
    assert (error["field"], error["code"], error["params"]) == ("state", "repeated", {"count": 2})
    assert error["message"] == "이 매개변수는 한 번만 보내십시오(2번 보냈습니다)."


@pytest.mark.parametrize("sent", ["[]", "0", "false", '""'])
def test_a_body_that_is_no_object_is_refused_even_when_it_is_false(
    api: FlaskClient, pf: Planflow, sent: str
) -> None:
    """``-d '[]'`` (or 0, false, "") reached an endpoint as no body at all and was carried
    out; ``-d '[1]'`` was refused. Every body is a JSON object."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    answer = api.post(
        f"/api/v1/plans/{plan_id}/actions/abandon",
        headers=token(pf, "chair_a", "write") | {"Content-Type": "application/json"},
        data=sent,
    )
    (error,) = assert_problem(answer, 422, "invalid_request")["errors"]
    assert (error["field"], error["code"]) == ("body", "model_type")
    assert pf.plan(plan_id).state == "draft"


def test_every_field_problem_has_params(api: FlaskClient, pf: Planflow) -> None:
    """docs/codes.md: ``errors`` lists ``{field, message, code, params}``; a problem with
    no parameters left ``params`` out, so a client's ``error["params"]`` failed."""
    answer = api.get("/api/v1/plans?year=x&bogus=1", headers=token(pf, "officer"))
    errors = assert_problem(answer, 422, "invalid_request")["errors"]
    assert errors and all(set(e) == {"field", "message", "code", "params"} for e in errors)
    assert all(e["params"] == {} for e in errors), errors
