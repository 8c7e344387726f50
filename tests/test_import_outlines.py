"""The importer judged by outlines: seeds and our own documents, as .txt and as .docx.

Every document in ``tests/data/imports/*.expected.json`` is imported and
scored against its hand-made outline (``tests/import_scoring.py``); the
score is printed (``-s``) and held. The same text written into a .docx by
python-docx, one paragraph a line, imports to the same outline; a .docx
whose numbers and headings are Word's own (list numbering, heading styles)
imports to the outline its text would have with typed numbers.
"""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from import_scoring import DATA, EXPECTED, expected_outline, import_document, score

from planflow.core.content.importer import import_plan
from planflow.integrations.documents.reading import read_plan_bytes

# Below this the importer has got worse on a document it once read well.
FLOOR = 0.95


def _docx_bytes(paragraphs: list[tuple[str, str | None]]) -> bytes:
    document = docx.Document()
    for text, style in paragraphs:
        document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_outline_scores(path: Path) -> None:
    outline = expected_outline(path)
    result = score(outline, import_document(outline).to_dict())
    print(f"{path.name}: {result}")
    assert result.ratio >= FLOOR, result.misses


@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_a_docx_of_the_document_imports_to_the_same_outline(path: Path) -> None:
    outline = expected_outline(path)
    text = (DATA / outline["source"]).read_text(encoding="utf-8")
    data = _docx_bytes([(line, None) for line in text.splitlines()])
    from_docx = import_document(outline, read_plan_bytes(data)).to_dict()
    assert from_docx["sections"] == import_document(outline).to_dict()["sections"]
    assert score(outline, from_docx).ratio >= FLOOR


def test_words_own_numbering_and_headings_make_the_outline() -> None:
    data = _docx_bytes(
        [
            ("2024年工会工作计划", "Title"),
            ("组织建设", "Heading 1"),
            ("新建基层工会10家，三月完成。", "List Number"),
            ("会员入会率不低于95%。", "List Number"),
            ("文体活动", "Heading 1"),
            ("五月举办职工运动会。", "List Number"),
        ]
    )
    result = import_plan(read_plan_bytes(data), year=2024)
    outline = [(s.title, [(i.text, i.due) for i in s.items]) for s in result.content.sections]
    assert outline == [
        ("组织建设", [("新建基层工会10家，三月完成。", 3), ("会员入会率不低于95%。", None)]),
        ("文体活动", [("五月举办职工运动会。", 5)]),
    ]
    assert result.content.sections[0].items[1].target is not None


def test_a_docx_with_tables_is_read_cell_by_cell() -> None:
    document = docx.Document()
    document.add_paragraph("一、组织建设")
    table = document.add_table(rows=2, cols=1)
    table.cell(0, 0).text = "1、新建基层工会10家"
    table.cell(1, 0).text = "2、四月培训工会干部"
    out = io.BytesIO()
    document.save(out)
    content = import_plan(read_plan_bytes(out.getvalue()), year=2024).content
    assert [i.text for i in content.sections[0].items] == ["新建基层工会10家", "四月培训工会干部"]
    assert content.sections[0].items[1].due == 4
