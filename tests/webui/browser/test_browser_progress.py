"""The progress board's file check in real Chromium: a file over the limit never leaves.

``static/progress.js`` compares the chosen file's size with the limit the
page gives it and says so next to the field at once; pressing Save then
sends nothing, and the report typed so far stays in the form. A file within
the limit is sent and saved as usual.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Request, expect
from webui_support import Plans

from planflow.app import Planflow
from planflow.core.content.model import PlanContent

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def approved_plan(plans: Plans, pf: Planflow) -> int:
    plan_id = plans.create("branch_a", items=0)
    content = (
        PlanContent(2027)
        .add_section("Education", key="s1")
        .add_item("s1", "Hold the workers' congress", due=4, key="i1")
    )
    pf.content.set_content(plan_id, content, actor="drafter_a", expected_version=None)
    plans.fire(
        plan_id, ("submit", "chair_a"), ("start_review", "reviewer"), ("approve", "reviewer")
    )
    return plan_id


# One database: the check is the page's script; saving a report is tested on both
# (tests/webui/test_web_progress.py).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_file_over_the_limit_is_refused_in_the_browser_without_a_request(
    signed_in_page: Callable[[str], Page], plans: Plans, pf: Planflow
) -> None:
    plan_id = approved_plan(plans, pf)
    pf.execution.store.max_bytes = 1000
    page = signed_in_page("drafter_a")
    page.goto(f"/plans/{plan_id}/progress")
    posts: list[Request] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.get_by_text("Update item 1.1").click()
    page.get_by_label("Progress report").fill("Congress held on 12 April")
    file_field = page.get_by_label("Evidence file")
    big = PDF + b"x" * 2000
    file_field.set_input_files({"name": "big.pdf", "mimeType": "application/pdf", "buffer": big})
    note = page.locator("#item-i1-evidence-too-large")
    expect(note).to_have_text(
        "This file is 2 kB; evidence files may be at most 1,000 bytes. Choose a smaller file."
    )
    expect(file_field).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Save").click()
    page.wait_for_timeout(300)
    assert posts == []
    expect(page.get_by_label("Progress report")).to_have_value("Congress held on 12 April")
    assert pf.execution.evidence(plan_id) == [] and pf.execution.progress(plan_id) == []
    # A file within the limit clears the note and goes with the report.
    small = {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": PDF}
    file_field.set_input_files(small)
    expect(note).to_have_count(0)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: item 1.1, with the file minutes.pdf.")).to_be_visible()
    assert len(posts) == 1
    [evidence] = pf.execution.evidence(plan_id)
    assert evidence.filename == "minutes.pdf"
