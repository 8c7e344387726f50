"""A plan file planflow wrote itself: what it recorded of each item, read back exactly.

planflow's .docx of a plan (``integrations.documents.plan_writing``) keeps,
in a Word ADDIN field of each section heading and item paragraph (invisible,
kept by Word, not part of the paragraph's text), what the
paragraph shows as data (``SECTION``, ``WRITTEN``), marks the line it shows
under an item (due month, targets, owner: ``DETAILS``) and the lines that
are no part of the plan (``SKIP``). The .docx reader hands that data on with
the item's line (``Line.written``) and the details line's text as the file
holds it now (``Line.shown``). So importing the file again gives back the
plan: section titles, item texts, owners, due months and targets, rather
than the owner/due line joined to the item's text.

A person may have edited the file in Word in between. What they changed
wins: an item's text is taken from the data only while the paragraph still
shows it (up to spacing, which Word and the importer rewrite), and its due
month, targets and owner only while the details line still reads as written;
an edited details line is read like any text (a month, targets, an owner's
code in brackets at its end). Data that is not what planflow writes is
ignored (the line imports as text). Pure: standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from planflow.core.content.importer.dues import due_month, targets

#: The Word field that holds the data (``ADDIN planflow:item:{…}``).
ADDIN = "ADDIN"
TAG = "planflow:"
#: An item's paragraph: ``planflow:item:{json}`` (text, owner_unit, due, targets, details).
WRITTEN = TAG + "item:"
#: A section's heading: ``planflow:section:{"title": …}``.
SECTION = TAG + "section:"
#: The line under an item that shows its due month, targets and owner.
DETAILS = TAG + "details"
#: A line of the file that is no part of the plan (the unit line, the approval record …).
SKIP = TAG + "skip"

_OWNER = re.compile(r"\(([^()\s]{1,100})\)\s*$")


def _norm(text: str) -> str:
    return " ".join(text.split())


class Written(str):
    """An item's text as the outline holds it, with the facts the file recorded of it."""

    facts: dict[str, Any]

    def __new__(cls, text: str, facts: dict[str, Any]) -> Written:
        made = super().__new__(cls, text)
        made.facts = facts
        return made


def section_title(written: Mapping[str, Any] | None, shown: str) -> str | None:
    """The section's title as written, while the heading still shows it."""
    title = written.get("title") if written else None
    return title if isinstance(title, str) and _norm(title) == _norm(shown) else None


def item_facts(written: Mapping[str, Any], shown_text: str, details: str | None) -> dict[str, Any]:
    """An item's text, due, targets and owner: as written where the file still shows them."""
    text = written.get("text")
    if not isinstance(text, str) or _norm(text) != _norm(shown_text):
        text = shown_text
    recorded = written.get("details")
    if isinstance(recorded, str) and (details or "") == recorded:
        owner = written.get("owner_unit")
        listed = written.get("targets")
        return {
            "text": text,
            "due": written.get("due"),
            "targets": list(listed) if isinstance(listed, list) else [],
            "owner_unit": owner if isinstance(owner, str) else None,
        }
    line = details or ""
    owner_match = _OWNER.search(line)
    return {
        "text": text,
        "due": due_month(line),
        "targets": targets(line),
        "owner_unit": owner_match.group(1) if owner_match else None,
    }
