"""Signing in and out, sessions, rate limits, the password, CSRF, the language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlmodel import select
from webui_support import PASSWORD, AuthActions, WebClient, new_client, signed_in, text

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.storage.tables import LoginAttempt, User

PROTECTED = [
    "/",
    "/plans/",
    "/plans/new",
    "/plans/1",
    "/plans/1/timeline",
    "/notifications/",
    "/auth/password",
]
PROTECTED_POSTS = ["/plans/1/act", "/plans/1/comments", "/notifications/read", "/plans/new"]


@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_is_sent_to_sign_in(client: WebClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("path", PROTECTED_POSTS)
def test_anonymous_posts_are_refused(client: WebClient, path: str) -> None:
    response = client.post_form(path, {"comment": "x", "action": "submit"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_sign_in_and_out(client: WebClient, auth: AuthActions) -> None:
    response = auth.login("chair_a")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "Chair A" in text(page)
    assert auth.logout().headers["Location"] == "/auth/login"
    assert client.get("/").status_code == 302


def test_sign_in_goes_back_to_the_page_asked_for(client: WebClient, auth: AuthActions) -> None:
    response = auth.login("chair_a", query_string={"next": "/plans/"})
    assert response.headers["Location"] == "/plans/"


@pytest.mark.parametrize(
    "target", ["//evil.example.org/", "https://evil.example.org/", "/\\evil.example.org", "x"]
)
def test_no_open_redirect_after_sign_in(auth: AuthActions, target: str) -> None:
    response = auth.login("chair_a", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_wrong_password_and_unknown_user_look_the_same(
    client: WebClient, auth: AuthActions
) -> None:
    wrong = auth.login("chair_a", "not the password")
    unknown = auth.login("nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "The user name or password is not right." in text(wrong)
    assert "The user name or password is not right." in text(unknown)
    assert 'value="chair_a"' in text(wrong)  # the name typed is kept
    assert client.get("/").status_code == 302


def test_sign_in_form_is_validated(auth: AuthActions) -> None:
    response = auth.login("", "")
    assert response.status_code == 422
    assert text(response).count("This field is required.") == 2
    response = auth.login("chair\x00a", PASSWORD)
    assert response.status_code == 422
    assert "control character" in text(response)


def test_inactive_user_cannot_sign_in_and_loses_session(
    app: Flask, pf: Planflow, auth: AuthActions, client: WebClient
) -> None:
    assert auth.login("chair_a").status_code == 302
    with pf.session() as s:
        pf.org_repo.set_active(s, "chair_a", False)
    assert client.get("/").status_code == 302
    assert AuthActions(new_client(app)).login("chair_a").status_code == 401


def test_sign_out_ends_the_session_even_for_a_copied_cookie(
    client: WebClient, auth: AuthActions, app: Flask
) -> None:
    auth.login("chair_a")
    stolen = client.get_cookie("planflow_session")
    assert stolen is not None
    auth.logout()
    thief = new_client(app)
    thief.set_cookie("planflow_session", stolen.value)
    assert thief.get("/").status_code == 302


def test_sign_out_needs_post_and_csrf(client: WebClient, auth: AuthActions) -> None:
    auth.login("chair_a")
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_session_is_dropped_when_used_from_another_browser(
    app: Flask, auth: AuthActions, client: WebClient
) -> None:
    auth.login("chair_a")
    assert client.get("/").status_code == 200
    other = client.get("/", headers={"User-Agent": "something else"})
    assert other.status_code == 302


def test_session_cookie_is_renewed_at_sign_in(client: WebClient, auth: AuthActions) -> None:
    client.get("/auth/login")
    before = client.get_cookie("planflow_session")
    auth.login("chair_a")
    after = client.get_cookie("planflow_session")
    assert before is not None and after is not None and before.value != after.value


# -- rate limiting --------------------------------------------------------------------


def test_five_failures_block_the_account(
    client: WebClient, auth: AuthActions, clock: FixedClock
) -> None:
    for _ in range(5):
        assert auth.login("chair_a", "wrong password").status_code == 401
    blocked = auth.login("chair_a")  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in text(blocked)
    assert auth.login("Chair_A", "wrong").status_code == 429  # same account, other case
    clock.advance(timedelta(minutes=15, seconds=1))
    assert auth.login("chair_a").status_code == 302


def test_block_is_per_account(app: Flask, auth: AuthActions) -> None:
    for _ in range(5):
        auth.login("chair_a", "wrong password")
    assert auth.login("chair_b").status_code == 302


def test_a_successful_sign_in_resets_the_account_counter(app: Flask, auth: AuthActions) -> None:
    for _ in range(4):
        auth.login("chair_a", "wrong password")
    assert auth.login("chair_a").status_code == 302
    auth.logout()
    for _ in range(4):
        assert auth.login("chair_a", "wrong password").status_code == 401
    assert auth.login("chair_a").status_code == 302


def test_twenty_failures_block_the_address(app: Flask, pf: Planflow) -> None:
    attacker = AuthActions(new_client(app, "203.0.113.9"))
    for n in range(20):
        assert attacker.login(f"guess{n}", "wrong").status_code == 401
    assert attacker.login("chair_a").status_code == 429
    elsewhere = AuthActions(new_client(app, "198.51.100.7"))
    assert elsewhere.login("chair_a").status_code == 302
    with pf.db.read_session() as s:
        rows = s.exec(
            select(LoginAttempt.success).where(LoginAttempt.address == "203.0.113.9")
        ).all()
    assert rows == [False] * 20


def test_very_long_user_names_are_cut_not_refused(auth: AuthActions) -> None:
    response = auth.login("a" * 79 + "ü" * 30, "wrong")
    assert response.status_code == 422  # longer than a user name can be
    assert auth.login("a" * 80, "wrong").status_code == 401


# -- password change ------------------------------------------------------------------


def test_password_change_signs_out_other_sessions(
    app: Flask, client: WebClient, auth: AuthActions
) -> None:
    auth.login("chair_a")
    laptop = signed_in(app, "chair_a")
    assert laptop.get("/").status_code == 200
    response = client.post_form(
        "/auth/password",
        {"current": PASSWORD, "new": "a brand new secret", "confirm": "a brand new secret"},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session goes on
    assert laptop.get("/").status_code == 302  # the other one ended
    assert AuthActions(new_client(app)).login("chair_a").status_code == 401
    assert AuthActions(new_client(app)).login("chair_a", "a brand new secret").status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"current": "wrong", "new": "long enough 1", "confirm": "long enough 1"}, "not your"),
        ({"current": PASSWORD, "new": "short", "confirm": "short"}, "Between 8 and 256"),
        ({"current": PASSWORD, "new": "long enough 1", "confirm": "long enough 2"}, "differ"),
        ({"current": "", "new": "", "confirm": ""}, "This field is required."),
    ],
)
def test_password_change_is_validated(
    client: WebClient, auth: AuthActions, pf: Planflow, form: dict[str, str], message: str
) -> None:
    auth.login("chair_a")
    before = _session_version(pf, "chair_a")
    response = client.post_form("/auth/password", form)
    assert response.status_code == 422
    assert message in text(response)
    assert _session_version(pf, "chair_a") == before
    assert client.get("/").status_code == 200


def test_a_password_the_library_refuses_is_said_by_code(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal the form's own checks did not foresee reaches the user in their language."""
    from planflow.errors import ValidationError
    from planflow_web import accounts

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValidationError("a password cannot contain that", code="password_invalid")

    monkeypatch.setattr(accounts, "change_password", refuse)
    client = signed_in(app, "chair_a")
    client.post_form("/auth/language", {"language": "zh"})
    form = {"current": PASSWORD, "new": "long enough 1", "confirm": "long enough 1"}
    response = client.post_form("/auth/password", form)
    assert response.status_code == 422
    page = text(response)
    assert "a password cannot contain that" not in page
    assert "此密码包含不能使用的字符。" in page


def _session_version(pf: Planflow, username: str) -> int:
    with pf.db.read_session() as s:
        user = s.exec(select(User).where(User.username == username)).one()
        return user.session_version


# -- CSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/auth/login", "/auth/language", "/plans/1/act", "/plans/1/comments", "/plans/new"]
)
def test_posts_without_a_valid_csrf_token_are_refused(
    client: WebClient, auth: AuthActions, path: str
) -> None:
    if path != "/auth/login":
        auth.login("chair_a")
    missing = client.post(path, data={"username": "chair_a", "password": PASSWORD})
    assert missing.status_code == 400
    assert "expired or was not sent from this site" in text(missing)
    forged = client.post(path, data={"csrf_token": "forged", "username": "chair_a"})
    assert forged.status_code == 400


def test_a_token_from_another_session_is_refused(app: Flask, auth: AuthActions) -> None:
    auth.login("chair_a")
    other = signed_in(app, "chair_b")
    foreign = other.csrf_token()
    response = auth.client.post("/plans/new", data={"csrf_token": foreign, "title": "x"})
    assert response.status_code == 400


# -- language -------------------------------------------------------------------------


def test_language_before_sign_in_is_kept_in_the_session(client: WebClient) -> None:
    response = client.post_form("/auth/language", {"language": "ko", "next": "/auth/login"})
    assert response.headers["Location"] == "/auth/login"
    page = text(client.get("/auth/login"))
    assert '<html lang="ko">' in page
    assert "로그인" in page


def test_language_is_remembered_on_the_user(
    app: Flask, client: WebClient, auth: AuthActions, pf: Planflow
) -> None:
    auth.login("reviewer")
    client.post_form("/auth/language", {"language": "zh", "next": "/plans/"})
    assert '<html lang="zh-Hans">' in text(client.get("/plans/"))
    with pf.db.read_session() as s:
        assert s.exec(select(User.language).where(User.username == "reviewer")).one() == "zh"
    laptop = signed_in(app, "reviewer")  # another device, no session choice
    assert "计划" in text(laptop.get("/plans/"))


def test_browser_language_is_used_before_any_choice(client: WebClient) -> None:
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in text(page)


@pytest.mark.parametrize("choice", ["fr", "", "zh\x00"])
def test_unknown_language_changes_nothing(client: WebClient, choice: str) -> None:
    response = client.post_form("/auth/language", {"language": choice, "next": "//evil.org"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert '<html lang="en">' in text(client.get("/auth/login"))


def test_the_sign_in_redirect_leads_back(client: WebClient, auth: AuthActions) -> None:
    first = client.get("/plans/?year=2027")
    login_url = first.headers["Location"]
    assert login_url.startswith("/auth/login?next=")
    page = text(client.get(login_url))
    assert "Please sign in to see this page." in page
    match = re.search(r'<form method="post" action="([^"]+)"', page)
    assert match
    action = match.group(1).replace("&amp;", "&")
    response = client.post_form(action, {"username": "chair_a", "password": PASSWORD})
    assert response.headers["Location"] == "/plans/?year=2027"
