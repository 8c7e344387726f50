"""Transfer (转交) in real Chromium: the reviewer hands the review to a colleague.

The reviewer opens the plan, unfolds "Transfer", picks the colleague and
gives a reason; the page says it was transferred and offers no Approve any
more; the colleague finds the plan waiting for them and approves it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from stored import stored_plan
from webui_support import Plans

from planflow.app import Planflow


def test_a_reviewer_transfers_the_review_and_the_colleague_approves(
    signed_in_page: Callable[[str], Page], artifacts: Path, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    reviewer = signed_in_page("reviewer")
    reviewer.goto(f"/plans/{plan_id}")
    reviewer.get_by_text("Transfer", exact=True).first.click()  # unfold the form
    reviewer.get_by_label("Transfer to").select_option("reviewer2")
    reviewer.get_by_label("Reason (optional)").fill("On leave until May.")
    reviewer.get_by_role("button", name="Transfer", exact=True).click()
    reviewer.wait_for_load_state()
    expect(reviewer.get_by_text("The task was transferred to Reviewer2.")).to_be_visible()
    expect(reviewer.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    reviewer.screenshot(path=str(artifacts / "01-transferred.png"), full_page=True)

    colleague = signed_in_page("reviewer2")
    colleague.goto(f"/plans/{plan_id}")
    colleague.get_by_role("button", name="Approve", exact=True).click()
    colleague.wait_for_load_state()
    # The approval's own step (webui.steps): confirm it.
    colleague.get_by_role("button", name="Confirm", exact=True).click()
    colleague.wait_for_load_state()
    expect(colleague.locator(".state")).to_have_text("Approved")
    assert stored_plan(pf, plan_id).state == "approved"
    trail = [(e.action, e.actor) for e in pf.audit_trail(plan_id)][-2:]
    assert trail == [("transfer", "reviewer"), ("approve", "reviewer2")]
