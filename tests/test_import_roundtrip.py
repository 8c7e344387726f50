"""A plan written as .docx by planflow and imported again is the same plan (issue 16).

Section titles, item texts (line breaks too), owners, due months or dates and
every target come back exactly, in each of the three languages the file may
be written in; the line under an item that shows its due month, targets and
owner is not joined to its text. Edits made in Word win over what planflow
recorded: a changed item text or details line is read as text. Recorded data
that is not planflow's is never a crash. No database: the writer and reader
are called directly (``tests/webui/test_web_documents.py`` does the same
through the web page on both databases).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn

from planflow.core.content.importer import ImportResult, import_plan, import_text
from planflow.core.content.importer.written import WRITTEN
from planflow.core.content.model import PlanContent
from planflow.integrations.documents.plan_writing import PlanDocument, plan_docx
from planflow.integrations.documents.reading import read_plan_bytes

DATA = Path(__file__).resolve().parent / "data"
SOURCES = [
    *sorted((DATA / "seeds").glob("*.txt")),
    *sorted((DATA / "imports").glob("*_mixed.txt")),
    DATA / "imports" / "blind3" / "en_district.txt",
]
OWNERS = {"branch_a": "Branch A (branch_a)", "team_a1": "Team A1 (team_a1)"}


def _docx(content: PlanContent, language: str = "en", title: str = "Plan 2027") -> bytes:
    document = PlanDocument(
        title, "Branch A", 2027, "Approved", content, [], language, date(2027, 1, 4), OWNERS
    )
    return plan_docx(document)


def _back(data: bytes) -> ImportResult:
    return import_plan(read_plan_bytes(data), year=2027)


def _exact(content: PlanContent) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        (s.title, [{k: v for k, v in i.to_dict().items() if k != "key"} for i in s.items])
        for s in content.sections
    ]


def _with_owners(content: PlanContent) -> PlanContent:
    for n, (_number, _section, item) in enumerate(content.numbered_items()):
        if n % 3 != 2:
            content = content.update_item(item.key, owner_unit=("branch_a", "team_a1")[n % 3])
    return content


@pytest.mark.parametrize("language", ["en", "zh", "ko"])
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_a_plan_imported_written_and_imported_again_is_the_same(
    source: Path, language: str
) -> None:
    first = import_text(source.read_text(encoding="utf-8"), year=2027)
    content = _with_owners(first.content)
    back = _back(_docx(content, language, first.title))
    assert _exact(back.content) == _exact(content)
    assert back.title == first.title and len(back.parts) == 1
    # Left out: the title line (it titles the import) and nothing else of the file.
    assert back.warnings == () and list(back.skipped) == [("preamble", first.title)]


def test_what_text_alone_cannot_say_comes_back_too() -> None:
    content = (
        PlanContent(2027)
        .add_section("Organising: recruitment. Stewards", key="s1")  # no title cut at ":"
        .add_item(
            "s1",
            "First, recruit in May.\n2. Then elect stewards; Secondly, train them.",
            due=date(2027, 9, 15),  # a date, while the text names May
            owner_unit="team_a1",
            targets=[
                {"metric": "membership", "op": ">", "value": 70, "unit": "%"},
                {"metric": "stewards", "op": "=", "value": 12, "unit": ""},
            ],
        )
        .add_item("s1", "Review of 2026", due=None)  # no words of a review are cut
        .add_section("一、二是", key="s2")
        .add_item("s2", "100%合格，四月完成", due=None, targets=[])  # no month, no target
    )
    for language in ("en", "zh", "ko"):
        assert _exact(_back(_docx(content, language)).content) == _exact(content)


def _edit(data: bytes, change: Any) -> bytes:
    document = docx.Document(io.BytesIO(data))
    change(document.paragraphs)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _content() -> PlanContent:
    return (
        PlanContent(2027)
        .add_section("Organising", key="s1")
        .add_item(
            "s1",
            "Recruit delivery workers.",
            due=4,
            owner_unit="branch_a",
            targets=[{"metric": "membership", "op": ">=", "value": 70, "unit": "%"}],
        )
        .add_item("s1", "Elect stewards.", due=6)
    )


def _set_visible(paragraph: Any, text: str) -> None:
    """Type over the paragraph's text in Word (its field, outside the text, stays)."""
    runs = [r for r in paragraph.runs if r.text]
    runs[0].text = text
    for run in runs[1:]:
        run.text = ""


def test_what_was_edited_in_word_wins() -> None:
    data = _docx(_content())

    def details(paragraphs: Any) -> None:
        line = next(p for p in paragraphs if p.text.startswith("Due: April"))
        _set_visible(line, "Due: May 2027 · Target: membership at least 80 % · Owner (team_a1)")

    [[recruit, stewards]] = [s[1] for s in _exact(_back(_edit(data, details)).content)]
    assert (recruit["due"], recruit["owner_unit"]) == (5, "team_a1")
    assert [(t["op"], t["value"]) for t in recruit["targets"]] == [(">=", 80)]
    assert recruit["text"] == "Recruit delivery workers." and stewards["due"] == 6

    def text(paragraphs: Any) -> None:
        _set_visible(next(p for p in paragraphs if "Elect" in p.text), "Elect stewards twice.")

    [[recruit, stewards]] = [s[1] for s in _exact(_back(_edit(data, text)).content)]
    assert stewards["text"] == "Elect stewards twice." and stewards["due"] == 6
    assert recruit["owner_unit"] == "branch_a"

    def dropped(paragraphs: Any) -> None:  # the details line deleted: nothing recorded stays
        line = next(p for p in paragraphs if p.text.startswith("Due: April"))
        line._p.getparent().remove(line._p)

    [[recruit, _]] = [s[1] for s in _exact(_back(_edit(data, dropped)).content)]
    assert (recruit["due"], recruit["owner_unit"], recruit["targets"]) == (None, None, [])


@pytest.mark.parametrize(
    "junk",
    ["{", "[1, 2]", '{"text": 5, "due": "soon", "targets": "many"}', '{"due": 13}', "null"],
)
def test_recorded_data_that_is_not_planflows_is_read_as_text(junk: str) -> None:
    def spoil(paragraphs: Any) -> None:
        for paragraph in paragraphs:
            for field in paragraph._p.iter(qn("w:instrText")):
                if WRITTEN in field.text:
                    field.text = f" ADDIN {WRITTEN}{junk} "

    back = _back(_edit(_docx(_content()), spoil))  # never a crash
    texts = [i.text for s in back.content.sections for i in s.items]
    assert texts[0].startswith("Recruit delivery workers.")
    assert all(i.due in (None, 4, 5, 6) for s in back.content.sections for i in s.items)
