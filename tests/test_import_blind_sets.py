"""The importer on the blind sets: plans written without running the importer on them.

Each set under ``tests/data/imports/`` (``blind3/``, ``blind4/``) holds a
Chinese, a Korean and an English union work plan whose expected outlines were
written by hand and committed before the importer was first run on them;
each set's ``README.md`` has the scores then and since, and says which
documents rules of the importer were later changed on (a set is blind only
until then).

What is asserted is what the importer must do on any document (no crash, no
invented due month) and a floor at each document's score as measured, so that
a change cannot lose what it does today unnoticed; the scores are printed
(``pytest -s``) and recorded as a property. Raise a floor when the importer
gets better on a set, and say in its README that it is no longer blind once it
was tuned against. What one document shows in particular is tested in
``test_import_blind3.py`` and ``test_import_blind4.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from import_scoring import DATA, expected_outline, import_document, score
from test_import_heldout import _invented_months

#: Points per document (the README says when each was measured): raise them, never lower them.
FLOORS = {
    "blind3": {"en_district": 35, "ko_hospital": 35, "zh_town": 32},
    "blind4": {"en_nurses": 45, "ko_union": 48, "zh_factory": 42},
}
OUTLINES = [p for s in FLOORS for p in sorted((DATA / "imports" / s).glob("*.expected.json"))]


def _name(path: Path) -> str:
    return path.name.removesuffix(".expected.json")


def _id(path: Path) -> str:
    return f"{path.parent.name}/{_name(path)}"


@pytest.mark.parametrize("blind", sorted(FLOORS))
def test_each_set_is_one_document_a_language(blind: str) -> None:
    documents = sorted((DATA / "imports" / blind).glob("*.expected.json"))
    assert sorted(_name(p).split("_")[0] for p in documents) == ["en", "ko", "zh"]
    assert set(FLOORS[blind]) == {_name(p) for p in documents}


@pytest.mark.parametrize("path", OUTLINES, ids=_id)
def test_blind_document_imports_and_its_score_is_recorded(path: Path, record_property: Any) -> None:
    outline = expected_outline(path)
    result = score(outline, import_document(outline).to_dict())  # a crash fails here
    record_property("score", str(result))
    print(f"\n{_id(path):20} {result}")
    for miss in result.misses:
        print(f"    {miss}")
    assert result.points >= FLOORS[path.parent.name][_name(path)], result.misses


@pytest.mark.parametrize("path", OUTLINES, ids=_id)
def test_blind_document_gets_no_invented_due_month(path: Path) -> None:
    outline = expected_outline(path)
    assert _invented_months(outline, import_document(outline).to_dict()) == []
