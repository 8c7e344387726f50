"""The e-mail settings page and ``/api/v1/me/settings``: immediately, daily digest or off.

Both are thin over ``pf.inbox.set_email_preference``; a value the library does
not know is refused there (``unknown_email_preference``) and worded here.
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import re

from flask import Flask
from test_api import assert_problem, token
from webui_support import AuthActions, WebClient, signed_in, text

from planflow.app import Planflow


def checked(page: str) -> list[str]:
    return re.findall(r'<input [^>]*\bchecked\b[^>]* value="(\w+)"', page)


def test_the_page_shows_the_choice_and_saves_another(
    client: WebClient, auth: AuthActions, pf: Planflow
) -> None:
    auth.login("reviewer")
    page = text(client.get("/notifications/"))
    assert 'href="/notifications/email/"' in page
    page = text(client.get("/notifications/email/"))
    assert "E-mail settings" in page
    assert checked(page) == ["immediately"]
    response = client.post_form("/notifications/email/", {"preference": "digest"})
    assert response.status_code == 302
    assert pf.inbox.email_preference("reviewer") == "digest"
    page = text(client.get("/notifications/email/"))
    assert "Your e-mail setting was saved: Daily digest." in page
    assert checked(page) == ["digest"]
    assert pf.inbox.email_preference("reviewer2") == "immediately"


def test_bad_values_get_a_clear_message_and_change_nothing(
    client: WebClient, auth: AuthActions, pf: Planflow
) -> None:
    auth.login("reviewer")
    pf.inbox.set_email_preference("reviewer", "off")
    for data in ({"preference": "weekly"}, {}, {"preference": "x" * 5000}):
        response = client.post_form("/notifications/email/", data)
        assert response.status_code == 422, data
        assert "Choose immediately, a daily digest or off." in text(response)
    # A file part where a choice was expected.
    response = client.post_form(
        "/notifications/email/",
        {"preference": (io.BytesIO(b"digest"), "x.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert pf.inbox.email_preference("reviewer") == "off"
    response = client.post("/notifications/email/", data={"preference": "digest"})
    assert response.status_code == 400  # no CSRF token
    assert pf.inbox.email_preference("reviewer") == "off"


def test_the_page_is_worded_in_chinese_and_korean(app: Flask, pf: Planflow) -> None:
    for language, title, refused in (
        ("zh", "邮件设置", "请选择“立即发送”“每日汇总”或“不发送”。"),
        ("ko", "메일 설정", "‘즉시’, ‘일일 요약’, ‘받지 않음’ 중에서 선택하십시오."),
    ):
        client = signed_in(app, "reviewer")
        client.post_form("/auth/language", {"language": language})
        page = text(client.get("/notifications/email/"))
        assert title in page, language
        response = client.post_form("/notifications/email/", {"preference": "weekly"})
        assert refused in text(response), language


def test_signed_out_is_sent_to_sign_in(client: WebClient) -> None:
    response = client.get("/notifications/email/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_api_reads_and_changes_the_settings(app: Flask, pf: Planflow) -> None:
    api = app.test_client()
    reader, writer = token(pf, "reviewer"), token(pf, "reviewer", "write")
    response = api.get("/api/v1/me/settings", headers=reader)
    assert response.status_code == 200 and response.get_json() == {
        "email_preference": "immediately"
    }
    response = api.put("/api/v1/me/settings", json={"email_preference": "off"}, headers=writer)
    assert response.status_code == 200 and response.get_json() == {"email_preference": "off"}
    assert pf.inbox.email_preference("reviewer") == "off"
    response = api.put("/api/v1/me/settings", json={"email_preference": "off"}, headers=reader)
    assert_problem(response, 403, "token_scope")
    response = api.put("/api/v1/me/settings", json={"email_preference": "weekly"}, headers=writer)
    body = assert_problem(response, 422, "unknown_email_preference")
    assert body["params"]["choices"] == ["immediately", "digest", "off"]
    response = api.put("/api/v1/me/settings", json={"email_preference": 3}, headers=writer)
    assert response.status_code == 422
    response = api.put("/api/v1/me/settings", json={"colour": "red"}, headers=writer)
    assert response.status_code == 422
    assert pf.inbox.email_preference("reviewer") == "off"
