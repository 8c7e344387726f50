"""The API's documentation page works in a real browser, from vendored assets only."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from planflow.app import Planflow


# One database: the page and its assets are static (the API's own tests run on both).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_docs_page_shows_every_endpoint_and_loads_nothing_from_elsewhere(
    browser: Browser, live_server: str, pf: Planflow, artifacts: Path
) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{live_server}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    page.screenshot(path=str(artifacts / "api-docs.png"), full_page=False)
    context.close()
    assert {"/api/v1/plans", "/api/v1/plans/{plan_id}", "/api/v1/me/tasks"} <= {
        p.replace("\u200b", "") for p in paths
    }, paths
    assert all(url.startswith(live_server) or url.startswith("data:") for url in requested), [
        u for u in requested if not u.startswith(live_server)
    ]
    assert failed == []
    assert problems == []
