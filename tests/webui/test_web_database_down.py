"""Every page answers 503 while the database is unavailable, and keeps what was typed.

The database is made unavailable for real, without touching the shared
server: on PostgreSQL the app connects as a role of its own, which is then
refused new connections (``NOLOGIN``) and has its backends terminated
(``pg_terminate_backend``); on SQLite another connection holds the file in
exclusive mode, so that it can be neither read nor written. Every page
answers 503 with ``Retry-After``, says in the reader's language that nothing
was saved, and after a form shows the text that was sent, so it can be
copied; never a 500. Once the database is back, the same pages work again.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from outages import Outage, sqlite_locked
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from test_connection_loss import _while_its_backend_is_ended
from test_web_admin_support import Admins
from webui_support import Plans, WebClient, make_app, signed_in
from webui_support import text as page_text

import planflow.storage.db as db_module
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.errors import DatabaseUnavailable
from planflow.storage.db import normalise_url
from planflow.storage.db_errors import unavailable
from planflow.storage.tx import ConnectionLost

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
UNAVAILABLE_EN = "The database is unavailable at the moment, so nothing was saved."
UNAVAILABLE_ZH = "数据库暂时无法使用"
COMMENT = "Item 2 needs a target:\nten members by June. <b>not bold</b>"


@contextmanager
def postgres_role(url: str) -> Iterator[tuple[str, Outage]]:
    """A URL that connects as a new role with rights on ``url``'s schema, and the outage."""
    role = f"planflow_down_{uuid.uuid4().hex[:8]}"
    options = make_url(url).query.get("options", "")
    schema = str(options).split("search_path=", 1)[1]
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")

    def run(*statements: str) -> None:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))

    run(
        f"CREATE ROLE {role} LOGIN PASSWORD 'down-test'",
        f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
        f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO {role}',
        f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}',
    )
    kill = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"

    def down() -> None:
        run(f"ALTER ROLE {role} NOLOGIN", kill)

    def up() -> None:
        run(f"ALTER ROLE {role} LOGIN")

    try:
        role_url = make_url(normalise_url(url)).set(username=role, password="down-test")
        yield role_url.render_as_string(hide_password=False), (down, up)
    finally:
        run(f"ALTER ROLE {role} NOLOGIN", kill, f"DROP OWNED BY {role}", f"DROP ROLE {role}")
        admin.dispose()


@pytest.fixture
def outage(
    app: Flask,
    pf: Planflow,
    database_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Flask, Outage]]:
    """An app on its own connections to the test database, and a way to take it away."""
    # SQLite waits for a lock up to the busy timeout: a short one, for the test.
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    monkeypatch.setenv("PLANFLOW_SQLITE_CHECKPOINT", "inline")
    # The outage lasts: no waiting for a server that refuses us (test_database_restart).
    monkeypatch.setenv("PLANFLOW_DATABASE_WAIT", "0")
    others = [pf]  # SQLite: every Planflow on the file, closed before it is locked
    if pf.db.is_postgres:
        context = postgres_role(database_url)
    else:
        context = sqlite_locked(database_url, others)
    with context as (url, (down, up)):
        own = Planflow(url, clock=clock, workflows_dir=WORKFLOWS)
        others.append(own)
        try:
            yield make_app(own), (down, up)
        finally:
            own.close()


def assert_unavailable(response: Any, language: str = "en") -> str:
    assert response.status_code == 503, response.get_data(as_text=True)[:2000]
    assert response.headers["Retry-After"] == "30"
    page = page_text(response)
    assert "Traceback" not in page
    assert (UNAVAILABLE_EN if language == "en" else UNAVAILABLE_ZH) in page
    return page


def test_every_page_answers_503_and_a_form_keeps_what_was_typed(
    outage: tuple[Flask, Outage], plans: Plans, pf: Planflow
) -> None:
    app, (down, up) = outage
    plan_id = plans.submitted("branch_a")
    reviewer = signed_in(app, "reviewer")
    token = reviewer.csrf_token()
    assert reviewer.get(f"/plans/{plan_id}").status_code == 200
    before = len(pf.audit_trail(plan_id))
    anonymous: WebClient = app.test_client()  # type: ignore[assignment]
    anonymous_token = anonymous.csrf_token()

    down()
    for path in ("/", f"/plans/{plan_id}", "/plans/", "/reviews/", "/notifications/"):
        assert_unavailable(reviewer.get(path))
    signing_in = anonymous.post(
        "/auth/login",
        data={"csrf_token": anonymous_token, "username": "ana", "password": "secret words"},
    )
    assert "secret words" not in assert_unavailable(signing_in)
    posted = reviewer.post(
        f"/plans/{plan_id}/comments", data={"csrf_token": token, "body": COMMENT}
    )
    page = assert_unavailable(posted)
    html = posted.get_data(as_text=True)
    assert "What you typed" in page and "Comment" in page
    # The text as it was sent, escaped, in a field it can be copied from.
    assert "ten members by June. &lt;b&gt;not bold&lt;/b&gt;</textarea>" in html
    assert token not in html  # never the form's secrets
    acted = reviewer.post(
        f"/plans/{plan_id}/act",
        data={"csrf_token": token, "action": "start_review", "expected_version": "3"},
    )
    assert_unavailable(acted)
    assert "expected_version" not in acted.get_data(as_text=True)

    up()
    assert reviewer.get(f"/plans/{plan_id}").status_code == 200
    assert len(pf.audit_trail(plan_id)) == before  # nothing was saved
    again = reviewer.post(f"/plans/{plan_id}/comments", data={"csrf_token": token, "body": COMMENT})
    assert again.status_code == 302
    assert pf.audit_trail(plan_id)[-1].comment == COMMENT


def test_the_page_speaks_the_readers_language_without_the_database(
    outage: tuple[Flask, Outage], plans: Plans
) -> None:
    app, (down, _up) = outage
    client: WebClient = app.test_client()  # type: ignore[assignment]
    client.post_form("/auth/language", {"language": "zh", "next": "/auth/login"})
    token = client.csrf_token()
    down()
    # The sign-in form needs no database; signing in does.
    assert client.get("/auth/login").status_code == 200
    response = client.post(
        "/auth/login", data={"csrf_token": token, "username": "reviewer", "password": "x" * 9}
    )
    assert_unavailable(response, "zh")
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert "用户名" in html and ">reviewer</textarea>" in html  # the label, and what was typed
    assert "x" * 9 not in html


def test_a_killed_connection_costs_at_most_one_page(
    app: Flask, pf: Planflow, database_url: str, clock: FixedClock, plans: Plans
) -> None:
    """PostgreSQL: the app's backends are terminated (the server stays up)."""
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no connection to kill")
    with postgres_role(database_url) as (url, _outage):
        own = Planflow(url, clock=clock, workflows_dir=WORKFLOWS)
        try:
            web = make_app(own)
            plan_id = plans.submitted("branch_a")
            reviewer = signed_in(web, "reviewer")
            token = reviewer.csrf_token()
            admin = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE usename = :role"
                    ),
                    {"role": make_url(url).username},
                )
            admin.dispose()
            statuses = [reviewer.get(f"/plans/{plan_id}").status_code for _ in range(3)]
            assert 500 not in statuses and statuses[-1] == 200, statuses
            assert set(statuses) <= {200, 503}
            posted = reviewer.post(
                f"/plans/{plan_id}/comments", data={"csrf_token": token, "body": "back"}
            )
            assert posted.status_code == 302
        finally:
            own.close()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("unable to open database file"), True),
        (sqlite3.DatabaseError("file is not a database"), True),
        (sqlite3.OperationalError("no such table: plan"), False),
        (sqlite3.IntegrityError("UNIQUE constraint failed: unit.code"), False),
        (ValueError("not a database error"), False),
        (ConnectionLost(before_commit=True), True),
    ],
)
def test_which_errors_mean_the_database_is_unavailable(error: Exception, expected: bool) -> None:
    assert (unavailable(error) is not None) == expected


def test_a_connection_lost_during_commit_does_not_say_nothing_was_saved(
    app: Flask, monkeypatch: pytest.MonkeyPatch, plans: Plans
) -> None:
    plan_id = plans.submitted("branch_a")
    reviewer = signed_in(app, "reviewer")
    token = reviewer.csrf_token()
    pf: Planflow = app.extensions["planflow"]

    def lost(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionLost(before_commit=False)

    monkeypatch.setattr(pf.content, "add_comment", lost)
    response = reviewer.post(
        f"/plans/{plan_id}/comments", data={"csrf_token": token, "body": "maybe"}
    )
    assert response.status_code == 503
    page = page_text(response)
    assert "it is not known whether your change was saved" in page
    assert "nothing was saved" not in page
    assert isinstance(ConnectionLost(before_commit=False), DatabaseUnavailable)
    assert ConnectionLost(before_commit=False).params == {"saved": "unknown"}


def test_a_page_that_keeps_its_form_answers_503_with_the_form_filled_in(
    app: Flask, monkeypatch: pytest.MonkeyPatch, plans: Plans
) -> None:
    # The database fails the action and is back for the page: the plan page
    # itself comes back with the comment typed, as after any refusal.
    plan_id = plans.submitted("branch_a")
    reviewer = signed_in(app, "reviewer")
    pf: Planflow = app.extensions["planflow"]

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionLost(before_commit=True)

    monkeypatch.setattr(pf, "fire", down)
    response = reviewer.post_form(
        f"/plans/{plan_id}/act",
        {"action": "start_review", "expected_version": str(plans.version(plan_id)),
         "comment": "Taking this one"},
    )  # fmt: skip
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = page_text(response)
    assert UNAVAILABLE_EN in page
    assert "\nTaking this one</textarea>" in response.get_data(as_text=True)  # kept


# -- a write whose connection is ended while its statement runs (issue 19, item 1) -----------


def _ended_mid_statement(pf: Planflow, send: Any, lock: str) -> Any:
    """``send`` (a request) while ``lock`` holds its write back; the waiting backend is
    terminated, then the lock goes (``test_connection_loss`` says how)."""
    answered = _while_its_backend_is_ended(pf, lambda _pf: send(), lock=lock)
    assert not isinstance(answered, Exception), repr(answered)
    return answered


def test_signing_in_on_a_connection_ended_mid_statement_signs_in(
    app: Flask, pf: Planflow, plans: Plans
) -> None:
    """The sign-in form is the first thing people meet after a database restart: its
    write runs again on a new connection (it saved nothing), the person is signed in."""
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no connection to end")
    pf.org.set_password("reviewer", "correct horse 1")
    client: WebClient = app.test_client()  # type: ignore[assignment]
    token = client.csrf_token()
    form = {"csrf_token": token, "username": "reviewer", "password": "correct horse 1"}
    answered = _ended_mid_statement(
        pf, lambda: client.post("/auth/login", data=form), "login_attempt IN ACCESS EXCLUSIVE MODE"
    )
    assert answered.status_code == 302, page_text(answered)[:2000]
    assert client.get("/").status_code == 200


def test_an_admin_form_and_an_api_write_on_a_connection_ended_mid_statement_are_never_a_500(
    app: Flask, pf: Planflow, plans: Plans, admins: Admins
) -> None:
    """The admin's ORM writes: saved on a retry, or 503 with what was typed shown
    back; the API's writes: saved, or 503 problem details. Never a 500."""
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no connection to end")
    admin = signed_in(app, "union_admin")
    form = {
        "csrf_token": admin.csrf_token(),
        "username": "new.person",
        "display_name": "New Person 新人",
        "email": "new@example.org",
        "language": "ko",
        "password": "",
        "role": "drafter",
        "unit": "branch_a",
    }
    made = _ended_mid_statement(
        pf,
        lambda: admin.post("/admin/users/new", data=form),
        "org_audit_head IN ACCESS EXCLUSIVE MODE",
    )
    if made.status_code == 503:
        assert "New Person 新人" in assert_unavailable(made)
    else:
        assert made.status_code == 302, page_text(made)[:2000]

    plan_id = plans.submitted("branch_a")
    secret = pf.tokens.create("reviewer", scope="write", name="t").secret
    api: WebClient = app.test_client()  # type: ignore[assignment]
    posted = _ended_mid_statement(
        pf,
        lambda: api.post(
            f"/api/v1/plans/{plan_id}/comments",
            headers={"Authorization": f"Bearer {secret}"},
            json={"body": "after the restart"},
        ),
        "audit_record IN ACCESS EXCLUSIVE MODE",
    )
    # The transition path runs again on a new connection: saved.
    assert posted.status_code == 200, posted.get_data(as_text=True)[:2000]
    assert pf.audit_trail(plan_id)[-1].comment == "after the restart"

    admin_token = pf.tokens.create("union_admin", scope="admin", name="a").secret
    person = {"username": "api.person", "display_name": "N", "role": "drafter", "unit": "branch_a"}
    created = _ended_mid_statement(
        pf,
        lambda: api.post(
            "/api/v1/admin/people",
            headers={"Authorization": f"Bearer {admin_token}"},
            json=person,
        ),
        "org_audit_head IN ACCESS EXCLUSIVE MODE",
    )
    assert created.status_code in (201, 503), created.get_data(as_text=True)[:2000]
    if created.status_code == 503:
        assert created.mimetype == "application/problem+json"
        assert created.headers["Retry-After"] == "30"


NOT_INITIALISED = {
    "en": "The database has no planflow tables yet.",
    "zh": "数据库中还没有 planflow 的数据表",
    "ko": "데이터베이스에 아직 planflow 테이블이 없습니다",
}
#: The page's heading: not "unavailable", which says to wait and try again.
NOT_SET_UP = {
    "en": "The database is not set up yet",
    "zh": "数据库尚未建立",
    "ko": "데이터베이스가 아직 설정되지 않았습니다",
}


@pytest.mark.parametrize("language", list(NOT_INITIALISED))
def test_a_database_nobody_set_up_is_said_in_words_not_a_traceback(
    empty_database_url: str, clock: FixedClock, language: str
) -> None:
    bare = Planflow(empty_database_url, clock=clock)
    try:
        app = make_app(bare)
        client: WebClient = app.test_client()  # type: ignore[assignment]
        client.post_form("/auth/language", {"language": language, "next": "/auth/login"})
        # The sign-in form needs no database; signing in does.
        assert client.get("/auth/login").status_code == 200
        signing_in = client.post_form("/auth/login", {"username": "ana", "password": "x" * 9})
        assert signing_in.status_code == 503
        page = page_text(signing_in)
        assert NOT_INITIALISED[language] in page and "planflow init" in page
        assert f"<h1>{NOT_SET_UP[language]}</h1>" in signing_in.get_data(as_text=True)
        assert "Traceback" not in page and "no such table" not in page
        api = client.get(
            "/api/v1/plans",
            headers={"Authorization": "Bearer pft_" + "x" * 40, "Accept-Language": language},
        )
        assert api.status_code == 503
        body = api.get_json()
        assert body["code"] == "database_not_initialised"
        assert NOT_INITIALISED[language] in body["detail"]
    finally:
        bare.close()
