"""The review queue in real Chromium: the "Review" button and a bulk return to a chosen step.

The "Review" button of a row is a POST (the queue's form, with the version
the queue showed): it opens the plan and, where the definition says
``on_open: true`` (annual_plan's ``start_review``), starts its review through
the one transition path; the page says what happened. A plain link to the
plan changes nothing.

A bulk return: the reviewer ticks two plans, asks to return them, picks the
earlier state they go back to among those the definition allows, writes one
reason and confirms; the result page lists each plan with what became of it,
and a plan changed since the queue was read is refused by name, alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from stored import stored_plan
from webui_support import Plans

from planflow.app import Planflow


def test_the_review_button_opens_the_plan_and_starts_its_review(
    signed_in_page: Callable[[str], Page], artifacts: Path, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.submitted(title="Branch A plan 2027")
    reviewer = signed_in_page("reviewer")
    reviewer.get_by_role("link", name="Review queue").first.click()
    reviewer.wait_for_load_state()
    # Following the title's link reads the plan and starts nothing.
    reviewer.get_by_role("link", name="Branch A plan 2027").click()
    reviewer.wait_for_url(f"**/plans/{plan_id}")
    expect(reviewer.locator(".state")).to_have_text("Submitted")
    assert stored_plan(pf, plan_id).state == "submitted"

    reviewer.go_back()
    reviewer.wait_for_load_state()
    reviewer.get_by_role("button", name="Review: Branch A plan 2027").click()
    reviewer.wait_for_url(f"**/plans/{plan_id}")
    expect(reviewer.get_by_role("status")).to_have_text(
        "You are now reviewing “Branch A plan 2027”."
    )
    expect(reviewer.locator(".state")).to_have_text("Under review")
    # The review has started: its actions are offered, "Start review" is not.
    expect(reviewer.get_by_role("button", name="Approve", exact=True)).to_be_visible()
    expect(reviewer.get_by_role("button", name="Start review", exact=True)).to_have_count(0)
    reviewer.screenshot(path=str(artifacts / "01-opened.png"), full_page=True)
    stored = stored_plan(pf, plan_id)
    assert stored.state == "under_review"
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.actor) == ("start_review", "reviewer")

    # Back in the queue and "Review" again (a second tab, say): nothing more happens.
    reviewer.goto("/reviews/")
    reviewer.get_by_role("button", name="Review: Branch A plan 2027").click()
    reviewer.wait_for_url(f"**/plans/{plan_id}")
    expect(reviewer.locator(".state")).to_have_text("Under review")
    assert stored_plan(pf, plan_id).version == stored.version
    assert [e.action for e in pf.audit_trail(plan_id)].count("start_review") == 1


def test_a_bulk_return_to_a_chosen_state_from_the_queue(
    signed_in_page: Callable[[str], Page], artifacts: Path, plans: Plans, pf: Planflow
) -> None:
    first = plans.under_review(title="Branch A plan")
    second = plans.under_review("branch_b", title="Branch B plan")
    third = plans.under_review(title="Branch A second plan")
    untouched = plans.under_review("branch_b", title="Not selected")
    reviewer = signed_in_page("reviewer")
    reviewer.goto("/reviews/")
    for title in ("Branch A plan", "Branch B plan", "Branch A second plan"):
        reviewer.get_by_label(f"Select: {title}", exact=True).check()
    # The third plan changes after the queue was read: it must be refused, alone.
    pf.cc(third, "reviewer", ["officer"], "For your information.")
    reviewer.get_by_role("button", name="Return selected…").click()
    reviewer.wait_for_load_state()
    expect(reviewer.get_by_role("heading", name="Return the selected plans")).to_be_visible()
    expect(reviewer.get_by_text("3 plans are selected")).to_be_visible()
    # The definition's own return, or an earlier state it allows (退回到指定节点).
    options = reviewer.locator("input[name=return_to]")
    expect(options).to_have_count(3)
    reviewer.get_by_label("Draft", exact=True).check()
    reviewer.get_by_label("Comment or reason").fill("Start again from the draft: add the budget.")
    reviewer.screenshot(path=str(artifacts / "01-confirm.png"), full_page=True)
    assert {plans.state(p) for p in (first, second, third)} == {"under_review"}
    reviewer.get_by_role("button", name="Confirm", exact=True).click()
    reviewer.wait_for_load_state()

    expect(reviewer.get_by_role("heading", name="Result")).to_be_visible()
    cards = reviewer.locator("li.card")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text("Done")
    expect(cards.filter(has_text="Branch B plan")).to_contain_text("Draft")
    refused = cards.filter(has_text="Branch A second plan")
    expect(refused).to_contain_text("Refused")
    expect(refused).to_contain_text("Someone else changed this plan")
    reviewer.screenshot(path=str(artifacts / "02-result.png"), full_page=True)
    assert plans.state(first) == plans.state(second) == "draft"
    assert plans.state(third) == plans.state(untouched) == "under_review"
    for plan_id in (first, second):
        last = pf.audit_trail(plan_id)[-1]
        assert (last.actor, last.to_state, last.comment) == (
            "reviewer",
            "draft",
            "Start again from the draft: add the budget.",
        )
    reviewer.get_by_role("link", name="Back to the review queue").click()
    reviewer.wait_for_load_state()
    expect(reviewer.get_by_role("link", name="Not selected")).to_be_visible()
    expect(reviewer.get_by_role("link", name="Branch A plan", exact=True)).to_have_count(0)
