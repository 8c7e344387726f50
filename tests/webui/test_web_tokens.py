"""The token page (issue 18): list, make (secret shown once), revoke; on both databases."""

from __future__ import annotations

import re

from flask import Flask
from webui_support import AuthActions, WebClient, signed_in, text

from planflow.app import Planflow

SECRET_RE = re.compile(r'id="token-secret">(pft_[A-Za-z0-9_-]+)<')


def test_make_a_token_see_it_once_use_it_and_revoke_it(
    client: WebClient, auth: AuthActions, pf: Planflow
) -> None:
    auth.login("reviewer")
    page = text(client.get("/settings/tokens/"))
    assert "You have no tokens." in page
    # Only the scopes the library offers this user: a reviewer administers nothing.
    assert 'value="read"' in page and 'value="write"' in page and 'value="admin"' not in page
    response = client.post_form(
        "/settings/tokens/", {"name": "Dashboard", "scope": "read", "expires": "30"}
    )
    assert response.status_code == 302
    response = client.get(response.headers["Location"])
    assert response.headers["Cache-Control"] == "no-store"
    secret = SECRET_RE.search(text(response))
    assert secret, text(response)
    assert pf.tokens.authenticate(secret.group(1)).name == "Dashboard"
    assert (
        client.get(
            "/api/v1/me/tasks", headers={"Authorization": f"Bearer {secret.group(1)}"}
        ).status_code
        == 200
    )
    # Never again: the list shows the prefix only.
    again = text(client.get("/settings/tokens/"))
    assert secret.group(1) not in again and "Dashboard" in again and "active" in again
    (token,) = pf.tokens.of_user("reviewer")
    assert token.expires_at is not None and token.scope == "read"
    response = client.post_form("/settings/tokens/revoke", {"token": str(token.id)})
    assert response.status_code == 302
    assert "revoked" in text(client.get("/settings/tokens/"))
    assert pf.tokens.of_user("reviewer")[0].revoked_at is not None


def test_refusals_and_someone_elses_token(
    app: Flask, client: WebClient, auth: AuthActions, pf: Planflow
) -> None:
    other = pf.tokens.create("officer", name="Theirs")
    auth.login("reviewer")
    # A scope the user is not offered, an empty name, an unknown expiry: 422, nothing made.
    for data in (
        {"name": "x", "scope": "admin", "expires": "30"},
        {"name": "", "scope": "read", "expires": "30"},
        {"name": "x", "scope": "read", "expires": "9999"},
        {"name": "x\x00", "scope": "read", "expires": "30"},
    ):
        assert client.post_form("/settings/tokens/", data).status_code == 422, data
    assert pf.tokens.of_user("reviewer") == []
    # Someone else's token is as if it did not exist; junk is a 400; no CSRF, no change.
    assert (
        client.post_form("/settings/tokens/revoke", {"token": str(other.token.id)}).status_code
        == 404
    )
    assert client.post_form("/settings/tokens/revoke", {"token": "abc"}).status_code == 400
    mine = pf.tokens.create("reviewer", name="Mine")
    response = client.post_form(
        "/settings/tokens/revoke", {"token": str(mine.token.id)}, csrf=False
    )
    assert response.status_code == 400
    assert pf.tokens.of_user("reviewer")[0].revoked_at is None
    assert pf.tokens.of_user("officer")[0].revoked_at is None
    # Signed out: the sign-in page.
    assert signed_in(app, "officer").get("/settings/tokens/").status_code == 200
    assert app.test_client().get("/settings/tokens/").status_code == 302


def test_the_page_in_chinese_and_korean(client: WebClient, auth: AuthActions) -> None:
    auth.login("reviewer")
    for language, words in (("zh", "令牌"), ("ko", "토큰")):
        client.post_form("/auth/language", {"language": language})
        assert words in text(client.get("/settings/tokens/"))


def test_the_page_leads_to_the_api_documentation(client: WebClient, auth: AuthActions) -> None:
    """An integrator who made a token finds the API's documentation from the page
    (a new user's walk found it only in the README)."""
    auth.login("reviewer")
    page = text(client.get("/settings/tokens/"))
    assert '<a href="/api/v1/docs">' in page
    assert client.get("/api/v1/docs").status_code == 200
