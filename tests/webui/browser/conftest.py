"""Browser fixtures: the app served over real HTTP, and Debian's Chromium driving it.

``live_server`` serves the test's ``app`` (same ``Planflow``, same fixed
clock, so a test can move time forward between steps) from a thread on a
free port. ``browser`` is one headless Chromium for the session, started
from the Debian binary because browsers cannot be downloaded here; every
user gets their own browser context (cookies and all), as if on their own
machine.

Without a Chromium binary these tests are skipped with one line saying so;
CI sets ``PLANFLOW_TEST_REQUIRE_BROWSER=1`` so that a missing browser fails
instead. Screenshots go to ``PLANFLOW_TEST_ARTIFACTS`` (default
``build/test-artifacts``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from webui_support import PASSWORD
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path(os.environ.get("PLANFLOW_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("PLANFLOW_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
#: Chromium's own network chatter is refused on a closed network; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium): browser tests SKIPPED"
        if os.environ.get("PLANFLOW_TEST_REQUIRE_BROWSER"):
            pytest.fail(message.replace("SKIPPED", "required by PLANFLOW_TEST_REQUIRE_BROWSER"))
        pytest.skip(message)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """A folder for this test's screenshots (named after the test and its database)."""
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def signed_in_page(browser: Browser, live_server: str) -> Iterator[Callable[[str], Page]]:
    """``signed_in_page("reviewer")``: a page in a new browser context, signed in."""
    contexts = []

    def open_as(username: str) -> Page:
        context = browser.new_context(base_url=live_server, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/auth/login")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/")
        return page

    yield open_as
    for context in contexts:
        context.close()
