"""XLSX downloads (issue 18): the plan list, the officers' overview and the audit trail.

Read back with openpyxl: headers in the reader's language, real dates, and
a text that would start a formula stored as text. Same access as the CSV
and the pages. On both databases.
"""

from __future__ import annotations

import io
from datetime import datetime

from flask import Flask
from openpyxl import load_workbook  # type: ignore[import-untyped]
from stored import stored_records
from test_web_admin_support import Admins
from webui_support import Plans, WebClient, signed_in

from planflow.app import Planflow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")']


def sheet(client: WebClient, path: str) -> list[tuple[object, ...]]:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.get_data()))
    ws = book.worksheets[0]
    # Not one formula anywhere: every cell is a value, and a text that looks like one
    # is a string cell with the quote prefix (a spreadsheet keeps it text when edited).
    cells = [c for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    looks = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r"]
    assert all(c.data_type == "s" and c.quotePrefix for c in looks)
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def test_the_plan_list_with_formula_titles_and_real_dates(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    ids = [plans.submitted(title=t) for t in FORMULAS]
    draft = plans.create("branch_b", title="Branch B draft")
    rows = sheet(signed_in(app, "reviewer"), "/plans/export.xlsx")
    assert rows[0][:3] == ("Plan", "Title", "Unit code")
    by_id = {r[0]: r for r in rows[1:]}
    # The reviewer sees the submitted plans, not branch B's draft (as on the page).
    assert set(by_id) == set(ids) and draft not in by_id
    assert sorted(r[1] for r in by_id.values()) == sorted(FORMULAS)
    assert all(isinstance(r[9], datetime) for r in by_id.values())
    assert all(isinstance(r[7], datetime) for r in by_id.values())  # the task's due
    # Filtered like the page; junk filters are ignored, never a 500.
    assert len(sheet(signed_in(app, "reviewer"), "/plans/export.xlsx?state=approved")) == 1
    assert len(sheet(signed_in(app, "reviewer"), "/plans/export.xlsx?year=abc&state=%00")) == 6
    # Chinese headers for a Chinese reader.
    zh = signed_in(app, "reviewer")
    zh.post_form("/auth/language", {"language": "zh"})
    assert sheet(zh, "/plans/export.xlsx")[0][1] == "标题"


def test_the_overview_as_the_csv_sees_it(app: Flask, plans: Plans) -> None:
    plans.submitted(title="=1+1")
    rows = sheet(signed_in(app, "officer"), "/overview/export.xlsx?year=2027")
    assert rows[0][0] == "Unit code"
    titles = [r[4] for r in rows[1:]]
    assert "=1+1" in titles
    ko = signed_in(app, "officer")
    ko.post_form("/auth/language", {"language": "ko"})
    assert sheet(ko, "/overview/export.xlsx?year=2027")[0][1] == "단위"
    # Someone who oversees nothing: 403, as for the CSV.
    assert signed_in(app, "drafter_a").get("/overview/export.xlsx").status_code == 403


def test_the_audit_trail(app: Flask, admins: Admins, plans: Plans, pf: Planflow) -> None:
    plan_id = plans.submitted()
    plans.fire(plan_id, ("start_review", "reviewer"), ("return_for_revision", "reviewer", "=1+1"))
    rows = sheet(signed_in(app, "fed_admin"), "/admin/audit/export.xlsx")
    assert rows[0][:5] == ("Plan", "No.", "Who", "On behalf of", "When")
    assert len(rows) - 1 == pf.counts()["audit_records"]
    assert all(isinstance(r[4], datetime) for r in rows[1:])
    assert "reviewer" in {r[2] for r in rows[1:]}
    assert [r[8] for r in rows[1:] if r[8]] == ["=1+1"]
    # The detail as the record holds it: its stored JSON text, byte for byte.
    stored = {(r.plan_id, r.seq): r.detail for r in stored_records(pf, plan_id)}
    assert [r[10] for r in rows[1:] if r[0] == plan_id] == list(stored.values())
    # Only admins of the whole organisation, as for the CSV.
    assert signed_in(app, "union_admin").get("/admin/audit/export.xlsx").status_code == 403
