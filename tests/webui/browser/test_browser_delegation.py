"""Delegation (委托) in real Chromium: the reviewer names a deputy, the deputy approves.

The reviewer opens "Out of office", names the officer for the week; the
officer finds the task among the ones they may act on for someone away,
opens it, reads that they act on behalf of the reviewer, approves and
confirms; the timeline says "Officer on behalf of Reviewer".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from stored import stored_plan
from webui_support import Plans

from planflow.app import Planflow


def test_a_deputy_approves_on_behalf_of_the_reviewer(
    signed_in_page: Callable[[str], Page], artifacts: Path, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    reviewer = signed_in_page("reviewer")
    reviewer.get_by_role("link", name="Out of office").click()
    reviewer.get_by_label("Deputy (username)").fill("officer")
    reviewer.get_by_label("First day").fill("2027-01-04")
    reviewer.get_by_label("Last day").fill("2027-01-08")
    reviewer.get_by_label("Reason (optional)").fill("Annual leave")
    reviewer.get_by_role("button", name="Save the delegation").click()
    reviewer.wait_for_load_state()
    expect(
        reviewer.get_by_text("Officer is your deputy from 2027-01-04 to 2027-01-08.")
    ).to_be_visible()
    reviewer.screenshot(path=str(artifacts / "01-delegation-set.png"), full_page=True)

    deputy = signed_in_page("officer")
    deputy.goto("/settings/delegations/")
    deputy.get_by_role("link", name="Work plan 2027").click()
    deputy.wait_for_load_state()
    expect(deputy.locator("#on-behalf")).to_contain_text("acting on behalf of Reviewer")
    deputy.get_by_role("button", name="Approve", exact=True).click()
    deputy.wait_for_load_state()
    deputy.get_by_role("button", name="Confirm", exact=True).click()
    deputy.wait_for_load_state()
    expect(deputy.locator(".state")).to_have_text("Approved")
    assert stored_plan(pf, plan_id).state == "approved"

    reviewer.goto(f"/plans/{plan_id}/timeline")
    expect(reviewer.get_by_text("on behalf of Reviewer").first).to_be_visible()
    reviewer.screenshot(path=str(artifacts / "02-on-behalf.png"), full_page=True)
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.actor, last.on_behalf_of) == ("approve", "officer", "reviewer")
