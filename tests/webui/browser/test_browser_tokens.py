"""Making a personal access token in a real browser: the secret shown once, then revoked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

from planflow.app import Planflow


def test_create_a_token_see_it_once_and_revoke_it(
    signed_in_page: Callable[[str], Page], pf: Planflow, artifacts: Path
) -> None:
    page = signed_in_page("reviewer")
    page.get_by_role("link", name="Tokens and feeds").click()
    page.get_by_label("Name").fill("Reporting dashboard")
    page.get_by_label("Scope").select_option("write")
    page.get_by_label("Expires").select_option("365")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-secret").inner_text()
    page.screenshot(path=str(artifacts / "token-shown-once.png"))
    assert pf.tokens.authenticate(secret).scope == "write"
    page.reload()
    assert page.locator("#token-secret").count() == 0
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke Reporting dashboard").click()
    page.get_by_text("The token was revoked").wait_for()
    assert pf.tokens.of_user("reviewer")[0].revoked_at is not None
