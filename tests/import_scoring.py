"""The importer's score on a document: its outline against a hand-made expected one.

An expected outline (``tests/data/imports/*.expected.json``) lists a
document's sections (titles) and items (how each item's text begins, its
due month, its targets), and how many plans the file holds. The score
is a ratio of points: a section whose title matches, an item whose text
begins as expected, its due month and its targets (each op, value, unit, in
order: ``targets``, or for an outline that gives only ``target``, that one), the
number of plans. Sections and items the importer made up count against it
(the totals are the larger of expected and found). Sections are paired by
title, items by the order they are found in within paired sections.

``python -m tests.import_scoring`` (from the checkout) prints every score.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planflow.core.content.importer import ImportResult, import_plan
from planflow.core.content.importer.levels import Line

DATA = Path(__file__).resolve().parent / "data"
EXPECTED = sorted((DATA / "imports").glob("*.expected.json"))


@dataclass(frozen=True)
class Score:
    points: int
    total: int
    misses: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.points / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.points}/{self.total} = {self.ratio:.2f}"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _targets(item: dict[str, Any]) -> list[tuple[Any, ...]]:
    """An item's targets as (op, value, unit), in order: its ``targets`` list, or else
    its one ``target`` (outlines and results written before items held several)."""
    listed = item.get("targets")
    if listed is None:
        listed = [item["target"]] if item.get("target") is not None else []
    return [(t["op"], float(t["value"]), t["unit"]) for t in listed]


def score(expected: dict[str, Any], found: dict[str, Any]) -> Score:
    """Compare an importer result (``ImportResult.to_dict()``) with an expected outline."""
    points, total, misses = 0, 0, []
    if "parts" in expected:
        total += 1
        if len(found["parts"]) == expected["parts"]:
            points += 1
        else:
            misses.append(f"plans: {len(found['parts'])}, expected {expected['parts']}")
    want, got = expected["sections"], found["sections"]
    pairs = difflib.SequenceMatcher(
        None, [_norm(s["title"]) for s in want], [_norm(s["title"]) for s in got], autojunk=False
    )
    paired = {a + k: b + k for a, b, n in pairs.get_matching_blocks() for k in range(n)}
    total += max(len(want), len(got))
    points += len(paired)
    misses += [f"section {s['title']!r} missing" for i, s in enumerate(want) if i not in paired]
    extra = [s for j, s in enumerate(got) if j not in paired.values()]
    misses += [f"section {s['title']!r} made up" for s in extra]
    total += sum(len(s["items"]) for s in extra)  # items of made-up sections count against
    for i, section in enumerate(want):
        items = got[paired[i]]["items"] if i in paired else []
        total += max(len(section["items"]), len(items)) + 2 * len(section["items"])
        for k, item in enumerate(section["items"]):
            actual = items[k] if k < len(items) else None
            where = f"{section['title']!r} item {k + 1}"
            if actual is None or not _norm(actual["text"]).startswith(_norm(item["text"])):
                misses.append(f"{where}: text {actual and actual['text'][:30]!r}")
                continue
            points += 1
            if actual["due"] == item["due"]:
                points += 1
            else:
                misses.append(f"{where}: due {actual['due']}, expected {item['due']}")
            if _targets(actual) == _targets(item):
                points += 1
            else:
                misses.append(f"{where}: targets {_targets(actual)}, expected {_targets(item)}")
    return Score(points, total, tuple(misses))


def expected_outline(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def import_document(expected: dict[str, Any], lines: list[Line] | None = None) -> ImportResult:
    """Import the expected outline's document (or ``lines`` read from it another way)."""
    if lines is None:
        text = (DATA / expected["source"]).read_text(encoding="utf-8")
        lines = [Line(line) for line in text.splitlines()]
    return import_plan(lines, year=expected["year"], part=expected.get("part"))


if __name__ == "__main__":
    for path in EXPECTED:
        outline = expected_outline(path)
        result = score(outline, import_document(outline).to_dict())
        print(f"{path.name.removesuffix('.expected.json'):24} {result}")
        for miss in result.misses:
            print(f"    {miss}")
