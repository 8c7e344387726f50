"""The web import in real Chromium, on a phone's width: a Word plan read, corrected, saved.

A drafter uploads a union's Word file (the Chinese held-out document, made
the way a secretary's file is), merges two items the importer kept apart,
fixes a month it could not read, saves, and lands on the new draft with the
corrected outline. At 390 px the page never scrolls sideways. The plan page
printed (``@media print``) shows no navigation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from planflow.app import Planflow

DOCX = Path(__file__).resolve().parents[2] / "data" / "imports" / "heldout" / "zh_word.docx"


def _fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_word_plan_is_corrected_in_the_preview_and_saved(
    signed_in_page: Callable[[str], Page], pf: Planflow, artifacts: Path
) -> None:
    page = signed_in_page("drafter_a")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/plans/")
    page.get_by_role("link", name="Import a document").click()
    page.get_by_label("Year").fill("2027")
    page.get_by_label("Word (.docx) or text (.txt) file").set_input_files(str(DOCX))
    page.get_by_role("button", name="Read the document").click()
    expect(page.get_by_role("heading", name="Preview: check and correct")).to_be_visible()
    page.screenshot(path=artifacts / "preview-390.png", full_page=True)
    assert _fits(page)
    # 3.1 and 3.2 were written in one paragraph; the drafter wants them as one item.
    item = page.locator("fieldset.import-item[data-number='3.2']")
    item.get_by_role("button", name="Merge into the item before").click()
    merged = page.locator("fieldset.import-item[data-number='3.1']")
    expect(merged.locator("textarea")).to_contain_text("七月开展夏季送清凉活动")
    # 2.2 names no month; the drafter gives it September.
    page.locator("fieldset.import-item[data-number='2.2'] select[name^='due-']").select_option("9")
    assert _fits(page)
    page.get_by_role("button", name="Save as a draft plan").click()
    expect(page.get_by_text("The plan was imported as a draft.")).to_be_visible()
    plan_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    content = pf.content.content(plan_id)
    assert content.item_count == 9
    assert content.sections[1].items[1].due == 9
    assert "七月开展夏季送清凉活动" in content.sections[2].items[0].text
    expect(page.get_by_text("七月开展夏季送清凉活动")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("nav.main-nav")).to_be_hidden()
    expect(page.get_by_role("button", name="Add comment")).to_be_hidden()
    page.screenshot(path=artifacts / "plan-print.png", full_page=True)
