"""The review on a phone: a 390 x 844 viewport in real Chromium.

The review queue and the plan page fit the screen's width (cards, not wide
tables: nothing scrolls sideways), the header stays under 120 px, and the
reviewer approves through the action's own confirmation step, after which
the page says what happened and offers the next plan of the queue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from stored import stored_plan
from webui_support import PASSWORD, Plans

from planflow.app import Planflow

PHONE = {"width": 390, "height": 844}
#: The elements that reach past the screen's right edge (for the failure message).
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 390 && !e.closest('.main-nav, .tools'))
  .slice(0, 12)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
  .join(', ')"""
LONG = "Collect membership dues in full in every workplace of the branch, " * 3


def fits(page: Page) -> None:
    # A click that navigates returns before the new document exists; measuring
    # then reads a page that is not there yet (documentElement is null).
    page.wait_for_load_state("load")
    page.wait_for_function("document.documentElement && document.querySelector('.site-header')")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(WIDEST)
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width} px ({wide})"
    header = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    assert header < 120, f"{page.url}: the header takes {header} px"


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/auth/login")
    page.get_by_label("User name").fill("reviewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    yield page
    context.close()


def test_a_reviewer_approves_on_a_phone(
    phone: Page, plans: Plans, pf: Planflow, artifacts: Path
) -> None:
    first = plans.create(title="Branch A work plan 2027 with a rather long title", items=0)
    plans.set_items(first, [LONG, "Hold the members' congress"], actor="drafter_a")
    plans.fire(first, ("submit", "chair_a"), ("start_review", "reviewer"))
    second = plans.under_review(title="Second plan")
    phone.goto("/reviews/")
    fits(phone)
    phone.screenshot(path=str(artifacts / "01-queue.png"), full_page=True)
    phone.goto(f"/plans/{first}")
    fits(phone)
    phone.screenshot(path=str(artifacts / "02-plan.png"), full_page=True)
    phone.get_by_role("button", name="Approve", exact=True).click()
    expect(phone.get_by_text("Please confirm: Approve.")).to_be_visible()
    assert stored_plan(pf, first).state == "under_review"
    fits(phone)
    phone.get_by_role("button", name="Confirm", exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text("The plan is now: Approved")
    assert stored_plan(pf, first).state == "approved"
    phone.get_by_role("link", name="Next in queue").click()
    phone.wait_for_url(f"**/plans/{second}")
    phone.screenshot(path=str(artifacts / "03-next.png"), full_page=True)


def test_the_email_settings_page_on_a_phone(phone: Page, pf: Planflow, artifacts: Path) -> None:
    """From the notifications to the e-mail settings, choose the daily digest by tapping
    its label, save; the page fits the width and says what was saved."""
    phone.goto("/notifications/")
    phone.get_by_role("link", name="E-mail settings").click()
    expect(phone).to_have_url(re.compile(r"/notifications/email/$"))
    fits(phone)
    expect(phone.get_by_label("Immediately")).to_be_checked()
    box = phone.get_by_text("Daily digest", exact=True).bounding_box()
    assert box is not None and box["height"] >= 16  # a label big enough to tap
    phone.get_by_text("Daily digest", exact=True).click()
    expect(phone.get_by_label("Daily digest")).to_be_checked()
    phone.screenshot(path=str(artifacts / "email-settings.png"), full_page=True)
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_text("Your e-mail setting was saved: Daily digest.")).to_be_visible()
    fits(phone)
    expect(phone.get_by_label("Daily digest")).to_be_checked()
    assert pf.inbox.email_preference("reviewer") == "digest"
