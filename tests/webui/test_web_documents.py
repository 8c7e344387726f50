"""Documents out: a plan and its inspection result as .docx, opened again with python-docx.

The plan's file holds its sections and numbered items with their months,
and the approval record; made from a seed's import, it imports back to the
same outline. The inspection's file holds both score columns, the outcome
and the rectification list. Both come in the reader's language and only to
those who may see the plan. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from flask import Flask
from webui_support import Plans, signed_in

from planflow.app import Planflow
from planflow.core.content.importer import import_plan
from planflow.core.content.importer.edits import set_due
from planflow.core.content.model import PlanContent
from planflow.core.inspection.scoring import CriterionScore
from planflow.integrations.documents.reading import read_plan_bytes, read_plan_file
from planflow.integrations.documents.texts import TEXTS

DATA = Path(__file__).resolve().parents[1] / "data" / "imports"
CODES = ("A1", "A2", "B1", "B2", "C1", "D1", "D2", "E1", "E2")
POINTS = (10, 10, 10, 10, 20, 10, 10, 10, 10)


def _paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


def _cells(data: bytes) -> list[list[str]]:
    return [
        [cell.text for cell in row.cells]
        for table in docx.Document(io.BytesIO(data)).tables
        for row in table.rows
    ]


def _outline(content: PlanContent) -> list[tuple[str, list[tuple[str, int | None]]]]:
    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip()

    return [
        (norm(s.title), [(norm(i.text), i.due) for i in s.items])  # type: ignore[misc]
        for s in content.sections
    ]


def _exact(content: PlanContent) -> list[tuple[str, list[dict[str, object]]]]:
    return [
        (s.title, [{k: v for k, v in i.to_dict().items() if k != "key"} for i in s.items])
        for s in content.sections
    ]


def test_every_language_has_every_word() -> None:
    assert set(TEXTS["zh"]) == set(TEXTS["en"]) == set(TEXTS["ko"])


@pytest.mark.parametrize(
    "source",
    [
        *sorted((DATA.parent / "seeds").glob("*.txt")),
        DATA / "zh_mixed.txt",
        DATA / "ko_mixed.txt",
        DATA / "en_mixed.txt",
    ],
    ids=lambda p: p.stem,
)
def test_an_approved_plan_as_docx_imports_back_to_its_outline(
    app: Flask, plans: Plans, pf: Planflow, source: Path
) -> None:
    imported = import_plan(read_plan_file(source), year=2027)
    content = imported.content
    for _number, item in content.items_without_due():
        content = set_due(content, item.key, 12)  # a plan is submitted with every month
    for n, (_number, _section, item) in enumerate(content.numbered_items()):
        if n % 2:
            content = content.update_item(item.key, owner_unit="branch_a")
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title=imported.title, actor="drafter_a", content=content
    )
    plans.fire(
        plan_id,
        ("submit", "chair_a"),
        ("start_review", "reviewer"),
        ("approve", "reviewer", "Good plan"),
    )
    reader = signed_in(app, "chair_a")
    response = reader.get(f"/plans/{plan_id}/plan.docx")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    data = response.get_data()
    paragraphs = _paragraphs(data)
    assert paragraphs[0] == imported.title
    for section in content.sections:
        assert section.title in paragraphs
    first = content.sections[0].items[0]
    assert first.text.splitlines()[0] in "\n".join(paragraphs)
    # The approval record: the reviewer's approval with its comment.
    record = _cells(data)
    assert any("Approve" in row and "Good plan" in row for row in record), record
    # Round trip: the file imports to the outline it was made from.
    back = import_plan(read_plan_bytes(data), year=2027)
    # Exactly: titles, texts (line breaks too), owners, months and every target; the
    # line under each item that shows them is not joined to its text.
    assert _exact(back.content) == _exact(content)
    assert back.title == imported.title and len(back.parts) == 1


def test_the_plan_docx_speaks_the_readers_language(app: Flask, plans: Plans) -> None:
    plan_id = plans.create("branch_a")
    reader = signed_in(app, "drafter_a")
    reader.post_form("/auth/language", {"language": "zh"})
    data = reader.get(f"/plans/{plan_id}/plan.docx").get_data()
    text = "\n".join(_paragraphs(data))
    assert "审批记录" in text and "完成时间" in text and "Item number 1" in text
    other = signed_in(app, "drafter_b")
    assert other.get(f"/plans/{plan_id}/plan.docx").status_code == 404


def test_the_inspection_result_as_docx(app: Flask, plans: Plans, pf: Planflow) -> None:
    plan_id = plans.under_review("branch_a")
    plans.fire(plan_id, ("approve", "reviewer"), ("schedule_inspection", "officer"))
    pf.inspections.record_self_assessment(
        plan_id, [CriterionScore("A1", self_score=9)], actor="chair_a"
    )
    plans.fire(plan_id, ("inspect", "inspector"))
    scores = [CriterionScore(c, inspector_score=p) for c, p in zip(CODES, POINTS, strict=True)]
    scores[0] = CriterionScore("A1", inspector_score=7, inspector_note="Minutes missing")
    scores[1] = CriterionScore("A2", inspector_score=4)  # a mandatory criterion failed
    pf.inspections.record_scores(plan_id, scores, actor="inspector")
    pf.inspections.finish(plan_id, actor="inspector")
    reader = signed_in(app, "chair_a")
    assert f"/plans/{plan_id}/inspection.docx" in reader.get(
        f"/inspections/plan/{plan_id}"
    ).get_data(as_text=True)
    response = reader.get(f"/plans/{plan_id}/inspection.docx")
    assert response.status_code == 200
    data = response.get_data()
    rows = _cells(data)
    sheet = pf.definition("annual_plan").inspection
    assert sheet is not None
    a1 = sheet.criteria()[0].text.get("en")
    row = next(r for r in rows if r[0] == a1)
    assert row[1:] == ["10", "9", "7", "Minutes missing"]
    assert len([r for r in rows if r[0] != "Criterion" and r[0] != "Total"]) == len(CODES)
    text = "\n".join(_paragraphs(data))
    assert "Not passed" in text and "Rectification required" in text
    a2 = sheet.criteria()[1].text.get("en")
    assert any(p.startswith(f"{a2}: ") for p in _paragraphs(data))
