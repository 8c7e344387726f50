"""The print stylesheet: a printed plan page has no navigation, forms or buttons.

Chromium's print emulation is checked in ``browser/test_browser_import.py``;
here, cheaply, that the rules exist and that the plan page carries the
classes they hide.
"""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "webui" / "static" / "planflow.css"


def test_the_print_rules_hide_navigation_forms_and_buttons() -> None:
    css = CSS.read_text(encoding="utf-8")
    block = re.search(r"@media print \{(.*?)\n\}", css, re.S)
    assert block, "no @media print block"
    rules = block.group(1)
    hidden = re.search(r"([^{}]*)\{\s*display: none !important;", rules)
    assert hidden
    selectors = {s.strip() for s in hidden.group(1).split(",")}
    assert {".site-header", "nav", "form", "button", ".button", ".actions"} <= selectors
    assert "th, td" in rules and "border" in rules  # tables keep readable borders
