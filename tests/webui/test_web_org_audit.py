"""The administrators' actions page (the organisation's audit chain), and the audit page
naming a rewritten record of it. The library's behaviour is ``tests/test_org_audit.py``."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import text as sql
from test_web_admin_support import Admins, add_admins
from webui_support import signed_in, text

from planflow.app import Planflow


def test_an_admin_action_made_on_the_web_is_listed(
    app: Flask, pf: Planflow, password_hash: str
) -> None:
    add_admins(pf, password_hash)
    fed = signed_in(app, "fed_admin")
    response = fed.post_form(
        "/admin/units/branch_a/rename", {"name": "Branch Ay", "expected_name": "Branch A 분회"}
    )
    assert response.status_code == 302
    page = text(fed.get("/admin/audit/org"))
    newest = page[page.index("<tbody>") :]
    assert "Unit renamed" in newest[:800] and "fed_admin" in newest[:800]
    assert "Branch Ay" in newest[:800]
    assert "the system (command line)" in page  # the set-up, from the library
    # The trail covers every unit: for admins of the whole organisation only.
    assert signed_in(app, "union_admin").get("/admin/audit/org").status_code == 403


def test_the_audit_page_names_a_rewritten_admin_action(
    app: Flask, pf: Planflow, password_hash: str
) -> None:
    admins: Admins = add_admins(pf, password_hash)
    assert admins.parent_code("branch_a") == "union"
    with pf.db.engine.begin() as conn:
        conn.execute(sql("UPDATE org_audit_record SET action = 'unit_moved' WHERE seq = 2"))
    page = text(signed_in(app, "fed_admin").post_form("/admin/audit"))
    assert "The audit trail was tampered with." in page
    first = page[page.index('<li class="first">') :]
    assert "Administrators' actions, record 2" in first[:400]
    assert "The record was changed after it was written." in first[:600]


def test_the_details_read_in_the_readers_language(
    app: Flask, pf: Planflow, password_hash: str
) -> None:
    add_admins(pf, password_hash)
    expires = datetime(2027, 3, 7, 3, 41, 48, 763121, tzinfo=UTC)
    pf.tokens.create("fed_admin", scope="write", name="OA", expires_at=expires, actor="fed_admin")
    fed = signed_in(app, "fed_admin")
    fed.post_form("/auth/language", {"language": "zh"})
    page = text(fed.get("/admin/audit/org"))
    body = page[page.index("<tbody>") :]
    # Labels and values as the rest of the page, not the record's JSON.
    assert "expires_at" not in body and "&#34;" not in body and '"write"' not in body
    assert "过期" in body or "到期" in body, body[:1500]
    assert "2027-03-07 03:41:48.763121" not in body and ".763121" not in body
    assert "管理员" in body  # the admin role, by its Chinese name
