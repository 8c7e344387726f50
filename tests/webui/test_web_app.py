"""The application factory, configuration, security headers, cookies and error pages."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from webui_support import CSRF_RE, PASSWORD, AuthActions, WebClient, make_app, new_client, text

from planflow.app import Planflow
from planflow.demo import DEMO_LOGINS
from planflow_web import create_app
from planflow_web.config import config_from_env, load_or_create_secret_key
from planflow_web.security import CONTENT_SECURITY_POLICY


def test_factory_attaches_the_given_planflow(app: Flask, pf: Planflow) -> None:
    assert app.extensions["planflow"] is pf
    assert "PLANFLOW" not in app.config
    assert {"auth", "dashboard", "plans", "notifications"} <= set(app.blueprints)


def test_factory_reads_the_environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("PLANFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("PLANFLOW_SECRET_KEY", raising=False)
    app = create_app()
    try:
        key = app.config["SECRET_KEY"]
        assert len(key) >= 32
        assert (tmp_path / "instance" / "secret_key").read_text().strip() == key
        again = create_app()
        assert again.config["SECRET_KEY"] == key  # sessions survive a restart
        again.extensions["planflow"].close()
        assert isinstance(app.extensions["planflow"], Planflow)
    finally:
        app.extensions["planflow"].close()


def test_secret_key_file_is_private_and_stable(tmp_path: Path) -> None:
    key = load_or_create_secret_key(tmp_path / "inst")
    path = tmp_path / "inst" / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_secret_key(tmp_path / "inst") == key
    assert [p.name for p in (tmp_path / "inst").iterdir()] == ["secret_key"]


def test_a_broken_secret_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("short")
    with pytest.raises(RuntimeError, match="secret key"):
        load_or_create_secret_key(tmp_path)


def test_environment_settings() -> None:
    config = config_from_env(
        {
            "PLANFLOW_SECRET_KEY": "k" * 40,
            "PLANFLOW_SECURE_COOKIES": "1",
            "PLANFLOW_TIMEZONE": "Asia/Shanghai",
            "PLANFLOW_PROXIES": "1",
        }
    )
    assert config["SECRET_KEY"] == "k" * 40
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"
    assert config["PLANFLOW_PROXIES"] == 1


@pytest.mark.parametrize("path", ["/auth/login", "/no/such/page", "/static/planflow.css"])
def test_security_headers_on_every_response(client: WebClient, path: str) -> None:
    with client.get(path) as response:
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_pages_are_not_cached_and_hsts_over_https(client: WebClient) -> None:
    page = client.get("/auth/login", base_url="https://planflow.example.org")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_inline_script_or_style_in_pages(client: WebClient, auth: AuthActions) -> None:
    auth.login("reviewer")
    for path in ["/", "/plans/", "/notifications/", "/auth/password"]:
        html = text(client.get(path))
        assert "<script" not in html
        assert "style=" not in html
        assert " on" + "click=" not in html


def _session_cookie(response: object) -> str:
    cookies = [
        c
        for c in response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
        if c.startswith("planflow_session=")
    ]
    assert cookies, "no session cookie was set"
    return cookies[-1]


def test_session_cookie_flags_over_http(client: WebClient, auth: AuthActions) -> None:
    cookie = _session_cookie(auth.login("reviewer"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app: Flask) -> None:
    client = new_client(app)
    https = "https://planflow.example.org"
    token_page = client.get("/auth/login", base_url=https)
    token = CSRF_RE.search(text(token_page))
    assert token
    response = client.post(
        "/auth/login",
        data={"username": "reviewer", "password": PASSWORD, "csrf_token": token.group(1)},
        base_url=https,
        headers={"Referer": https + "/auth/login"},
    )
    assert response.status_code == 302
    cookie = _session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_session_cookie_secure_when_configured(pf: Planflow, app: Flask) -> None:
    secure = make_app(pf, SESSION_COOKIE_SECURE=True)
    cookie = _session_cookie(AuthActions(new_client(secure)).login("reviewer"))
    assert "Secure" in cookie


@pytest.mark.parametrize(
    "path", ["/plans/0", "/plans/99999999999999999999", "/plans/2147483648", "/plans/-1"]
)
def test_impossible_ids_are_404(client: WebClient, auth: AuthActions, path: str) -> None:
    auth.login("reviewer")
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found." in text(response)


def test_unknown_page_and_wrong_method(client: WebClient) -> None:
    assert client.get("/nothing-here").status_code == 404
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "does not accept" in text(response)


def test_a_request_too_large_is_413(client: WebClient) -> None:
    response = client.post("/auth/login", data={"username": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_unexpected_errors_show_a_plain_page_without_traceback(pf: Planflow, app: Flask) -> None:
    broken = make_app(pf, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @broken.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = new_client(broken).get("/boom")
    assert response.status_code == 500
    body = text(response)
    assert "Something went wrong on our side." in body
    assert "secret internals" not in body and "Traceback" not in body
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_session_cookie_secure_when_urls_are_https(pf: Planflow, app: Flask) -> None:
    secure = make_app(pf, PREFERRED_URL_SCHEME="https")
    cookie = _session_cookie(AuthActions(new_client(secure)).login("reviewer"))
    assert "Secure" in cookie


def test_missing_trailing_slash_redirects(client: WebClient, auth: AuthActions) -> None:
    auth.login("reviewer")
    response = client.get("/plans")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/plans/")


class _Fields(HTMLParser):
    """Collects element ids, label targets and form controls of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        if tag in ("select", "textarea") or (
            tag == "input" and a.get("type") not in ("hidden", "submit")
        ):
            self.controls.append((a.get("name") or "", a.get("id")))


def test_pages_label_every_field_and_repeat_no_id(
    app: Flask, client: WebClient, auth: AuthActions, pf: Planflow
) -> None:
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    pages = {"/auth/login": client.get("/auth/login")}
    auth.login("drafter_a")
    for path in ["/", "/plans/", "/plans/new", f"/plans/{plan_id}", "/notifications/"]:
        pages[path] = client.get(path)
    pages["/auth/password"] = client.get("/auth/password")
    for path, response in pages.items():
        assert response.status_code == 200, path
        parsed = _Fields()
        parsed.feed(text(response))
        duplicates = {i for i in parsed.ids if parsed.ids.count(i) > 1}
        assert duplicates == set(), path
        unlabelled = [c for c in parsed.controls if c[1] not in parsed.label_for]
        assert unlabelled == [], path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_planflow_run_serves_the_ui_and_runs_the_scheduler(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """The README's run command, minus the virtualenv: a real server, a real request.

    Started as a shell starts a background job, with SIGINT ignored (Python then
    raises no KeyboardInterrupt by itself), and stopped by Ctrl-C's signal or by a
    service manager's SIGTERM: either ends it cleanly, exit code 0."""
    port = free_port()
    env = {
        **os.environ,
        "PLANFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "PLANFLOW_INSTANCE": str(tmp_path),
        "PLANFLOW_SCHEDULER_INTERVAL": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "planflow.cli", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        page = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login", timeout=5) as r:
                    page = r.read().decode()
                    assert r.status == 200
                break
            except OSError:
                time.sleep(0.2)
        assert 'name="username"' in page, "the login page was not served"
    finally:
        proc.send_signal(stop)
        try:
            out, _ = proc.communicate(timeout=60)
        finally:
            proc.kill()  # only if it did not stop: the failure is then reported, not leaked
    assert "branch1-1.drafter" in out and "union1.reviewer" in out  # the demo logins
    logins = out.split("Demo logins", 1)[1].splitlines()[1 : 1 + len(DEMO_LOGINS)]
    columns = {line.rindex(f" {name}") for line, (_, name) in zip(logins, DEMO_LOGINS, strict=True)}
    assert len(columns) == 1, logins  # the usernames line up, however long the labels
    assert "scheduler" in out and "runs every 0:00:01" in out
    assert proc.returncode == 0, out


def test_healthz_answers_without_signing_in_or_a_session(client: WebClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers


def test_about_page_shows_the_version_to_people_signed_in(
    client: WebClient, auth: AuthActions
) -> None:
    assert client.get("/about/").status_code == 302
    auth.login("drafter_a")
    page = client.get("/about/")
    assert page.status_code == 200
    assert "About planflow" in page.get_data(as_text=True)
    assert "Version" in page.get_data(as_text=True)
