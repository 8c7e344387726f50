"""More pages on a phone (390 x 844): none makes the screen scroll sideways.

A new user's walk at a phone's width found the plan list, the officers'
overview, the tokens page and the admin pages (people, workflows with their
diagram, the administrators' actions) wider than the screen: the phone rule
that lets card tables spill had also switched off the sideways scrolling of
every other table. Now the plan list is cards like the review queue, and
any other wide table scrolls inside its own box. The webhook form's check
boxes stand on the line of their words. The header's two strips, which
scroll sideways, fade out at their right edge, so a reader sees there is
more (notifications, sign out), and the last entry scrolls clear of the fade.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from test_web_admin_support import add_admins
from webui_support import PASSWORD, Plans

from planflow.app import Planflow

PHONE = {"width": 390, "height": 844}
WIDEST = """[...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > 390)
  .slice(0, 8).map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')"""


def _phone(browser: Browser, live_server: str, username: str) -> Page:
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{live_server}/")
    return page


def _fits(page: Page, path: str, artifacts: Path) -> None:
    page.goto(path)
    page.screenshot(path=str(artifacts / (path.strip("/").replace("/", "_") + ".png")))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} scrolls sideways: {width} px ({page.evaluate(WIDEST)})"


def test_lists_overview_tokens_and_admin_pages_fit_a_phone(
    browser: Browser, live_server: str, pf: Planflow, plans: Plans, password_hash: str,
    artifacts: Path,
) -> None:  # fmt: skip
    add_admins(pf, password_hash)
    plans.under_review(title="Branch A work plan 2027 with a rather long title")
    plans.create(title="Branch B plan", unit="branch_b")
    pf.webhooks.add("union", "http://127.0.0.1:9/h", ["plan.comment"], allow_private=True)
    officer = _phone(browser, live_server, "officer")
    for path in ("/plans/", "/overview/", "/settings/tokens/"):
        _fits(officer, path, artifacts)
    # The overview's group names keep a line's width; the numbers scroll beside them
    # (a Chinese union's name stood one character a line).
    officer.goto("/overview/")
    names = officer.eval_on_selector_all(
        ".ov-summary tbody th", "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert names and min(names) >= 100, names
    # The plan list is cards: each value carries its label, the title on top.
    officer.goto("/plans/")
    assert officer.locator("table.plan-list td[data-label]").count() >= 4
    admin = _phone(browser, live_server, "fed_admin")
    for path in ("/admin/users/", "/admin/audit/org", "/admin/webhooks/", "/admin/workflows/"):
        _fits(admin, path, artifacts)
    # The people list is cards too: its table scrolled inside its box, which squeezed
    # a Chinese display name to one character a line and left the roles off screen.
    admin.goto("/admin/users/")
    assert admin.eval_on_selector(
        "table.people", "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth"
    ), "the people list scrolls sideways"
    assert admin.locator("table.people td[data-label]").count() >= 3
    admin.goto("/admin/workflows/")
    diagram = admin.locator("main a[href^='/admin/workflows/annual_plan/']").first.get_attribute(
        "href"
    )
    assert diagram is not None
    _fits(admin, diagram, artifacts)  # the state diagram and the transitions table
    # Each event's check box is on the line of its words (not above them).
    admin.goto("/admin/webhooks/")
    for box in admin.locator("ul.checks input[type=checkbox]").all():
        label = admin.locator(f"label[for='{box.get_attribute('id')}']")
        b, t = box.bounding_box(), label.bounding_box()
        assert b is not None and t is not None
        assert b["y"] < t["y"] + t["height"] and t["y"] < b["y"] + b["height"], "box not beside"
        assert b["x"] < t["x"]
    officer.context.close()
    admin.context.close()


# One database: what is checked is the layout of the header (CSS), on a page only read.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_header_strips_show_there_is_more_and_reach_their_end(
    browser: Browser, live_server: str
) -> None:
    page = _phone(browser, live_server, "reviewer")
    for strip, last in (
        (".main-nav", ".main-nav li:last-child a"),
        (".tools", ".tools > :last-child"),
    ):
        assert page.eval_on_selector(strip, "e => e.scrollWidth > e.clientWidth"), strip
        mask = page.eval_on_selector(
            strip, "e => getComputedStyle(e).webkitMaskImage || getComputedStyle(e).maskImage"
        )
        assert "gradient" in mask, f"{strip} does not fade out: {mask}"
        page.eval_on_selector(strip, "e => { e.scrollLeft = e.scrollWidth; }")
        edge = page.eval_on_selector(strip, "e => e.getBoundingClientRect().right")
        end = page.eval_on_selector(last, "e => e.getBoundingClientRect().right")
        assert end <= edge - 16, f"{last} ends at {end}, under the fade that starts at {edge - 24}"
    page.context.close()
