"""The import preview's owner select in real Chromium: chosen, kept through a correction, saved.

A drafter of branch A uploads a text plan, gives one item to the team below
the branch (a unit the document cannot name) and another to the branch
itself, applies a correction elsewhere (the choices stay), saves, and the
saved draft's items have those owners and no others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from planflow.app import Planflow

PLAN = """Riverside Branch work plan for 2027
First, Organising
1. Recruit delivery workers, membership rate more than 70% by the end of September.
2. Elect stewards in every depot in April.
Second, Welfare
3. Visit members in hardship before the Spring Festival.
4. Run the sports meeting in May.
"""


def test_an_owner_chosen_in_the_preview_is_the_saved_items_owner(
    signed_in_page: Callable[[str], Page], pf: Planflow, tmp_path: Path, artifacts: Path
) -> None:
    with pf.session() as s:
        pf.org_repo.add_unit(s, "team_a1", "Team A1", "branch_a")
    document = tmp_path / "plan.txt"
    document.write_text(PLAN, encoding="utf-8")
    page = signed_in_page("drafter_a")
    page.goto("/plans/import")
    page.get_by_label("Year").fill("2027")
    page.get_by_label("Word (.docx) or text (.txt) file").set_input_files(str(document))
    page.get_by_role("button", name="Read the document").click()
    expect(page.get_by_role("heading", name="Preview: check and correct")).to_be_visible()
    owner = page.locator("fieldset.import-item[data-number='2.1'] select[name^='owner-']")
    expect(owner).to_have_value("")
    options = owner.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
    assert options == ["", "branch_a", "team_a1"]
    owner.select_option("team_a1")
    page.locator("fieldset.import-item[data-number='1.2'] select[name^='owner-']").select_option(
        "branch_a"
    )
    # A correction elsewhere re-reads the page: the owners chosen stay chosen.
    page.locator("fieldset.import-item[data-number='2.2'] select[name^='due-']").select_option("6")
    page.get_by_role("button", name="Apply my corrections").click()
    expect(owner).to_have_value("team_a1")
    page.screenshot(path=artifacts / "preview-owner.png", full_page=True)
    page.get_by_role("button", name="Save as a draft plan").click()
    expect(page.get_by_text("The plan was imported as a draft.")).to_be_visible()
    plan_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    content = pf.content.content(plan_id)
    owners = [(n, i.owner_unit, i.due) for n, _s, i in content.numbered_items()]
    assert owners == [
        ("1.1", None, 9),
        ("1.2", "branch_a", 4),
        ("2.1", "team_a1", None),
        ("2.2", None, 6),
    ]
