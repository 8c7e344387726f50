"""The approval gestures in real Chromium, one journey each, as the people do them.

Add an approver (加签) after me, CC (抄送) with its read receipt, urge (催办)
once and then refused until the next allowed time, recall (撤回) of a
submitted plan, and a return to a chosen earlier step (退回到指定节点) that
comes straight back to the reviewer on resubmission. Transfer, delegation,
bulk and the phone review have their own files.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from stored import stored_plan
from webui_support import Plans

from planflow.app import Planflow


def confirm(page: Page) -> None:
    """Press the action step's Confirm and wait for the plan page it leads back to."""
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_load_state()


def test_a_reviewer_adds_an_approver_after_them_who_then_decides(
    signed_in_page: Callable[[str], Page], artifacts: Path, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    reviewer = signed_in_page("reviewer")
    reviewer.goto(f"/plans/{plan_id}")
    reviewer.get_by_text("Add an approver", exact=True).first.click()  # unfold the form
    # The name is suggested as one types (the federation's reviewer is on the plan's way up).
    expect(reviewer.locator("#people-suggested option[value='fed_reviewer']")).to_have_count(1)
    reviewer.get_by_label("Approver").fill("fed_reviewer")
    reviewer.get_by_label("When they decide").select_option("after")
    reviewer.get_by_role("button", name="Add an approver", exact=True).click()
    reviewer.wait_for_load_state()
    expect(reviewer.get_by_text("Fed Reviewer was added as an approver.")).to_be_visible()
    reviewer.screenshot(path=str(artifacts / "01-added.png"), full_page=True)

    # The reviewer approves first; the plan then waits for the added approver.
    reviewer.get_by_role("button", name="Approve", exact=True).click()
    confirm(reviewer)
    assert stored_plan(pf, plan_id).state == "under_review"

    added = signed_in_page("fed_reviewer")
    added.goto(f"/plans/{plan_id}")
    added.get_by_role("button", name="Approve", exact=True).click()
    confirm(added)
    expect(added.locator(".state")).to_have_text("Approved")
    trail = [(e.action, e.actor) for e in pf.audit_trail(plan_id)][-3:]
    assert trail == [
        ("add_approver", "reviewer"),
        ("countersign", "reviewer"),
        ("approve", "fed_reviewer"),
    ]


def test_a_reviewer_copies_the_officer_who_reads_the_plan(
    signed_in_page: Callable[[str], Page], artifacts: Path, plans: Plans
) -> None:
    plan_id = plans.under_review()
    reviewer = signed_in_page("reviewer")
    reviewer.goto(f"/plans/{plan_id}")
    reviewer.get_by_text("CC", exact=True).first.click()
    reviewer.get_by_label("Copy to (usernames)").fill("inspector")
    reviewer.get_by_role("button", name="CC", exact=True).click()
    reviewer.wait_for_load_state()
    expect(reviewer.get_by_text("Copied to Inspector.")).to_be_visible()
    expect(reviewer.get_by_text("Inspector (not read yet)")).to_be_visible()

    # The copied person finds it among their notifications, opens it, and it is read.
    copied = signed_in_page("inspector")
    copied.goto("/notifications/")
    copied.get_by_role("link", name=re.compile("Work plan 2027")).first.click()
    copied.wait_for_load_state()
    expect(copied).to_have_url(re.compile(rf"/plans/{plan_id}"))
    copied.screenshot(path=str(artifacts / "02-copied-reads.png"), full_page=True)

    reviewer.reload()
    expect(reviewer.get_by_text(re.compile(r"Inspector \(read "))).to_be_visible()


def test_the_chair_urges_the_reviewer_once_then_is_told_when_again(
    signed_in_page: Callable[[str], Page], artifacts: Path, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    chair = signed_in_page("chair_a")
    chair.goto(f"/plans/{plan_id}")
    chair.get_by_role("button", name="Urge", exact=True).click()
    chair.wait_for_load_state()
    expect(chair.get_by_text(re.compile(r"^Reminder sent to Reviewer"))).to_be_visible()
    # Once a day at most: the button is now disabled, and the page says until when.
    expect(chair.get_by_role("button", name="Urge", exact=True)).to_be_disabled()
    expect(chair.locator("#urge-blocked")).to_contain_text("2027")
    chair.screenshot(path=str(artifacts / "03-urged.png"), full_page=True)

    reviewer = signed_in_page("reviewer")
    reviewer.goto("/notifications/")
    expect(reviewer.get_by_text(re.compile("urge|remind", re.I)).first).to_be_visible()


def test_the_chair_recalls_a_submitted_plan_to_draft(
    signed_in_page: Callable[[str], Page], plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.submitted()
    chair = signed_in_page("chair_a")
    chair.goto(f"/plans/{plan_id}")
    chair.get_by_role("button", name="Recall", exact=True).click()
    chair.wait_for_load_state()
    confirm(chair)
    expect(chair.locator(".state")).to_have_text("Draft")
    assert stored_plan(pf, plan_id).state == "draft"


def test_a_return_to_a_chosen_step_comes_straight_back_on_resubmission(
    signed_in_page: Callable[[str], Page], artifacts: Path, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    reviewer = signed_in_page("reviewer")
    reviewer.goto(f"/plans/{plan_id}")
    reviewer.get_by_role("button", name="Return for revision", exact=True).click()
    reviewer.wait_for_load_state()
    # The return's own step asks where the plan goes back to, and why.
    expect(reviewer.get_by_text("Where does the plan go back to?")).to_be_visible()
    reviewer.get_by_label("Draft", exact=True).check()
    reviewer.get_by_role("textbox").first.fill("Add a budget line to item 2.")
    reviewer.screenshot(path=str(artifacts / "04-return-to.png"), full_page=True)
    confirm(reviewer)
    assert stored_plan(pf, plan_id).state == "draft"

    chair = signed_in_page("chair_a")
    chair.goto(f"/plans/{plan_id}")
    expect(chair.get_by_text("Add a budget line to item 2.").first).to_be_visible()
    chair.get_by_role("button", name="Submit", exact=True).click()
    chair.wait_for_load_state()
    confirm(chair)
    # return_to_returner: straight back to the reviewer's step, not the start of the queue.
    assert stored_plan(pf, plan_id).state == "under_review"
