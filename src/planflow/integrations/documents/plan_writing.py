"""A plan as a Word (.docx) document, in the reader's language.

``plan_docx(PlanDocument)`` writes the title, the unit, year and state,
the sections as Word headings and the items as Word's own numbered list
(so that the file, opened in Word or imported again by planflow, numbers
as it shows), each item followed by its due month, target and responsible
unit, and at the end the approval record (who did what, when). Everything
shown is already in the reader's language when it reaches this module
(the facade, ``facade/documents.py``, assembles it); the fixed words are
``texts``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from planflow.core.content.importer.written import ADDIN, DETAILS, SECTION, SKIP, WRITTEN
from planflow.core.content.items import Item
from planflow.core.content.model import PlanContent
from planflow.integrations.documents.texts import month, target, words


@dataclass(frozen=True, slots=True)
class RecordLine:
    """One decision of the approval record, in the reader's words."""

    when: str
    who: str
    action: str
    state: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class PlanDocument:
    title: str
    unit: str
    year: int
    state: str
    content: PlanContent
    record: Sequence[RecordLine]
    language: str
    written_on: date
    #: Owner units by code, as the reader knows them (``Branch A (branch_a)``).
    owners: dict[str, str]


def _details(item: Item, doc: PlanDocument, w: dict[str, str]) -> str:
    parts = []
    if isinstance(item.due, int):
        parts.append(f"{w['due']}: {month(doc.language, item.due, doc.year)}")
    elif item.due is not None:
        parts.append(f"{w['due']}: {item.due.isoformat()}")
    if item.targets:
        said = "; ".join(target(doc.language, t.wording()) for t in item.targets)
        parts.append(f"{w['target']}: {said}")
    if item.owner_unit:
        parts.append(f"{w['owner']}: {doc.owners.get(item.owner_unit, item.owner_unit)}")
    return " · ".join(parts)


def _field_char(kind: str) -> object:
    run = OxmlElement("w:r")
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    run.append(char)
    return run


def _mark(paragraph: object, tag: str, data: dict[str, object] | None = None) -> None:
    """Say what the paragraph is (``importer.written``) in a Word ADDIN field, as citation
    managers keep their data: Word keeps it and shows nothing, a paragraph's text leaves
    it out, and importing the file again reads the plan exactly as it was written."""
    text = tag if data is None else tag + json.dumps(data, ensure_ascii=False)
    p = paragraph._p  # type: ignore[attr-defined]
    run = OxmlElement("w:r")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = f" {ADDIN} {text} "
    run.append(instruction)
    p.append(_field_char("begin"))
    p.append(run)
    p.append(_field_char("end"))


def _written(item: Item, details: str) -> dict[str, object]:
    """What an item's paragraph keeps of the item, and the details line shown under it."""
    return {**{k: v for k, v in item.to_dict().items() if k != "key"}, "details": details}


#: The caption of a table planflow writes that is no part of a plan's outline (the
#: approval record): ``docx_reading`` leaves such tables out when the file is imported.
NOT_CONTENT = "planflow:not-content"


def table(
    document: object,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    caption: str = "",
) -> None:
    """A bordered table with a header row (shared with the inspection result)."""
    grid = document.add_table(rows=1, cols=len(header))  # type: ignore[attr-defined]
    grid.style = "Table Grid"
    if caption:
        element = OxmlElement("w:tblCaption")
        element.set(qn("w:val"), caption)
        grid._tbl.tblPr.append(element)
    for cell, text in zip(grid.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = grid.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text


def plan_docx(doc: PlanDocument) -> bytes:
    """The .docx file's bytes."""
    w = words(doc.language)
    document = Document()
    document.core_properties.title = doc.title
    document.add_paragraph(doc.title, style="Title")
    _mark(
        document.add_paragraph(
            f"{w['unit']}: {doc.unit} · {w['year']}: {doc.year} · {w['state']}: {doc.state}"
        ),
        SKIP,
    )
    if not doc.content.item_count:
        _mark(document.add_paragraph(w["no_items"]), SKIP)
    for section in doc.content.sections:
        _mark(document.add_heading(section.title, level=1), SECTION, {"title": section.title})
        for item in section.items:
            details = _details(item, doc, w)
            # A line break in an item's text stays one (not a paragraph: a new point).
            paragraph = document.add_paragraph(style="List Number")
            first, *more = item.text.split("\n")
            run = paragraph.add_run(first)
            for piece in more:
                run.add_break()
                run = paragraph.add_run(piece)
            _mark(paragraph, WRITTEN, _written(item, details))
            if details:
                line = document.add_paragraph(details)
                line.paragraph_format.left_indent = Pt(18)
                for run in line.runs:
                    run.italic = True
                _mark(line, DETAILS)
    # The record is no part of the plan's outline: a bold line, not a Word heading, so
    # that the file imported again gives the plan's sections and nothing else.
    record = document.add_paragraph()
    record.add_run(w["record"]).bold = True
    _mark(record, SKIP)
    if doc.record:
        header = [w[f"record.{k}"] for k in ("when", "who", "action", "state", "comment")]
        rows = [(r.when, r.who, r.action, r.state, r.comment) for r in doc.record]
        table(document, header, rows, caption=NOT_CONTENT)
    else:
        _mark(document.add_paragraph(w["record.none"]), SKIP)
    _mark(document.add_paragraph(w["printed"].format(date=doc.written_on.isoformat())), SKIP)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
