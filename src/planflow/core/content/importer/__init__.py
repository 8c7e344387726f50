"""Importing a plan document: paragraphs in, ``PlanContent`` and what was left out.

``import_plan(lines, year=...)`` reads the paragraphs of a .txt or .docx plan
(the readers are in ``planflow.integrations.documents``) in four steps, one
module each: page debris out (``debris``), numbering markers read
(``markers``), levels and the plans of the file found (``levels``), sections
and items made (``projection``); due months and targets come from each
item's words (``dues``). The result says what it left out and why
(``skipped``), what a person should check (``warnings``, codes with
parameters) and, when a file holds several plans, which ones (``parts``) and
which was taken (``part``, the first that is not a review, unless chosen).
It never fails on any text; its content always passes ``PlanContent.from_dict``.
Pure: standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from planflow.core.content.importer import debris
from planflow.core.content.importer.dues import due_month, targets
from planflow.core.content.importer.levels import Line, Part, split_parts
from planflow.core.content.importer.markers import Marker, line_markers
from planflow.core.content.importer.projection import Outline, project
from planflow.core.content.importer.written import Written
from planflow.core.content.items import MAX_SHORT, MAX_TARGETS, MAX_TEXT, MAX_TITLE
from planflow.core.content.model import PlanContent
from planflow.errors import ValidationError

__all__ = ["ImportResult", "Line", "Marker", "PartSummary", "import_plan", "import_text"]

_SENTENCE_END = re.compile(r"[。！？；!?;：:]|\.(?:\s|$)")
_FALLBACK_TITLE = {"zh": "工作计划", "ko": "사업 계획", "en": "Work plan"}


@dataclass(frozen=True, slots=True)
class PartSummary:
    """One plan of a file: its number (from 1), title, size and whether it reads as a review."""

    number: int
    title: str
    sections: int
    items: int
    review: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "sections": self.sections,
            "items": self.items,
            "review": self.review,
        }


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The imported plan and the importer's account of it."""

    content: PlanContent
    title: str
    part: int
    parts: tuple[PartSummary, ...]
    skipped: tuple[tuple[str, str], ...]
    warnings: tuple[tuple[str, dict[str, Any]], ...]

    def to_dict(self) -> dict[str, Any]:
        """What ``planflow plans content`` accepts, plus the importer's account (no keys)."""
        sections = [
            {
                "title": s.title,
                "items": [{k: v for k, v in i.to_dict().items() if k != "key"} for i in s.items],
            }
            for s in self.content.sections
        ]
        return {
            "title": self.title,
            "sections": sections,
            "part": self.part,
            "parts": [p.to_dict() for p in self.parts],
            "skipped": [{"reason": r, "text": t} for r, t in self.skipped],
            "warnings": [{"code": c, "params": p} for c, p in self.warnings],
        }


def clip(text: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", text).strip()
    cut = limit
    while len(text) > limit:  # NFC may lengthen a string, so re-check after cutting
        text = unicodedata.normalize("NFC", text[:cut]).strip()
        cut -= 1
    return text


def chunks(text: str) -> list[str]:
    """Pieces of at most MAX_TEXT characters, cut at a sentence end where possible."""
    pieces = []
    while len(text) > MAX_TEXT:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, MAX_TEXT)]
        cut = ends[-1] if ends and ends[-1] > MAX_TEXT // 2 else MAX_TEXT
        pieces.append(text[:cut])
        text = text[cut:]
    return [p for p in (*pieces, text) if p.strip()]


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    # Control characters and surrogates would be refused by validation; they carry no meaning.
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Cf") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def _clean_lines(lines: Iterable[Line], skipped: list[tuple[str, str]]) -> list[Line]:
    kept: list[Line] = []
    for line in lines:
        text = _clean(line.text)
        if not text:
            continue
        if line.written is not None:  # a section or item planflow wrote: never debris
            kept.append(Line(text, line.marker, line.written, line.shown))
            continue
        if debris.is_footer(text):
            skipped.append(("debris", text))
            break
        if debris.is_teaser(text):
            # A teaser's own title stands on the line before it.
            if kept and kept[-1].marker is None and len(kept[-1].text) <= 40:
                skipped.append(("debris", kept.pop().text))
            skipped.append(("debris", text))
        elif debris.is_debris(text):
            skipped.append(("debris", text))
        else:
            kept.append(Line(text, line.marker))
    return kept


def _language(text: str) -> str:
    hangul = sum(1 for c in text if "가" <= c <= "힣")
    han = sum(1 for c in text if "一" <= c <= "鿿")
    return "ko" if hangul > han / 4 and hangul else "zh" if han else "en"


def _part_title(part: Part, fallback: str) -> str:
    first = part.heading or (part.root.paras[0] if part.root.paras else "")
    if first and len(first) > 60:
        clause = re.split(r"[，,。.;；:：]", first, maxsplit=1)[0]
        first = clause if 6 <= len(clause) <= 40 else ""
    title = " ".join(t for t in (part.tag, first.strip(" :：")) if t)
    return clip(title or fallback, MAX_TITLE)


def import_plan(lines: Sequence[Line], *, year: int, part: int | None = None) -> ImportResult:
    """Import the paragraphs of a plan document; ``part`` (from 1) picks one of several plans."""
    skipped: list[tuple[str, str]] = []
    kept = _clean_lines(lines, skipped)
    language = _language(" ".join(line.text for line in kept[:50]))
    head = kept[0] if kept else None
    titles = head and len(head.text) <= 60 and not line_markers(head.text)
    # "Part One: Looking back at 2023" first is the review's heading, not the file's title.
    doc_title = head.text if head and titles and not debris.heads_review(head.text) else ""
    fallback = doc_title or _FALLBACK_TITLE[language]
    parts = split_parts(kept)
    outlines = [project(p, _part_title(p, fallback)) for p in parts]
    summaries = tuple(
        PartSummary(n, o.title, len(o.sections), sum(len(s[1]) for s in o.sections), o.review)
        for n, o in enumerate(outlines, 1)
    )
    warnings: list[tuple[str, dict[str, Any]]] = []
    if part is None:
        chosen = next((s.number for s in summaries if not s.review and s.items), 1)
    else:
        chosen = part
    if len(outlines) > 1:
        warnings.append(("several_plans", {"count": len(outlines), "part": chosen}))
    outline = outlines[chosen - 1] if 0 < chosen <= len(outlines) else Outline(fallback)
    if outline.review:
        warnings.append(("review_only", {"part": chosen}))
    for n, o in enumerate(outlines, 1):
        if n != chosen:
            skipped += [("other_plan", f"{n}: {o.title}")]
    content = _content(outline, year, warnings)
    title = doc_title or outline.title
    return ImportResult(
        content,
        clip(title, MAX_TITLE) or _FALLBACK_TITLE[language],
        chosen,
        summaries,
        tuple(skipped + outline.skipped),
        tuple(warnings),
    )


def _content(
    outline: Outline, year: int, warnings: list[tuple[str, dict[str, Any]]]
) -> PlanContent:
    sections = []
    for si, (title, texts) in enumerate(outline.sections, 1):
        items: list[dict[str, object]] = []
        for text in texts:
            if isinstance(text, Written):
                item = _written_item(text, year)
                if item is not None:
                    items.append(item)
                    continue
            for piece in chunks(text):
                piece = clip(piece, MAX_TEXT)
                if not piece:
                    continue
                found = targets(piece)
                if len(found) > MAX_TARGETS:
                    number = f"{si}.{len(items) + 1}"
                    params = {"item": number, "count": len(found), "max": MAX_TARGETS}
                    warnings.append(("too_many_targets", params))
                    found = found[:MAX_TARGETS]
                for target in found:
                    target["metric"] = clip(str(target["metric"]), MAX_SHORT) or "target"
                items.append({"text": piece, "due": due_month(piece), "targets": found})
        sections.append({"title": clip(title, MAX_TITLE) or "-", "items": items})
    return PlanContent.from_dict({"sections": sections}, year=year)


def _written_item(text: Written, year: int) -> dict[str, object] | None:
    """An item as the file recorded it, if that is a valid item (else it is read as text)."""
    item = dict(text.facts)
    try:
        PlanContent.from_dict({"sections": [{"title": "-", "items": [item]}]}, year=year)
    except ValidationError:
        return None
    return item


def import_text(text: str, *, year: int, part: int | None = None) -> ImportResult:
    """Import a plan pasted or read as plain text: one paragraph a line."""
    return import_plan([Line(line) for line in text.splitlines()], year=year, part=part)
