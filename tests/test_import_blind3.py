"""The importer on a second blind set: three plans written without running the importer on them.

``tests/data/imports/blind3/`` holds a Chinese, a Korean and an English plan
(web-page text, each a review followed by the plan, numbering styles mixed,
several targets in one item) whose expected outlines were written by hand
and committed before the importer was first run on them
(``blind3/README.md`` has the scores then and since). Rules of the
importer have since been changed on failures here (ko_hospital, then
en_district), so the set is blind for the Chinese document only.

What is asserted is what the importer must do on any document (no crash,
no invented due month) and a floor at each document's score as measured,
so that a change cannot lose what it does today unnoticed; the scores are
printed (``pytest -s``) and recorded as a property. Raise a floor when the
importer gets better here, and say in the README that the set is no longer
blind once it was tuned against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from import_scoring import DATA, expected_outline, import_document, score
from test_import_heldout import _invented_months

BLIND = DATA / "imports" / "blind3"
OUTLINES = sorted(BLIND.glob("*.expected.json"))
#: Points scored after the fix made on this set (README.md): raise them, never lower them.
FLOORS = {"en_district": 35, "ko_hospital": 35, "zh_town": 32}


def _name(path: Path) -> str:
    return path.name.removesuffix(".expected.json")


def test_the_set_is_one_document_a_language() -> None:
    assert sorted(_name(p).split("_")[0] for p in OUTLINES) == ["en", "ko", "zh"]
    assert set(FLOORS) == {_name(p) for p in OUTLINES}


@pytest.mark.parametrize("path", OUTLINES, ids=_name)
def test_blind_document_imports_and_its_score_is_recorded(path: Path, record_property: Any) -> None:
    outline = expected_outline(path)
    result = score(outline, import_document(outline).to_dict())  # a crash fails here
    record_property("score", str(result))
    print(f"\n{_name(path):12} {result}")
    for miss in result.misses:
        print(f"    {miss}")
    assert result.points >= FLOORS[_name(path)], result.misses


@pytest.mark.parametrize("path", OUTLINES, ids=_name)
def test_blind_document_gets_no_invented_due_month(path: Path) -> None:
    outline = expected_outline(path)
    assert _invented_months(outline, import_document(outline).to_dict()) == []


def test_several_targets_of_one_item_are_all_read() -> None:
    # zh_town's 三是 item: "合格率100%，先进率60%以上，示范率20%".
    outline = expected_outline(BLIND / "zh_town.expected.json")
    found = import_document(outline).to_dict()
    homes = next(
        i for s in found["sections"] for i in s["items"] if i["text"].startswith("推进职工之家建设")
    )
    assert [(t["op"], t["value"]) for t in homes["targets"]] == [
        (">=", 100),
        (">=", 60),
        (">=", 20),
    ]
