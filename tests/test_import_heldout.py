"""The importer on the once held-out documents: outlines written blind, now tuned against.

``tests/data/imports/heldout/`` holds six plans (Chinese, Korean, English;
web-page text as .txt and Word files built by ``make_docx.py``) whose
expected outlines were written by hand and committed before the importer
was first run on them. The outlines of ``tests/data/imports/*.expected.json``
were made while looking at the importer's output. These scores said how it
did on documents it was not tuned to until the importer was tuned on their
failures (branch ``import2``); since then they are no independent measure,
and a new blind set is needed for one (``heldout/README.md``).

What is asserted is what the importer must do on any document (it does not
crash, it does not invent a due month) and, since the tuning, the tuned
set's floor of 0.95 per document. The score of each document is printed
(``pytest -s``) and recorded as a property (``--junitxml``);
``heldout/README.md`` lists the scores and failures when the set was made,
and after tuning on it.
"""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from typing import Any

import docx
import pytest
from import_scoring import DATA, expected_outline, import_document, score

from planflow.core.content.importer import ImportResult
from planflow.integrations.documents.reading import read_plan_bytes

HELDOUT = DATA / "imports" / "heldout"
OUTLINES = sorted(HELDOUT.glob("*.expected.json"))


def _import(outline: dict[str, Any]) -> ImportResult:
    source = DATA / outline["source"]
    if source.suffix == ".docx":
        return import_document(outline, read_plan_bytes(source.read_bytes()))
    return import_document(outline)


def _name(path: Path) -> str:
    return path.name.removesuffix(".expected.json")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _invented_months(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """Due months in ``found`` that the expected outline does not give.

    An item paired with an expected one (section by title, item by order and
    by how its text begins, as the scorer pairs them) may miss its month but
    not have another; any other item may only have a month the expected
    outline has somewhere.
    """
    anywhere = {i["due"] for s in expected["sections"] for i in s["items"]} - {None}
    want, got = expected["sections"], found["sections"]
    matcher = difflib.SequenceMatcher(
        None, [_norm(s["title"]) for s in want], [_norm(s["title"]) for s in got], autojunk=False
    )
    paired = {b + k: a + k for a, b, n in matcher.get_matching_blocks() for k in range(n)}
    wrong = []
    for j, section in enumerate(got):
        items = want[paired[j]]["items"] if j in paired else []
        for k, item in enumerate(section["items"]):
            if item["due"] is None:
                continue
            mine = items[k] if k < len(items) else None
            if mine is not None and _norm(item["text"]).startswith(_norm(mine["text"])):
                allowed = {mine["due"]}
            else:
                allowed = anywhere
            if item["due"] not in allowed:
                where = f"{section['title']!r} item {k + 1} {item['text'][:30]!r}"
                wrong.append(f"{where}: due {item['due']}")
    return wrong


def test_the_held_out_set_is_two_documents_a_language_one_txt_one_docx() -> None:
    sources = sorted(expected_outline(p)["source"].rsplit("/", 1)[1] for p in OUTLINES)
    assert sources == [
        f"{lang}_{kind}" for lang in ("en", "ko", "zh") for kind in ("web.txt", "word.docx")
    ]


@pytest.mark.parametrize("path", OUTLINES, ids=_name)
def test_held_out_document_imports_and_its_score_is_recorded(
    path: Path, record_property: Any
) -> None:
    outline = expected_outline(path)
    result = score(outline, _import(outline).to_dict())  # a crash fails here
    record_property("score", str(result))
    print(f"\n{_name(path):10} {result}")
    for miss in result.misses:
        print(f"    {miss}")
    # The set has been tuned against since (README.md): it now holds the tuned set's
    # floor, so that later changes cannot quietly lose what was gained.
    assert result.ratio >= 0.95, result.misses


@pytest.mark.parametrize("path", OUTLINES, ids=_name)
def test_held_out_document_gets_no_invented_due_month(path: Path) -> None:
    outline = expected_outline(path)
    found = _import(outline).to_dict()
    assert _invented_months(outline, found) == []


def test_an_invented_month_is_caught() -> None:
    def outline(*items: tuple[str, int | None]) -> dict[str, Any]:
        return {"sections": [{"title": "A", "items": [{"text": t, "due": d} for t, d in items]}]}

    expected = outline(("Hold a meeting", None), ("Train reps in April", 4))
    assert _invented_months(expected, outline(("Hold a meeting", None), ("Train", None))) == []
    assert _invented_months(expected, outline(("Hold a meeting", 4))) != []  # 4 is another's
    assert _invented_months(expected, outline(("Train reps in April", 5))) != []
    assert _invented_months(expected, outline(("Other", 4))) == []  # unpaired: 4 is in the plan
    assert _invented_months(expected, outline(("Other", 5))) != []


def test_the_docx_files_are_what_make_docx_builds(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_docx", HELDOUT / "make_docx.py")
    assert spec is not None and spec.loader is not None
    make_docx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_docx)
    for name, paragraphs in (("zh", make_docx.ZH), ("ko", make_docx.KO), ("en", make_docx.EN)):
        make_docx.build(paragraphs, tmp_path / f"{name}_word.docx")
        built = docx.Document(str(tmp_path / f"{name}_word.docx"))
        committed = docx.Document(str(HELDOUT / f"{name}_word.docx"))
        assert [(p.style.name, p.text) for p in built.paragraphs] == [
            (p.style.name, p.text) for p in committed.paragraphs
        ]
