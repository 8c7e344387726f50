"""The whole life of a plan in real Chromium, each person in their own browser.

A drafter creates a plan and writes it by pasting plain text into the editor,
the branch chair submits it, the union's reviewer returns it with a comment,
the drafter reads the reason and fixes the item, the chair resubmits, the
reviewer sees what changed and approves; the scheduler opens the April
round, the inspector finds the plan on the inspection calendar, scores the
sheet and accepts it, the officer's overview shows it accepted, and the
timeline tells all of it. An inspector cannot accept a plan whose sheet is
incomplete or failed: the page says why and the plan stays inspected.
Screenshots of the key pages are saved as test artefacts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from inspection_support import first_mandatory, score_sheet
from playwright.sync_api import Page, expect
from stored import stored_plan
from webui_support import Plans

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.scheduling.scheduler import Scheduler

PLAN_TEXT = """一、组织建设
1. Hold the union committee meeting every quarter (March, June, September, December)
2. Collect membership dues in full: dues collected 100%, due in December
二、劳动竞赛
1. Competitions in May, July and September
"""


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def act(page: Page, action: str, comment: str | None = None) -> None:
    """Press an action button on the plan page, give the comment (if any) in the
    action's own step and confirm; on a step page already (refused), only the latter."""
    if "/step/" not in page.url:
        page.get_by_role("button", name=action, exact=True).click()
        page.wait_for_load_state()
    if comment is not None:
        page.get_by_label("Comment or reason").fill(comment)
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_load_state()


def create_and_write_plan(drafter: Page, title: str, *, on_form: bool = False) -> int:
    """Create a plan (on the new-plan form already open if ``on_form``) and write it."""
    if not on_form:
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


def test_plan_is_drafted_returned_fixed_approved_inspected_and_accepted(
    signed_in_page: Callable[[str], Page], artifacts: Path, pf: Planflow, clock: FixedClock
) -> None:
    drafter = signed_in_page("drafter_a")
    plan_id = create_and_write_plan(drafter, "Branch A work plan 2027")
    shot(drafter, artifacts, "01-editor-saved")
    assert stored_plan(pf, plan_id).state == "draft"

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
    assert stored_plan(pf, plan_id).state == "under_review"
    act(reviewer, "Return for revision", "Item 1.2 needs a month for the dues check.")
    expect(reviewer.locator(".state")).to_have_text("Returned for revision")
    shot(reviewer, artifacts, "03-returned")

    drafter.goto("/")
    drafter.get_by_role("link", name="Branch A work plan 2027").first.click()
    # The reason is the latest decision's, and among the plan's comments.
    reason = drafter.get_by_text("Item 1.2 needs a month for the dues check.")
    expect(reason.first).to_be_visible()
    expect(drafter.locator("#comments")).to_contain_text(
        "Item 1.2 needs a month for the dues check."
    )
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

    assert stored_plan(pf, plan_id).state == "approved"

    # April 1, 08:00: the scheduler opens the inspection round.
    clock.set(datetime(2027, 4, 1, 8, 0, tzinfo=UTC))
    Scheduler(pf, worker_id="browser-test").tick()
    assert stored_plan(pf, plan_id).state == "inspection_scheduled"

    inspector = signed_in_page("inspector")
    inspector.get_by_role("link", name="Inspections", exact=True).click()
    calendar = inspector.locator("main")
    expect(calendar).to_contain_text("Branch A work plan 2027")
    shot(inspector, artifacts, "05-inspection-calendar")
    calendar.get_by_role("link", name="Branch A work plan 2027").first.click()
    # At the visit the inspector scores the sheet; starting the inspection saves the scores.
    sheet = pf.inspections.sheet(plan_id)
    for i, criterion in enumerate(sheet.criteria()):
        inspector.locator(f"[name=score_{i}]").fill(f"{criterion.points:g}")
        measured = inspector.locator(f"[name=measured_{i}]")
        if measured.count():
            measured.fill("100")
    inspector.get_by_role("button", name="Start the inspection").click()
    inspector.wait_for_load_state()
    assert stored_plan(pf, plan_id).state == "inspected"
    expect(inspector.locator("#totals")).to_contain_text("100")
    shot(inspector, artifacts, "06-inspection-sheet")
    inspector.get_by_role("button", name="Finish the inspection").click()
    inspector.wait_for_load_state()
    assert stored_plan(pf, plan_id).state == "accepted"
    expect(inspector.locator("main")).to_contain_text("Model")
    shot(inspector, artifacts, "07-inspection-outcome")

    officer = signed_in_page("officer")
    officer.get_by_role("link", name="Overview", exact=True).click()
    overview = officer.locator("main")
    expect(overview).to_contain_text("Branch A")
    expect(overview).to_contain_text("Accepted")
    shot(officer, artifacts, "08-officer-overview")

    drafter.goto(f"/plans/{plan_id}/timeline")
    timeline = drafter.locator(".timeline")
    for entry in (
        "Submit",
        "Start review",
        "Return for revision",
        "Resubmit",
        "Approve",
        "Schedule inspection",
        "Record inspection",
        "Accept",
    ):
        expect(timeline).to_contain_text(entry)
    expect(timeline).to_contain_text("Item 1.2 needs a month for the dues check.")
    shot(drafter, artifacts, "09-timeline")


def test_committee_approves_two_of_three_and_a_single_return_sends_it_back(
    signed_in_page: Callable[[str], Page], artifacts: Path, pf: Planflow
) -> None:
    drafter = signed_in_page("drafter_a")
    drafter.goto("/plans/new")
    drafter.get_by_label("Kind of plan").select_option(label="Committee-approved work plan")
    plan_id = create_and_write_plan(drafter, "Branch A committee plan 2027", on_form=True)
    chair = signed_in_page("chair_a")
    chair.goto(f"/plans/{plan_id}")
    act(chair, "Submit")
    expect(chair.locator(".state")).to_have_text("Committee review")

    member1 = signed_in_page("member1")
    member1.goto(f"/plans/{plan_id}")
    act(member1, "Approve")
    approvals = member1.locator(".approvals")
    expect(approvals).to_contain_text("1 of 2 needed")
    expect(approvals).to_contain_text("Member1")
    # The same member cannot approve twice: the button is disabled, with the reason.
    expect(member1.get_by_role("button", name="Approve", exact=True)).to_be_disabled()
    expect(member1.locator("#blocked-approve")).to_be_visible()
    shot(member1, artifacts, "01-one-of-two")

    member2 = signed_in_page("member2")
    member2.goto(f"/plans/{plan_id}")
    act(member2, "Return for revision", "Section 2 needs an owner for each competition.")
    expect(member2.locator(".state")).to_have_text("Returned for revision")

    chair.goto(f"/plans/{plan_id}")
    expect(
        chair.get_by_text("Section 2 needs an owner for each competition.").first
    ).to_be_visible()
    act(chair, "Resubmit")

    member1.goto(f"/plans/{plan_id}")
    # The return cleared the earlier approval: it is a new round.
    expect(member1.locator(".approvals")).to_contain_text("0 of 2 needed")
    act(member1, "Approve")
    member3 = signed_in_page("member3")
    member3.goto(f"/plans/{plan_id}")
    expect(member3.locator(".approvals")).to_contain_text("1 of 2 needed")
    act(member3, "Approve")
    expect(member3.locator(".state")).to_have_text("Approved")
    shot(member3, artifacts, "02-approved")

    member3.goto(f"/plans/{plan_id}/timeline")
    timeline = member3.locator(".timeline li")
    texts = timeline.all_inner_texts()
    assert sum("Approve" in t for t in texts) == 3
    assert any("Section 2 needs an owner" in t for t in texts)
    shot(member3, artifacts, "03-timeline")
    assert stored_plan(pf, plan_id).state == "approved"


def test_an_inspector_cannot_accept_an_incomplete_or_failed_sheet(
    signed_in_page: Callable[[str], Page], artifacts: Path, pf: Planflow, plans: Plans
) -> None:
    plan_id = plans.under_review()
    plans.fire(plan_id, ("approve", "reviewer"), ("schedule_inspection", "officer"))
    inspector = signed_in_page("inspector")

    # Nothing scored: the inspection cannot be recorded.
    inspector.goto(f"/inspections/plan/{plan_id}")
    inspector.get_by_role("button", name="Start the inspection").click()
    inspector.wait_for_load_state()
    expect(inspector.get_by_role("alert")).to_contain_text(
        "The inspector has not recorded any score yet."
    )
    assert stored_plan(pf, plan_id).state == "inspection_scheduled"
    shot(inspector, artifacts, "01-start-refused")

    # One criterion scored: the inspection is recorded, but the sheet is incomplete.
    inspector.locator("[name=score_0]").fill("10")
    inspector.get_by_role("button", name="Start the inspection").click()
    inspector.wait_for_load_state()
    assert stored_plan(pf, plan_id).state == "inspected"

    def accept_is_refused(reason: str, shot_name: str) -> None:
        inspector.goto(f"/plans/{plan_id}")
        accept = inspector.get_by_role("button", name="Accept", exact=True)
        expect(accept).to_be_disabled()
        expect(inspector.locator("#blocked-accept")).to_contain_text(reason)
        version = stored_plan(pf, plan_id).version
        # Sent anyway (a stale page, a crafted request): the server refuses it too.
        accept.evaluate("button => { button.disabled = false; }")
        accept.click()
        inspector.wait_for_load_state()
        expect(inspector.get_by_role("alert")).to_contain_text(reason)  # said in the step
        inspector.get_by_role("button", name="Confirm", exact=True).click()
        inspector.wait_for_load_state()
        expect(inspector.get_by_role("alert")).to_contain_text(reason)
        expect(inspector.locator(".state")).to_have_text("Inspected")
        plan = stored_plan(pf, plan_id)
        assert (plan.state, plan.version) == ("inspected", version)
        shot(inspector, artifacts, shot_name)

    accept_is_refused("The inspector has not scored every criterion yet.", "02-incomplete")
    score_sheet(pf, plan_id, fail=first_mandatory(pf, plan_id))
    accept_is_refused("The inspection did not pass.", "03-failed")
