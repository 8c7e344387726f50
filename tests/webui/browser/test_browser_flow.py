"""The whole life of a plan in real Chromium, each person in their own browser.

A drafter creates a plan and writes it by pasting plain text into the editor,
the branch chair submits it, the union's reviewer returns it with a comment,
the drafter reads the reason and fixes the item, the chair resubmits, the
reviewer sees what changed and approves, and the timeline tells all of it.
Screenshots of the key pages are saved as test artefacts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from planflow.api import Planflow

PLAN_TEXT = """一、组织建设
1. Hold the union committee meeting every quarter (March, June, September, December)
2. Collect membership dues in full: dues collected 100%, due in December
二、劳动竞赛
1. Competitions in May, July and September
"""


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def act(page: Page, action: str, comment: str | None = None) -> None:
    """Press an action button on the plan page (with a comment if given)."""
    if comment is not None:
        page.get_by_label("Comment or reason").fill(comment)
    page.get_by_role("button", name=action, exact=True).click()
    page.wait_for_load_state()


def create_and_write_plan(drafter: Page, title: str) -> int:
    drafter.goto("/plans/new")
    drafter.get_by_label("Title").fill(title)
    drafter.get_by_role("button", name="Create plan").click()
    expect(drafter.get_by_role("heading", level=1)).to_have_text(title)
    plan_id = int(drafter.url.rstrip("/").rsplit("/", 1)[1])
    drafter.goto(f"/plans/{plan_id}/edit")
    drafter.get_by_text("Import from plain text").click()
    drafter.get_by_label("Plain text of a plan").fill(PLAN_TEXT)
    drafter.get_by_role("button", name="Add the imported sections at the end").click()
    drafter.get_by_role("button", name="Save", exact=True).last.click()
    drafter.wait_for_load_state()
    return plan_id


def test_plan_is_drafted_returned_fixed_and_approved(
    signed_in_page: Callable[[str], Page], artifacts: Path, pf: Planflow
) -> None:
    drafter = signed_in_page("drafter_a")
    plan_id = create_and_write_plan(drafter, "Branch A work plan 2027")
    shot(drafter, artifacts, "01-editor-saved")
    assert pf.plan(plan_id).state == "draft"

    chair = signed_in_page("chair_a")
    chair.goto(f"/plans/{plan_id}")
    act(chair, "Submit")
    expect(chair.locator(".state")).to_have_text("Submitted")

    reviewer = signed_in_page("reviewer")
    reviewer.goto("/reviews/")
    shot(reviewer, artifacts, "02-review-queue")
    reviewer.get_by_role("link", name="Branch A work plan 2027").click()
    act(reviewer, "Start review")
    act(reviewer, "Return for revision")  # no reason: refused, nothing changes
    expect(reviewer.get_by_role("alert")).to_be_visible()
    assert pf.plan(plan_id).state == "under_review"
    act(reviewer, "Return for revision", "Item 1.2 needs a month for the dues check.")
    expect(reviewer.locator(".state")).to_have_text("Returned for revision")
    shot(reviewer, artifacts, "03-returned")

    drafter.goto("/")
    drafter.get_by_role("link", name="Branch A work plan 2027").first.click()
    expect(drafter.get_by_text("Item 1.2 needs a month for the dues check.")).to_be_visible()
    drafter.goto(f"/plans/{plan_id}/edit")
    drafter.locator("#item-0-1 textarea").fill(
        "Collect membership dues in full and check them at the end of December"
    )
    drafter.get_by_role("button", name="Save", exact=True).last.click()
    drafter.wait_for_load_state()

    chair.goto(f"/plans/{plan_id}")
    act(chair, "Resubmit")

    reviewer.goto(f"/plans/{plan_id}")
    act(reviewer, "Start review")
    expect(reviewer.get_by_text("check them at the end of December").first).to_be_visible()
    shot(reviewer, artifacts, "04-plan-with-diff")
    act(reviewer, "Approve")
    expect(reviewer.locator(".state")).to_have_text("Approved")

    drafter.goto(f"/plans/{plan_id}/timeline")
    timeline = drafter.locator(".timeline")
    for entry in ("Submit", "Start review", "Return for revision", "Resubmit", "Approve"):
        expect(timeline).to_contain_text(entry)
    expect(timeline).to_contain_text("Item 1.2 needs a month for the dues check.")
    shot(drafter, artifacts, "05-timeline")
    assert pf.plan(plan_id).state == "approved"
