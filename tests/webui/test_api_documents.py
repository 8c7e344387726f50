"""Plan documents through the API: import (dry run and create), the plan and inspection .docx.

The import answers what ``planflow plans import --dry-run --json`` prints
(compared with the command's own output), refuses with the library's codes
as problem details, and creates the draft as the caller; the Word files are
the web page's, to whoever may see the plan. Every test runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
from flask import Flask
from flask.testing import FlaskClient
from test_api import api, assert_problem, token  # noqa: F401  (api is a fixture)
from webui_support import Plans

from planflow.app import Planflow

DATA = Path(__file__).resolve().parents[1] / "data" / "imports"
ZH = DATA / "zh_mixed.txt"
CliRun = Callable[..., tuple[int, str, str]]  # the suite's ``cli`` fixture
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _cli_dry_run(cli: CliRun, database_url: str, path: Path) -> dict[str, Any]:
    argv = ["--database-url", database_url, "plans", "import", str(path), "--unit", "branch_a"]
    code, out, err = cli(*argv, "--year", "2024", "--as", "drafter_a", "--dry-run", "--json")
    assert code == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


def test_a_dry_run_answers_what_the_command_prints(
    api: FlaskClient,  # noqa: F811
    pf: Planflow,
    database_url: str,
    cli: CliRun,
) -> None:
    headers = token(pf, "drafter_a")
    by_file = api.post(
        "/api/v1/plans/import",
        headers=headers,
        data={"file": (io.BytesIO(ZH.read_bytes()), "plan.txt"), "year": "2024", "dry_run": "1"},
        content_type="multipart/form-data",
    )
    assert by_file.status_code == 200, by_file.get_data(as_text=True)
    assert by_file.get_json() == _cli_dry_run(cli, database_url, ZH)
    by_text = api.post(
        "/api/v1/plans/import",
        headers=headers,
        json={"text": ZH.read_text(encoding="utf-8"), "year": 2024, "dry_run": True},
    )
    assert by_text.get_json() == by_file.get_json()
    # Several targets of one item come as a list, in the document's order.
    item = by_text.get_json()["sections"][2]["items"][1]
    assert [t["value"] for t in item["targets"]] == [4, 90]
    assert not pf.plans().items  # a dry run creates nothing


def test_an_import_creates_the_draft_as_the_caller(
    api: FlaskClient,  # noqa: F811
    pf: Planflow,
) -> None:
    body = {"text": ZH.read_text(encoding="utf-8"), "year": 2024, "unit": "branch_a"}
    assert_problem(
        api.post("/api/v1/plans/import", headers=token(pf, "drafter_a"), json=body),
        403,
        "token_scope",
    )
    answer = api.post("/api/v1/plans/import", headers=token(pf, "drafter_a", "write"), json=body)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    shown = answer.get_json()
    plan = pf.plan(shown["plan"], as_user="drafter_a")
    assert (plan.state, plan.unit.code, plan.title) == ("draft", "branch_a", shown["title"])
    saved = pf.content.content(plan.id).to_dict()["sections"]
    for section in saved:
        del section["key"]
        for item in section["items"]:
            del item["key"]
    assert saved == shown["sections"]
    # Someone who may not draft at the unit is refused by the library's rule.
    other = token(pf, "drafter_b", "write")
    refused = api.post("/api/v1/plans/import", headers=other, json=body)
    assert refused.status_code in (403, 404, 422) and refused.mimetype.endswith("problem+json")
    assert len(pf.plans().items) == 1


def test_bad_documents_get_the_readers_codes(
    api: FlaskClient,  # noqa: F811
    pf: Planflow,
) -> None:
    headers = token(pf, "drafter_a", "write")

    def send(data: bytes, **fields: str) -> Any:
        form: dict[str, Any] = {"file": (io.BytesIO(data), "plan.docx"), "year": "2024"}
        return api.post(
            "/api/v1/plans/import",
            headers=headers,
            data={**form, "dry_run": "true", **fields},
            content_type="multipart/form-data",
        )

    assert_problem(send(b""), 422, "document_empty")
    assert_problem(send(b"\x00\x01\x02binary\x00" * 50), 422, "document_binary")
    assert_problem(send(b"PK\x03\x04broken zip"), 422, "document_damaged")
    assert_problem(send(b"%PDF-1.7"), 422, "document_kind")
    assert_problem(send(ZH.read_bytes(), part="7"), 422, "import_no_part")
    assert_problem(send(ZH.read_bytes(), year="often"), 422, "invalid_request")
    # Text where a file was expected, a file where text was expected, neither, both.
    as_text = api.post(
        "/api/v1/plans/import",
        headers=headers,
        data={"file": "not a file", "year": "2024", "dry_run": "1"},
        content_type="multipart/form-data",
    )
    assert assert_problem(as_text, 422, "invalid_request")["errors"][0]["field"] == "file"
    text_as_file = api.post(
        "/api/v1/plans/import",
        headers=headers,
        data={"text": (io.BytesIO(b"1. a"), "t.txt"), "year": "2024", "dry_run": "1"},
        content_type="multipart/form-data",
    )
    assert_problem(text_as_file, 422, "invalid_request")
    no_year = api.post(
        "/api/v1/plans/import",
        headers=headers,
        data={"file": (io.BytesIO(ZH.read_bytes()), "plan.txt"), "dry_run": "1"},
        content_type="multipart/form-data",
    )
    assert assert_problem(no_year, 422, "invalid_request")["errors"][0]["field"] == "year"
    neither = api.post("/api/v1/plans/import", headers=headers, json={"year": 2024})
    assert_problem(neither, 422, "invalid_request")
    both = send(ZH.read_bytes(), text="一、学习")
    assert_problem(both, 422, "invalid_request")
    no_unit = api.post(
        "/api/v1/plans/import", headers=headers, json={"text": "一、学习\n1、读书", "year": 2024}
    )
    assert assert_problem(no_unit, 422, "invalid_request")["errors"][0]["field"] == "unit"
    form = api.post(
        "/api/v1/plans/import",
        headers=headers,
        data={"text": "x", "year": "2024"},
        content_type="application/x-www-form-urlencoded",
    )
    assert_problem(form, 415, "json_required")
    several = "【篇一】\n一、学习\n1、读书\n【篇二】\n一、文体\n1、跑步\n"
    refused = api.post(
        "/api/v1/plans/import",
        headers=headers,
        json={"text": several, "year": 2024, "unit": "branch_a"},
    )
    body = assert_problem(refused, 422, "import_several_plans")
    assert body["params"]["count"] == 2
    assert not pf.plans().items


def test_the_plan_and_inspection_docx(
    api: FlaskClient,  # noqa: F811
    app: Flask,
    pf: Planflow,
    plans: Plans,
) -> None:
    plan_id = plans.under_review("branch_a")
    headers = token(pf, "chair_a")
    answer = api.get(f"/api/v1/plans/{plan_id}/document.docx", headers=headers)
    assert answer.status_code == 200 and answer.mimetype == DOCX
    paragraphs = [p.text for p in docx.Document(io.BytesIO(answer.get_data())).paragraphs]
    content = pf.content.content(plan_id)
    assert all(s.title in paragraphs for s in content.sections)
    zh = api.get(
        f"/api/v1/plans/{plan_id}/document.docx",
        headers={**headers, "Accept-Language": "zh"},
    )
    assert zh.status_code == 200
    inspection = api.get(f"/api/v1/plans/{plan_id}/inspection.docx", headers=headers)
    assert inspection.status_code == 200 and inspection.mimetype == DOCX
    docx.Document(io.BytesIO(inspection.get_data()))  # opens
    stranger = token(pf, "drafter_b")
    for name in ("document", "inspection"):
        missing = api.get(f"/api/v1/plans/{plan_id}/{name}.docx", headers=stranger)
        assert_problem(missing, 404, "not_found")
    assert_problem(api.get("/api/v1/plans/999999/document.docx", headers=headers), 404, "not_found")


def test_the_openapi_document_describes_them(api: FlaskClient) -> None:  # noqa: F811
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    body = paths["/api/v1/plans/import"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
    for path in (
        "/api/v1/plans/{plan_id}/document.docx",
        "/api/v1/plans/{plan_id}/inspection.docx",
    ):
        assert DOCX in paths[path]["get"]["responses"]["200"]["content"]


def test_content_with_several_targets_through_the_api(
    api: FlaskClient,  # noqa: F811
    pf: Planflow,
) -> None:
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    headers = token(pf, "drafter_a", "write")
    one = {"metric": "qualified", "op": ">=", "value": 100, "unit": "%"}
    second = {"metric": "advanced", "op": ">", "value": 60, "unit": "%"}
    item = {"key": "i1", "text": "Build homes", "due": 5, "targets": [one, second]}
    body = {"content": {"sections": [{"key": "s1", "title": "Serve", "items": [item]}]}}
    saved = api.put(f"/api/v1/plans/{plan_id}/content", headers=headers, json=body)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    got = api.get(f"/api/v1/plans/{plan_id}/content", headers=headers).get_json()
    assert got["content"]["sections"][0]["items"][0]["targets"] == [one, second]
    # A client still sending the one-target form is understood.
    old = {**item, "key": "i1"}
    del old["targets"]
    old["target"] = one
    body = {"content": {"sections": [{"key": "s1", "title": "Serve", "items": [old]}]}}
    body["expected_version"] = got["version"]
    assert (
        api.put(f"/api/v1/plans/{plan_id}/content", headers=headers, json=body).status_code == 200
    )
    got = api.get(f"/api/v1/plans/{plan_id}/content", headers=headers).get_json()
    assert got["content"]["sections"][0]["items"][0]["targets"] == [one]
    both = {**old, "targets": [one]}
    body = {"content": {"sections": [{"key": "s1", "title": "Serve", "items": [both]}]}}
    refused = api.put(f"/api/v1/plans/{plan_id}/content", headers=headers, json=body)
    details = assert_problem(refused, 422, "content_invalid")["params"]["details"]
    assert [d["code"] for d in details] == ["target_and_targets"]
