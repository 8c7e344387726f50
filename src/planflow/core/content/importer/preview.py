"""The state of an import preview between two requests, as JSON a client holds.

A preview keeps no files on a server: the page carries the outline being
corrected (``outline_json``, the content with its keys) and, for a file of
several plans, the file's paragraphs (``lines_json``) so that another part
can be read without sending the file again. Both come back from the client
and are read as untrusted (``read_outline``, ``read_lines``): size-capped,
shape-checked, the outline through ``PlanContent.from_dict``. A refusal is
``ValidationError`` with the code ``import_preview_invalid`` (``field``:
``outline`` or ``lines``); content problems are the content's own
``ContentValidationError``. Pure: standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from planflow.core.content.importer import ImportResult
from planflow.core.content.importer.levels import Line
from planflow.core.content.importer.markers import Marker
from planflow.core.content.model import PlanContent
from planflow.errors import ValidationError

__all__ = [
    "MAX_PREVIEW",
    "Report",
    "lines_json",
    "outline_json",
    "read_lines",
    "read_outline",
    "read_report",
    "report_json",
]

#: The most characters of JSON read back (a long plan's outline is some hundred KiB).
MAX_PREVIEW = 2_000_000
_MAX_LINES = 20_000


def _refused(field: str, why: str) -> ValidationError:
    return ValidationError(
        f"the preview's {field} cannot be read: {why}",
        code="import_preview_invalid",
        params={"field": field},
    )


def _load(text: object, field: str) -> object:
    if not isinstance(text, str) or not text.strip():
        raise _refused(field, "it is missing")
    if len(text) > MAX_PREVIEW:
        raise _refused(field, "it is too long")
    try:
        # No nesting in either form goes deeper than 5; json's parser is iterative
        # for flat data, and RecursionError covers a hostile, deeply nested one.
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _refused(field, "it is not JSON") from exc


def outline_json(content: PlanContent) -> str:
    return content.canonical_json()


def read_outline(text: object, *, year: int) -> PlanContent:
    """The outline a client sent back, checked as any content is."""
    data = _load(text, "outline")
    if not isinstance(data, dict):
        raise _refused("outline", "it is not an object")
    return PlanContent.from_dict(data, year=year)


def lines_json(lines: Sequence[Line]) -> str:
    rows = [
        [line.text] if line.marker is None else [line.text, line.marker.style, line.marker.number]
        for line in lines
    ]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def read_lines(text: object) -> list[Line]:
    """The paragraphs a client sent back: ``[text]`` or ``[text, style, number]`` each."""
    data = _load(text, "lines")
    if not isinstance(data, list) or len(data) > _MAX_LINES:
        raise _refused("lines", "it is not a list of paragraphs")
    lines = []
    for row in data:
        if not isinstance(row, list) or not row or not isinstance(row[0], str):
            raise _refused("lines", "a paragraph is not text")
        if len(row) == 1:
            lines.append(Line(row[0]))
        elif (
            len(row) == 3
            and isinstance(row[1], str)
            and isinstance(row[2], int)
            and not isinstance(row[2], bool)
            and len(row[1]) <= 100
            and 0 < row[2] < 10_000
        ):
            lines.append(Line(row[0], Marker(row[1], row[2])))
        else:
            raise _refused("lines", "a paragraph's numbering is not readable")
    return lines


@dataclass(frozen=True, slots=True)
class Report:
    """The importer's account kept beside a preview: the plans of the file, the part
    taken, what was left out and what to check (as ``ImportResult`` has them)."""

    part: int = 1
    parts: tuple[dict[str, Any], ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    warnings: tuple[tuple[str, dict[str, Any]], ...] = field(default=())


def report_json(result: ImportResult) -> str:
    data = result.to_dict()
    kept = {k: data[k] for k in ("part", "parts", "skipped", "warnings")}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def _strings(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 20_000


def _need(ok: bool) -> None:
    if not ok:
        raise TypeError("unexpected shape")


def read_report(text: object) -> Report:
    """The account a client sent back; only shown, but checked for its shape all the same."""
    data = _load(text, "report")
    if not isinstance(data, dict):
        raise _refused("report", "it is not an import report")
    try:
        part = data["part"]
        _need(isinstance(part, int) and not isinstance(part, bool))
        parts = tuple(data["parts"])
        _need(all(isinstance(p, dict) and isinstance(p.get("number"), int) for p in parts))
        skipped = tuple((s["reason"], s["text"]) for s in data["skipped"])
        _need(all(_strings(r) and _strings(t) for r, t in skipped))
        warnings = tuple((w["code"], w["params"]) for w in data["warnings"])
        _need(all(_strings(c) and isinstance(p, dict) for c, p in warnings))
    except (KeyError, TypeError) as exc:
        raise _refused("report", "it is not an import report") from exc
    return Report(part, parts, skipped, warnings)
