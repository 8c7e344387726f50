"""The editor's buttons that change the form without saving.

"Add item", "Move up", "Remove section", "Import" and the like post the
whole form and get it back changed, with everything typed so far kept, so
the editor works without JavaScript. The button's value names the change
(``parse_op``: ``item_up:0:2``); ``apply_op`` makes it on the form's data
within the plan's limits and says, in the user's language, why not if it
cannot. Nothing here saves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planflow.core.content.text_import import parse_plan_text
from planflow.errors import PlanflowError

from .editor_form import FormData, content_data, gettext, item_data
from .forms import MAX_IMPORT, MAX_ITEMS_PER_SECTION, MAX_SECTIONS

_OP = re.compile(
    r"(?P<plain>save|add_section|import_replace|import_append)"
    r"|(?P<section_op>section_up|section_down|remove_section|add_item):(?P<s>[0-9]{1,5})"
    r"|(?P<item_op>item_up|item_down|remove_item):(?P<si>[0-9]{1,5}):(?P<ii>[0-9]{1,5})"
)


@dataclass(frozen=True)
class Op:
    kind: str
    section: int = 0
    item: int = 0


def parse_op(value: object) -> Op | None:
    match = _OP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    if match["plain"]:
        return Op(match["plain"])
    if match["section_op"]:
        return Op(match["section_op"], int(match["s"]))
    return Op(match["item_op"], int(match["si"]), int(match["ii"]))


def _full(items: list[FormData]) -> str:
    return (
        gettext(
            "A section can have at most %(max)d items. Start a new section, or move items.",
            max=MAX_ITEMS_PER_SECTION,
        )
        if len(items) >= MAX_ITEMS_PER_SECTION
        else ""
    )


def apply_op(op: Op, sections: list[FormData], import_text: str, year: int) -> str:
    """Change ``sections`` in place as the button asks; returns a message, or ""."""
    if op.kind == "add_section":
        if len(sections) >= MAX_SECTIONS:
            return gettext("A plan can have at most %(max)d sections.", max=MAX_SECTIONS)
        sections.append({"key": "", "title": "", "items": [item_data()]})
        return ""
    if op.kind in ("import_replace", "import_append"):
        return _import(op.kind == "import_replace", sections, import_text, year)
    if op.section >= len(sections):
        return ""  # the page was older than the form; nothing to do
    si = op.section
    items: list[FormData] = sections[si]["items"]
    if op.kind == "add_item":
        if message := _full(items):
            return message
        items.append(item_data())
    elif op.kind == "remove_section":
        del sections[si]
    elif op.kind == "section_up" and si > 0:
        sections[si - 1], sections[si] = sections[si], sections[si - 1]
    elif op.kind == "section_down" and si + 1 < len(sections):
        sections[si], sections[si + 1] = sections[si + 1], sections[si]
    elif op.item < len(items):
        return _item_op(op, sections, items)
    return ""


def _item_op(op: Op, sections: list[FormData], items: list[FormData]) -> str:
    si, ii = op.section, op.item
    if op.kind == "remove_item":
        del items[ii]
    elif op.kind == "item_up" and ii > 0:
        items[ii - 1], items[ii] = items[ii], items[ii - 1]
    elif op.kind == "item_up" and si > 0:
        # The first item of a section moves to the end of the section above.
        above: list[FormData] = sections[si - 1]["items"]
        if message := _full(above):
            return message
        above.append(items.pop(ii))
    elif op.kind == "item_down" and ii + 1 < len(items):
        items[ii], items[ii + 1] = items[ii + 1], items[ii]
    elif op.kind == "item_down" and si + 1 < len(sections):
        below: list[FormData] = sections[si + 1]["items"]
        if message := _full(below):
            return message
        below.insert(0, items.pop(ii))
    return ""


def _import(replace: bool, sections: list[FormData], text: str, year: int) -> str:
    if not text.strip():
        return gettext("Paste the text of a plan into the box first.")
    if len(text) > MAX_IMPORT:
        return gettext("At most %(max)d characters, please.", max=MAX_IMPORT)
    try:
        imported = content_data(parse_plan_text(text, year=year))
    except PlanflowError:  # the importer promises valid content; be safe anyway
        imported = []
    if not imported:
        return gettext("No sections or items were found in this text.")
    imported = [s | {"key": ""} for s in imported]  # new sections, whatever keys it made
    for section in imported:
        section["items"] = [i | {"key": ""} for i in section["items"]]
    kept = [] if replace else list(sections)
    if len(kept) + len(imported) > MAX_SECTIONS or any(
        len(s["items"]) > MAX_ITEMS_PER_SECTION for s in imported
    ):
        return gettext(
            "This text is too long to import at once: a plan can have at most "
            "%(sections)d sections of %(items)d items. Import it in parts.",
            sections=MAX_SECTIONS,
            items=MAX_ITEMS_PER_SECTION,
        )
    sections[:] = kept + imported
    return ""
