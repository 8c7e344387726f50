"""The paragraphs of a Word (.docx) plan, with the numbering Word keeps out of the text.

A number Word draws from a list definition ("1.", "一、", "가.") or a heading
style ("Heading 1", "标题 1", "제목 1") is not in the paragraph's text.
Each such paragraph is given a ``Marker`` the importer reads like a typed
one: its style names the list and level (``word:<list>:<level>``,
``word:heading:<level>``) and its number counts as Word counts, so the
levels come out of the same grammar as for typed numbers. A typed number
in the text wins over Word's (the importer reads the text first). Tables
are read cell by cell, in order: some plans are written as a table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from docx import Document
from docx.oxml.ns import qn

from planflow.core.content.importer import Line, Marker
from planflow.core.content.importer.written import ADDIN, DETAILS, SECTION, SKIP, TAG, WRITTEN

_HEADING = re.compile(r"^(?:heading|标题|標題|제목)\s*([1-9])$", re.I)


def _num_pr(paragraph: Any) -> tuple[str, int] | None:
    """(list id, level) of Word's numbering on the paragraph or its style."""
    holders = [paragraph._p.pPr]
    style = paragraph.style
    while style is not None:  # numbering may come from the style or a style it is based on
        holders.append(style.element.pPr)
        style = style.base_style
    for ppr in holders:
        num_pr = ppr.numPr if ppr is not None else None
        if num_pr is not None and num_pr.numId is not None:
            level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
            if num_pr.numId.val != 0:  # numId 0 switches numbering off
                return str(num_pr.numId.val), int(level)
    return None


def _heading_level(paragraph: Any) -> int | None:
    style = paragraph.style
    for name in (style.name or "", style.style_id or "") if style is not None else ():
        match = _HEADING.match(name.replace("Heading", "Heading ").replace("  ", " "))
        if match:
            return int(match.group(1))
    return None


def _not_content(table: Any) -> bool:
    """A table planflow wrote beside a plan's outline (its approval record, captioned so
    by ``plan_writing``): a file planflow wrote imports to the plan it came from."""
    caption = table.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
    return caption is not None and caption.get(qn("w:val"), "").startswith("planflow:")


def _paragraphs(document: Any) -> Iterator[Any]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, document)
        elif child.tag == qn("w:tbl"):
            if _not_content(child):
                continue
            for row in Table(child, document).rows:
                for cell in row.cells:
                    yield from cell.paragraphs


def _tag(paragraph: Any) -> str | None:
    """What planflow wrote a paragraph as (``importer.written``): its ADDIN field's data."""
    instruction = "".join(e.text or "" for e in paragraph._p.iter(qn("w:instrText"))).strip()
    name, _, data = instruction.partition(" ")
    data = data.strip()
    return data if name == ADDIN and data.startswith(TAG) else None


def _data(tag: str, prefix: str) -> dict[str, Any] | None:
    try:
        data = json.loads(tag[len(prefix) :])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def docx_lines(source: Any) -> list[Line]:
    """The paragraphs of a .docx (a path or a binary file object) as importer lines.

    In a file planflow wrote, the lines that are no part of the plan are left out,
    and each section's and item's line carries what planflow recorded of it, the
    item's with the details line under it as the file shows it now.
    """
    document = Document(source)
    counters: dict[str, list[int]] = {}
    lines: list[Line] = []
    for paragraph in _paragraphs(document):
        text = paragraph.text
        tag = _tag(paragraph)
        written = None
        if tag is not None:
            if tag == SKIP:
                continue
            if tag == DETAILS and lines and lines[-1].written is not None:
                lines[-1].shown = " ".join(text.split())
                continue
            for prefix in (WRITTEN, SECTION):
                if tag.startswith(prefix):
                    written = _data(tag, prefix)
        if not text.strip():
            continue
        marker = None
        numbered = _num_pr(paragraph)
        heading = _heading_level(paragraph)
        if numbered is not None:
            list_id, level = numbered
            key = f"word:{list_id}"
        elif heading is not None:
            key, level = "word:heading", heading - 1
        if numbered is not None or heading is not None:
            # Word restarts the deeper levels of a list when a shallower one counts on.
            count = counters.setdefault(key, [0] * 9)
            level = min(max(level, 0), 8)
            count[level] += 1
            count[level + 1 :] = [0] * (8 - level)
            marker = Marker(f"{key}:{level}", count[level])
        lines.append(Line(text, marker, written))
    return lines
