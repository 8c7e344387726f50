"""Helpers for the web UI tests: a CSRF-aware client, sign-in, a plan factory.

Every user of the ``org`` fixture gets the password ``PASSWORD``. CSRF
protection stays on in every test: the client fetches a page and sends its
token back, like a browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from inspection_support import fire
from jinja2.bccache import Bucket, BytecodeCache
from stored import stored_plan
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow_web import create_app

PASSWORD = "correct horse battery"
SECRET = "test-secret-key-0123456789abcdef0123456789"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class WebClient(FlaskClient):
    """A test client that sends the CSRF token of its session with every form."""

    #: (session cookie, token) of the last token read from a page.
    _csrf: tuple[str, str] | None = None

    def csrf_token(self) -> str:
        """The CSRF token of this client's session, as a page shows it.

        Read from the home page, again only when the session cookie has changed
        since: the token is valid for as long as the session holds the secret it
        was made from, and a cookie that has not changed holds the same session.
        Reading it on every form cost a rendered dashboard per POST (~15% of
        the web tests' time).
        """
        cookie = self._session_cookie()
        if self._csrf is not None and cookie is not None and self._csrf[0] == cookie:
            return self._csrf[1]
        page = self.get("/", follow_redirects=True)
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        cookie = self._session_cookie()
        self._csrf = None if cookie is None else (cookie, match.group(1))
        return match.group(1)

    def _session_cookie(self) -> str | None:
        found = self.get_cookie(self.application.config["SESSION_COOKIE_NAME"])
        return None if found is None else found.value

    def post_form(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=form, **kwargs)


class AuthActions:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def login(self, username: str, password: str = PASSWORD, **kwargs: Any) -> TestResponse:
        return self.client.post_form(
            "/auth/login", {"username": username, "password": password}, **kwargs
        )

    def logout(self) -> TestResponse:
        return self.client.post_form("/auth/logout")


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory for every app of the test process.

    Each test makes its own app, and each app's Jinja environment compiled every
    template it rendered again (~0.2 s a test). Jinja checks each entry against
    the template's source, so an edited template is compiled anew.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedBytecodeCache()
#: The lowest Argon2 cost, for the passwords the fixtures store (``password_hash``).
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _remember_url_builders() -> None:
    """Let every app of the test process share werkzeug's compiled URL builders.

    werkzeug compiles two small Python functions per URL rule when an app is
    made (``Rule._compile_builder``: an AST, then ``compile()``): ~80% of the
    ~50 ms ``create_app`` costs, paid again by every web test. The code of a
    builder depends only on the rule's text, its parsed parts, its defaults and
    whether unknown arguments are appended, so the same function serves every
    app; it is bound to each rule as before. Tests only: a server makes one app.
    """
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "remembers", False):
        return  # another werkzeug, or done already
    builders: dict[tuple[object, ...], Any] = {}

    def remembered(self: Rule, append_unknown: bool = True) -> Any:
        key = (
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            append_unknown,
        )
        found = builders.get(key)
        if found is None:
            found = builders[key] = compile_builder(self, append_unknown)
        return found

    remembered.remembers = True  # type: ignore[attr-defined]
    Rule._compile_builder = remembered  # type: ignore[method-assign]


_remember_url_builders()


def make_app(pf: Planflow, **config: Any) -> Flask:
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "PLANFLOW": pf, **config})
    app.test_client_class = WebClient
    app.jinja_env.bytecode_cache = TEMPLATES
    return app


def new_client(app: Flask, address: str | None = None) -> WebClient:
    """Another browser (from another address, if given)."""
    client = app.test_client()
    assert isinstance(client, WebClient)
    if address is not None:
        client.environ_base["REMOTE_ADDR"] = address
    return client


def signed_in(app: Flask, username: str) -> WebClient:
    """Another browser, signed in as ``username``."""
    other = new_client(app)
    response = AuthActions(other).login(username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return other


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


Step = tuple[str, str] | tuple[str, str, str]


@dataclass
class Plans:
    """Plans of the ``org`` fixture, driven through the library."""

    pf: Planflow

    def create(
        self,
        unit: str = "branch_a",
        *,
        title: str = "Work plan 2027",
        workflow: str = "annual_plan",
        items: int = 2,
    ) -> int:
        drafter = "drafter_a" if unit == "branch_a" else "drafter_b"
        plan_id = self.pf.create_plan(
            unit_code=unit, year=2027, title=title, actor=drafter, workflow=workflow
        )
        if items:
            self.set_items(plan_id, [f"Item number {n}" for n in range(1, items + 1)], drafter)
        return plan_id

    def set_items(self, plan_id: int, texts: list[str], actor: str) -> None:
        content = PlanContent(2027).add_section("Education", key="s1")
        for n, item in enumerate(texts, 1):
            content = content.add_item("s1", item, due=n % 12 + 1, key=f"i{n}")
        self.pf.content.set_content(plan_id, content, actor=actor, expected_version=None)

    def fire(self, plan_id: int, *steps: Step) -> None:
        for step in steps:
            comment = step[2] if len(step) == 3 else None
            fire(self.pf, plan_id, step[0], step[1], comment)

    def submitted(self, unit: str = "branch_a", **kwargs: Any) -> int:
        plan_id = self.create(unit, **kwargs)
        self.fire(plan_id, ("submit", "chair_a" if unit == "branch_a" else "chair_b"))
        return plan_id

    def under_review(self, unit: str = "branch_a", **kwargs: Any) -> int:
        plan_id = self.submitted(unit, **kwargs)
        self.fire(plan_id, ("start_review", "reviewer"))
        return plan_id

    def version(self, plan_id: int) -> int:
        return stored_plan(self.pf, plan_id).version

    def state(self, plan_id: int) -> str:
        return stored_plan(self.pf, plan_id).state
