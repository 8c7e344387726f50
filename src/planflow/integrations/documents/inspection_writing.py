"""An inspection result as a Word (.docx) document, in the reader's language.

``inspection_docx(InspectionDocument)`` writes the plan's title, unit and
year, the round and its inspector, the scoring sheet as one table per
category (criterion, points, the unit's self-assessment, the inspector's
score and note; the category's totals), the outcome (total, grade, passed
or not), the plan's own targets and how far each is met, and the
rectification list with its due date. The values arrive in
the reader's words (``facade/documents.py`` assembles them); the fixed
words are ``texts``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from docx import Document

from planflow.integrations.documents.plan_writing import table
from planflow.integrations.documents.texts import words


@dataclass(frozen=True, slots=True)
class ScoreRow:
    criterion: str
    points: str
    self_score: str
    inspector_score: str
    note: str


@dataclass(frozen=True, slots=True)
class CategoryScores:
    title: str
    rows: Sequence[ScoreRow]
    #: The category's line: its maximum, the self and inspector totals.
    total: ScoreRow


@dataclass(frozen=True, slots=True)
class InspectionDocument:
    title: str
    unit: str
    year: int
    round: int | None
    inspector: str
    categories: Sequence[CategoryScores]
    #: The whole sheet's line: maximum, self total, inspector total.
    total: ScoreRow
    grade: str
    passed: bool | None
    finished: bool
    rectification: Sequence[tuple[str, str]]  # (criterion, reasons)
    rectification_due: str
    language: str
    written_on: date
    #: The plan's targets as the inspector sees them: (item number, target, measured, met),
    #: in the reader's words, and the count line ("3 of 8 targets met").
    targets: Sequence[tuple[str, str, str, str]] = ()
    targets_tally: str = ""


def inspection_docx(doc: InspectionDocument) -> bytes:
    """The .docx file's bytes."""
    w = words(doc.language)
    document = Document()
    heading = f"{w['inspection']}: {doc.title}"
    document.core_properties.title = heading
    document.add_paragraph(heading, style="Title")
    document.add_paragraph(f"{w['unit']}: {doc.unit} · {w['year']}: {doc.year}")
    if doc.round is None:
        document.add_paragraph(w["inspection.none"])
    else:
        line = w["inspection.round"].format(round=doc.round)
        if doc.inspector:
            line += f" · {w['inspection.inspector']}: {doc.inspector}"
        document.add_paragraph(line)
        header = [w[k] for k in ("sheet.criterion", "sheet.points", "sheet.self")]
        header += [w["sheet.inspector"], w["sheet.note"]]
        for category in doc.categories:
            document.add_heading(category.title, level=2)
            rows = [
                (r.criterion, r.points, r.self_score, r.inspector_score, r.note)
                for r in category.rows
            ]
            t = category.total
            rows.append((t.criterion, t.points, t.self_score, t.inspector_score, t.note))
            table(document, header, rows)
        if doc.targets:
            document.add_heading(w["targets"], level=1)
            document.add_paragraph(doc.targets_tally)
            header = [w[f"targets.{k}"] for k in ("item", "target", "measured", "state")]
            table(document, header, doc.targets)
        document.add_heading(w["outcome"], level=1)
        if not doc.finished:
            document.add_paragraph(w["outcome.pending"])
        t = doc.total
        document.add_paragraph(
            f"{w['sheet.total']}: {w['sheet.self']} {t.self_score} · "
            f"{w['sheet.inspector']} {t.inspector_score} / {t.points}"
        )
        verdict = (
            "" if doc.passed is None else w["outcome.passed" if doc.passed else "outcome.failed"]
        )
        document.add_paragraph(f"{w['outcome.grade']}: {doc.grade} · {verdict}".rstrip(" ·"))
        document.add_heading(w["rectification"], level=1)
        if doc.rectification:
            for criterion, reasons in doc.rectification:
                document.add_paragraph(f"{criterion}: {reasons}", style="List Number")
            if doc.rectification_due:
                document.add_paragraph(w["rectification.due"].format(date=doc.rectification_due))
        else:
            document.add_paragraph(w["rectification.none"])
    document.add_paragraph(w["printed"].format(date=doc.written_on.isoformat()))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
