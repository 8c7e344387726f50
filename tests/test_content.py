"""Tests of the plan-content model (planflow.core.content.model) and the text importer."""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planflow.core.content import items as content_items
from planflow.core.content.diff import diff
from planflow.core.content.importer import import_text
from planflow.core.content.items import OPS, ContentValidationError, ItemTarget, due_date
from planflow.core.content.model import PlanContent
from planflow.core.content.text_import import parse_plan_text
from planflow.core.text import BIDI_CONTROLS
from planflow.errors import ValidationError

YEAR = 2024
# Copies of the real plan documents in shared/seeds, kept with the tests so
# that the suite does not depend on where a checkout sits.
SEEDS = Path(__file__).resolve().parent / "data" / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))
assert SEED_FILES, f"no seed plans in {SEEDS}"


def make(*sections: tuple[str, list[str]]) -> PlanContent:
    """Content with keys "s<n>" for sections and the given item keys; text = "item <key>"."""
    return PlanContent.from_dict(
        {
            "sections": [
                {
                    "key": f"s{n}",
                    "title": title,
                    "items": [{"key": k, "text": f"item {k}"} for k in keys],
                }
                for n, (title, keys) in enumerate(sections)
            ]
        },
        year=YEAR,
    )


def paths(error: ContentValidationError) -> set[str]:
    return {p.path for p in error.problems}


# -- validation -------------------------------------------------------------------------


def test_validation_reports_every_problem_at_once_with_its_path() -> None:
    data = {
        "sections": [
            {"title": "ok", "items": [{"key": "dup", "text": "fine", "due": 4}]},
            {
                "title": "   ",
                "colour": "red",
                "items": [
                    {"text": "  "},
                    {"text": "x" * 2001},
                    {"text": "t", "due": "2024-02-30"},
                    {"text": "t", "due": "2023-05-01"},
                    {"text": "t", "due": 13},
                    {"text": "t", "due": True},
                    {"text": "t", "target": {"metric": "dues", "op": "=>", "value": 1}},
                    {"text": "t", "target": {"metric": "dues", "op": ">=", "value": "lots"}},
                    {"key": "dup", "text": "t", "priority": 1},
                    {"key": "bad key!", "text": 5},
                    "not an object",
                ],
            },
            {"title": "s", "items": "not a list"},
        ]
    }
    with pytest.raises(ValidationError) as caught:
        PlanContent.from_dict(data, year=YEAR)
    error = caught.value
    assert isinstance(error, ContentValidationError)
    expected = {
        "sections[1].title",
        "sections[1].colour",
        "sections[1].items[0].text",
        "sections[1].items[1].text",
        "sections[1].items[2].due",
        "sections[1].items[3].due",
        "sections[1].items[4].due",
        "sections[1].items[5].due",
        "sections[1].items[6].target.op",
        "sections[1].items[7].target.value",
        "sections[1].items[8].key",
        "sections[1].items[8].priority",
        "sections[1].items[9].key",
        "sections[1].items[9].text",
        "sections[1].items[10]",
        "sections[2].items",
    }
    assert paths(error) == expected
    message = str(error)
    assert all(path in message for path in expected)
    assert "outside the plan year 2024" in message
    assert "also used at sections[0].items[0]" in message


def test_each_problem_has_a_code_parameters_and_a_place() -> None:
    """Clients say a problem by its code and put it by section, item and field: no parsing."""
    data = {
        "sections": [
            {"title": "ok", "items": [{"key": "dup", "text": "fine", "due": 4}]},
            {
                "title": "   ",
                "colour": "red",
                "items": [
                    {"text": "x" * 2001},
                    {"text": "t", "due": "2024-02-30"},
                    {"text": "t", "due": "2023-05-01"},
                    {"text": "t", "due": 13},
                    {"text": "t", "due": True},
                    {"text": "t", "target": {"metric": "dues", "op": "=>", "value": 1}},
                    {"text": "t", "target": {"metric": "dues", "op": ">=", "value": "lots"}},
                    {"key": "dup", "text": "a\x07b"},
                    {"key": "bad key!", "text": 5, "owner_unit": "u\u202e"},
                    "not an object",
                ],
            },
            {"title": "s", "items": "not a list"},
        ]
    }
    with pytest.raises(ContentValidationError) as caught:
        PlanContent.from_dict(data, year=YEAR)
    found = [
        (p.location.section, p.location.item, p.location.field, p.code, dict(p.params))
        for p in caught.value.problems
    ]
    assert found == [
        (1, None, "colour", "unknown_field", {"allowed": ["key", "title", "items"]}),
        (1, None, "title", "required", {}),
        (1, 0, "text", "too_long", {"max": 2000, "length": 2001}),
        (1, 1, "due", "bad_date", {"value": "2024-02-30"}),
        (1, 2, "due", "outside_year", {"value": "2023-05-01", "year": 2024}),
        (1, 3, "due", "month_range", {"value": 13}),
        (1, 4, "due", "bad_date", {"value": "True"}),
        (1, 5, "target.op", "not_one_of", {"choices": list(OPS), "value": "=>"}),
        (1, 6, "target.value", "not_finite", {"value": "lots"}),
        (
            1,
            7,
            "key",
            "duplicate_key",
            {"kind": "item", "key": "dup", "also_at": "sections[0].items[0]"},
        ),
        (1, 7, "text", "control_character", {"char": "U+0007", "position": 2}),
        (1, 8, "key", "bad_key", {}),
        (1, 8, "text", "not_text", {"kind": "int"}),
        (1, 8, "owner_unit", "bidi_control", {"char": "U+202E", "position": 2}),
        (1, 9, "", "not_object", {"kind": "str"}),
        (2, None, "items", "not_list", {"kind": "str"}),
    ]
    # The path and the English stay, for logs and the command line.
    assert caught.value.problems[4].path == "sections[1].items[2].due"
    assert caught.value.problems[4].message == "2023-05-01 is outside the plan year 2024"
    # The error's parameters carry the same, as a client receives them.
    details = caught.value.params["details"]
    assert details[3] == {
        "code": "bad_date",
        "params": {"value": "2024-02-30"},
        "section": 1,
        "item": 1,
        "field": "due",
    }
    assert len(caught.value.params["problems"]) == len(details) == len(found)


@pytest.mark.parametrize(
    ("edit", "code", "params"),
    [
        (lambda c: c.remove_item("nope"), "unknown_key", {"kind": "item", "key": "nope"}),
        (lambda c: c.add_item("nope", "x"), "unknown_key", {"kind": "section", "key": "nope"}),
        (lambda c: c.move_item("a", "s0", 5), "index_range", {"max": 1, "value": "5"}),
        (lambda c: c.update_item("a", key="other"), "key_fixed", {}),
    ],
)
def test_edit_helpers_refuse_with_codes(edit: Any, code: str, params: dict[str, Any]) -> None:
    with pytest.raises(ContentValidationError) as caught:
        edit(make(("A", ["a", "b"])))
    (problem,) = caught.value.problems
    assert (problem.code, dict(problem.params)) == (code, params)


def test_a_bad_year_has_a_code() -> None:
    with pytest.raises(ContentValidationError) as caught:
        PlanContent.from_dict({"sections": []}, year=0)
    (problem,) = caught.value.problems
    assert (problem.path, problem.code, problem.params) == ("year", "year_range", {"value": "0"})


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (None, "content"),
        ({"sections": {}}, "sections"),
        ({"sections": [], "year": 2024}, "content.year"),
        ({"sections": [{"title": "a\x00b"}]}, "sections[0].title"),
        ({"sections": [{"title": "two\nlines"}]}, "sections[0].title"),
        (
            {"sections": [{"title": "t", "items": [{"text": "bad \ud800"}]}]},
            "sections[0].items[0].text",
        ),
        ({"sections": [{"key": "a"}, {"key": "a", "title": "t"}]}, "sections[1].key"),
        (
            {
                "sections": [
                    {"title": "t", "items": [{"text": "t", "target": {"op": ">", "value": 1}}]}
                ]
            },
            "sections[0].items[0].target.metric",
        ),
        (
            {
                "sections": [
                    {
                        "title": "t",
                        "items": [
                            {
                                "text": "t",
                                "target": {"metric": "m", "op": ">", "value": float("nan")},
                            }
                        ],
                    }
                ]
            },
            "sections[0].items[0].target.value",
        ),
    ],
)
def test_validation_paths(data: object, path: str) -> None:
    with pytest.raises(ContentValidationError) as caught:
        PlanContent.from_dict(data, year=YEAR)
    assert path in paths(caught.value)


def test_form_input_is_normalised() -> None:
    content = PlanContent.from_dict(
        {
            "sections": [
                {
                    "title": "  Finance  ",
                    "items": [
                        {
                            "text": "Collect dues\r\nin full ",
                            "owner_unit": "",
                            "due": "4",
                            "target": {"metric": "dues", "op": ">=", "value": "99.5", "unit": "%"},
                        },
                        {"text": "Report", "due": "2024-12-31"},
                    ],
                }
            ]
        },
        year=YEAR,
    )
    first, second = content.sections[0].items
    assert content.sections[0].title == "Finance"
    assert (first.text, first.owner_unit, first.due) == ("Collect dues\nin full", None, 4)
    assert first.target == ItemTarget("dues", ">=", 99.5, "%")
    assert first.target.describe() == "dues at least 99.5%"
    assert second.due == date(2024, 12, 31)


@pytest.mark.parametrize(
    ("unit", "said"),
    [
        ("%", "dues at least 100%"),  # a sign follows the number, in every language
        ("‰", "dues at least 100‰"),
        ("期", "dues at least 100期"),  # a Chinese counter too
        ("회", "dues at least 100회"),  # and a Korean one
        ("members", "dues at least 100 members"),  # a unit in words is set apart
        ("", "dues at least 100"),
    ],
)
def test_a_target_writes_its_unit_as_people_do(unit: str, said: str) -> None:
    assert ItemTarget("dues", ">=", 100, unit).describe() == said


def test_missing_keys_are_generated_after_all_given_keys_are_known(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first generated key would collide with a key given further down the input.
    generated = iter(["later123", "fresh001", "fresh002"])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(generated))
    content = PlanContent.from_dict(
        {"sections": [{"title": "t", "items": [{"text": "a"}, {"key": "later123", "text": "b"}]}]},
        year=YEAR,
    )
    keys = [content.sections[0].key, *(i.key for i in content.sections[0].items)]
    assert keys == ["fresh001", "fresh002", "later123"]


def test_generated_keys_are_short_hex_and_unique() -> None:
    content = PlanContent.from_dict(
        {"sections": [{"title": "t", "items": [{"text": "x"}] * 50}]}, year=YEAR
    )
    keys = [i.key for i in content.sections[0].items]
    assert len(set(keys)) == 50
    assert all(re.fullmatch(r"[0-9a-f]{8}", k) for k in keys)


def test_bad_year_is_refused() -> None:
    with pytest.raises(ContentValidationError):
        PlanContent.from_dict({"sections": []}, year=0)


# -- canonical form -----------------------------------------------------------------------


def test_canonical_json_format_is_pinned() -> None:
    content = PlanContent.from_dict(
        {
            "sections": [
                {
                    "key": "s1",
                    "title": "工会",
                    "items": [
                        {
                            "key": "i1",
                            "text": "会费",
                            "due": 4,
                            "target": {"metric": "dues", "op": ">=", "value": 100.0, "unit": "%"},
                        }
                    ],
                }
            ]
        },
        year=YEAR,
    )
    assert content.canonical_json() == (
        '{"sections":[{"items":[{"due":4,"key":"i1","owner_unit":null,'
        '"targets":[{"metric":"dues","op":">=","unit":"%","value":100}],"text":"会费"}],'
        '"key":"s1","title":"工会"}]}'
    )


def test_canonical_json_ignores_dict_order_number_spelling_and_unicode_form() -> None:
    a = {
        "sections": [
            {
                "key": "s",
                "title": unicodedata.normalize("NFD", "노동조합"),
                "items": [
                    {
                        "key": "i",
                        "text": "t",
                        "target": {"metric": "m", "op": "=", "value": 100, "unit": "%"},
                    }
                ],
            }
        ]
    }
    b = {
        "sections": [
            {
                "items": [
                    {
                        "target": {"unit": "%", "value": "100.0", "op": "=", "metric": "m"},
                        "text": "t",
                        "key": "i",
                    }
                ],
                "title": "노동조합",
                "key": "s",
            }
        ]
    }
    first = PlanContent.from_dict(a, year=YEAR).canonical_json()
    assert first == PlanContent.from_dict(b, year=YEAR).canonical_json()
    again = PlanContent.from_dict(json.loads(first), year=YEAR)
    assert again.canonical_json() == first


# -- queries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "year", "expected"),
    [
        (2, 2024, date(2024, 2, 29)),
        (2, 2023, date(2023, 2, 28)),
        (4, 2024, date(2024, 4, 30)),
        (12, 2024, date(2024, 12, 31)),
        (date(2024, 6, 1), 2024, date(2024, 6, 1)),
        (None, 2024, None),
    ],
)
def test_due_date_resolves_a_month_to_its_last_day(
    due: int | date | None, year: int, expected: date | None
) -> None:
    assert due_date(content_items.Item("k", "t", due=due), year) == expected


def test_numbering_and_items_without_due() -> None:
    content = make(("A", ["a", "b"]), ("B", []), ("C", ["c"])).update_item("b", due=3)
    assert [(n, s.key, i.key) for n, s, i in content.numbered_items()] == [
        ("1.1", "s0", "a"),
        ("1.2", "s0", "b"),
        ("3.1", "s2", "c"),
    ]
    assert content.item_count == 3
    assert [(n, i.key) for n, i in content.items_without_due()] == [("1.1", "a"), ("3.1", "c")]


# -- edits --------------------------------------------------------------------------------


def test_edits_return_new_contents_and_leave_the_old_one_alone() -> None:
    start = make(("A", ["a", "b"]), ("B", ["c"]))
    edited = (
        start.add_section("New", key="s9", index=0)
        .add_item("s9", "first", key="n1", due="2024-03-15")
        .add_item(
            "s0", "inserted", key="n2", index=0, target={"metric": "m", "op": "<", "value": 3}
        )
        .update_item("a", text="changed", owner_unit="U1")
        .remove_item("c")
        .move_item("b", "s1", 0)
        .rename_section("s1", "B renamed")
    )
    assert start == make(("A", ["a", "b"]), ("B", ["c"]))
    assert [(s.key, s.title, [i.key for i in s.items]) for s in edited.sections] == [
        ("s9", "New", ["n1"]),
        ("s0", "A", ["n2", "a"]),
        ("s1", "B renamed", ["b"]),
    ]
    item = edited.sections[1].items[1]
    assert (item.text, item.owner_unit) == ("changed", "U1")
    assert edited.remove_section("s0").item_count == 2


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c.update_item("nope", text="x"),
        lambda c: c.remove_item("nope"),
        lambda c: c.move_item("nope", "s0", 0),
        lambda c: c.move_item("a", "nope", 0),
        lambda c: c.add_item("nope", "x"),
        lambda c: c.rename_section("nope", "x"),
        lambda c: c.move_item("a", "s0", 5),
        lambda c: c.add_item("s0", "x", key="a"),
        lambda c: c.add_section("x", key="s0"),
        lambda c: c.update_item("a", key="other"),
        lambda c: c.update_item("a", colour="red"),
    ],
)
def test_bad_edits_raise_validation_errors(edit: Any) -> None:
    with pytest.raises(ValidationError):
        edit(make(("A", ["a", "b"])))


def test_edit_validation_lists_every_problem_with_the_item_path() -> None:
    with pytest.raises(ContentValidationError) as caught:
        make(("A", ["a"]), ("B", ["b"])).update_item("b", text="", due=13, target={"op": "?"})
    assert paths(caught.value) == {
        "sections[1].items[0].text",
        "sections[1].items[0].due",
        "sections[1].items[0].target.metric",
        "sections[1].items[0].target.op",
        "sections[1].items[0].target.value",
    }


# -- diff ---------------------------------------------------------------------------------


def test_diff_detects_every_kind_of_change() -> None:
    old = make(("A", ["a", "b", "c", "d"]), ("B", ["e"]), ("Gone", ["f"]))
    new = (
        old.remove_section("s2")
        .add_section("Fresh", key="s3")
        .rename_section("s1", "B2")
        .add_item("s0", "new", key="n", index=0)
        .update_item("b", due=5)
        .move_item("a", "s0", 4)
        .move_item("e", "s3", 0)
    )
    result = diff(old, new)
    assert [(r.key, r.number) for r in result.added] == [("n", "1.1")]
    assert [(r.key, r.number) for r in result.removed] == [("f", "3.1")]
    assert [(c.key, [(f.field, f.old, f.new) for f in c.fields]) for c in result.changed] == [
        ("b", [("due", None, 5)])
    ]
    assert [
        (m.key, m.old_number, m.new_number, m.old_section, m.new_section) for m in result.moved
    ] == [
        ("a", "1.1", "1.5", "s0", "s0"),
        ("e", "2.1", "3.1", "s1", "s3"),
    ]
    assert result.unchanged == 2  # c and d shifted by the insert but did not move
    assert [(s.key, s.number) for s in result.sections_added] == [("s3", "3")]
    assert [(s.key, s.title) for s in result.sections_removed] == [("s2", "Gone")]
    assert [(r.key, r.old_title, r.new_title) for r in result.sections_renamed] == [
        ("s1", "B", "B2")
    ]
    assert not result.is_empty
    stored = json.loads(json.dumps(result.to_dict()))
    assert stored["changed"] == [
        {"key": "b", "number": "1.2", "fields": [{"field": "due", "old": None, "new": 5}]}
    ]
    assert stored["unchanged"] == 2


def test_diff_matches_by_key_after_reordering() -> None:
    old = make(("A", ["a", "b", "c"]), ("B", ["d"]))
    reordered = PlanContent(YEAR, tuple(reversed(old.sections)))
    result = diff(old, reordered)
    assert not (result.added or result.removed or result.changed or result.moved)
    assert result.unchanged == 4
    assert [(m.key, m.old_number, m.new_number) for m in result.sections_moved] == [
        ("s1", "2", "1")
    ]
    swapped = old.move_item("c", "s0", 0)
    assert [m.key for m in diff(old, swapped).moved] == ["c"]
    reversed_items = old.move_item("c", "s0", 0).move_item("b", "s0", 1)
    assert len(diff(old, reversed_items).moved) == 2  # the least number of moves, not all three


def test_identical_contents_give_an_empty_diff() -> None:
    content = make(("A", ["a"]))
    assert diff(content, content).is_empty
    assert diff(content, content).to_dict()["unchanged"] == 1


# -- hypothesis ---------------------------------------------------------------------------

words = st.sampled_from(["dues", "training", "会费", "培训", "조합원", "교육", "home", "家"])
phrases = st.lists(words, min_size=1, max_size=4).map(" ".join)
any_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters=BIDI_CONTROLS),
    max_size=40,
).filter(str.strip)
targets = st.none() | st.fixed_dictionaries(
    {
        "metric": phrases,
        "op": st.sampled_from(OPS),
        "value": st.integers(-1000, 1000) | st.floats(allow_nan=False, allow_infinity=False),
        "unit": st.sampled_from(["", "%", "人"]),
    }
)
dues = (
    st.none()
    | st.integers(1, 12)
    | st.dates(date(YEAR, 1, 1), date(YEAR, 12, 31)).map(date.isoformat)
)


@st.composite
def contents(draw: st.DrawFn, text: st.SearchStrategy[str] = phrases) -> PlanContent:
    """Random valid content with deterministic keys s<n> / i<n>."""
    counter = iter(range(1000))
    sections = []
    for n in range(draw(st.integers(0, 4))):
        items = [
            {
                "key": f"i{next(counter)}",
                "text": draw(text),
                "owner_unit": draw(st.sampled_from([None, "U1", "U2"])),
                "due": draw(dues),
                "target": draw(targets),
            }
            for _ in range(draw(st.integers(0, 5)))
        ]
        sections.append({"key": f"s{n}", "title": draw(text), "items": items})
    return PlanContent.from_dict({"sections": sections}, year=YEAR)


@given(contents(any_text))
def test_diff_of_a_content_with_itself_is_empty(content: PlanContent) -> None:
    assert diff(content, content).is_empty
    copy = PlanContent.from_dict(json.loads(content.canonical_json()), year=YEAR)
    assert copy == content
    assert copy.canonical_json() == content.canonical_json()
    assert diff(content, copy).unchanged == content.item_count


edit_ops = st.lists(
    st.tuples(
        st.sampled_from(
            ["add_item", "update", "remove", "move", "add_section", "rename", "drop_section"]
        ),
        st.integers(0, 1000),
        st.integers(0, 1000),
        st.integers(0, 1000),
    ),
    max_size=12,
)


@settings(max_examples=300)
@given(contents(), edit_ops)
def test_diff_reports_exactly_the_keys_that_were_touched(
    start: PlanContent, ops: list[tuple[str, int, int, int]]
) -> None:
    content = start
    updated: set[str] = set()
    moved_by_edit: set[str] = set()
    renamed: set[str] = set()
    for n, (op, a, b, c) in enumerate(ops):
        keys = [item.key for _, _, item in content.numbered_items()]
        sections = [s.key for s in content.sections]
        if op == "add_section":
            content = content.add_section(
                "new section", key=f"ns{n}", index=a % (len(sections) + 1)
            )
        elif op == "rename" and sections:
            renamed.add(sections[a % len(sections)])
            content = content.rename_section(sections[a % len(sections)], f"renamed {n}")
        elif op == "drop_section" and sections:
            content = content.remove_section(sections[a % len(sections)])
        elif op == "add_item" and sections:
            section = content.sections[a % len(sections)]
            content = content.add_item(
                section.key, "added", key=f"n{n}", index=c % (len(section.items) + 1)
            )
        elif op == "update" and keys:
            updated.add(keys[a % len(keys)])
            content = content.update_item(
                keys[a % len(keys)], text=f"edited {n}", owner_unit=f"U{b % 3}"
            )
        elif op == "remove" and keys:
            content = content.remove_item(keys[a % len(keys)])
        elif op == "move" and keys:
            key, target = keys[a % len(keys)], content.sections[b % len(sections)]
            size = len(target.items) - (key in {i.key for i in target.items})
            moved_by_edit.add(key)
            content = content.move_item(key, target.key, c % (size + 1))

    result = diff(start, content)
    before = {item.key: (section.key, item) for _, section, item in start.numbered_items()}
    after = {item.key: (section.key, item) for _, section, item in content.numbered_items()}
    common = before.keys() & after.keys()
    assert {r.key for r in result.added} == after.keys() - before.keys()
    assert {r.key for r in result.removed} == before.keys() - after.keys()
    changed = {ch.key: {f.field for f in ch.fields} for ch in result.changed}
    assert changed.keys() == updated & common
    for key, fields in changed.items():
        owner_differs = before[key][1].owner_unit != after[key][1].owner_unit
        assert fields == {"text"} | ({"owner_unit"} if owner_differs else set())

    # Moves: any item that changed section is reported, and no more items than were
    # moved by an edit (which of two swapped neighbours "moved" is a matter of choice).
    moved = {m.key for m in result.moved}
    assert {k for k in common if before[k][0] != after[k][0]} <= moved <= common
    assert len(moved) <= len(moved_by_edit & common)
    for section in content.sections:
        old_order = [k for k, (s, _) in before.items() if s == section.key]
        stayed = [i.key for i in section.items if i.key in old_order and i.key not in moved]
        assert stayed == [k for k in old_order if k in stayed]
    assert result.unchanged == len(common - moved - changed.keys())

    old_sections = {s.key for s in start.sections}
    new_sections = {s.key for s in content.sections}
    assert {s.key for s in result.sections_added} == new_sections - old_sections
    assert {s.key for s in result.sections_removed} == old_sections - new_sections
    assert {r.key for r in result.sections_renamed} == renamed & old_sections & new_sections
    assert result.is_empty == (start == content)


@given(st.data())
def test_a_single_move_is_reported_as_exactly_that_item(data: st.DataObject) -> None:
    size = data.draw(st.integers(3, 8))
    content = make(("A", [f"k{n}" for n in range(size)]), ("B", ["x"]))
    source = data.draw(st.integers(0, size - 1))
    far = [n for n in range(size) if abs(n - source) >= 2]  # neighbours swapping is ambiguous
    to_section = data.draw(st.sampled_from(["s0", "s1"]) if far else st.just("s1"))
    index = data.draw(st.sampled_from(far)) if to_section == "s0" else data.draw(st.integers(0, 1))
    result = diff(content, content.move_item(f"k{source}", to_section, index))
    assert [m.key for m in result.moved] == [f"k{source}"]
    assert result.unchanged == size


# -- importer -----------------------------------------------------------------------------

MONTH_MENTION = re.compile(
    r"[0-9]{1,2}\s*[月월]|[一二三四五六七八九十]月|\b(January|February|March|April|June|July|August"
    r"|September|October|November|December)\b"
)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_importer_reads_every_seed(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    content = parse_plan_text(text, year=2019)
    assert content.sections
    assert content.item_count > 0
    # A file may hold several plans; every one of them is read (the first is the content).
    plans = len(import_text(text, year=2019).parts)
    items = [
        i
        for n in range(1, plans + 1)
        for _, _, i in import_text(text, year=2019, part=n).content.numbered_items()
    ]
    if MONTH_MENTION.search(text):
        assert any(item.due is not None for item in items)
    if "April" in text:
        assert any(item.due == 4 and "April" in item.text for item in items)
    assert PlanContent.from_dict(json.loads(content.canonical_json()), year=2019) == content


def test_importer_handles_chinese_headings_months_and_targets() -> None:
    content = parse_plan_text(
        "2024年工会工作计划\n"
        "一、组织建设\n"
        "（一）会员发展\n"
        "1、新增会员入会率不低于95%,四月完成。\n"
        "继续上一条。\n"
        "2、会费收缴率达到100%,12月底前完成\n"
        "（二）培训\n"
        "1、培训缺勤率不超过10%\n"
        "二、文体活动\n"
        "组织职工运动会\n",
        year=YEAR,
    )
    assert [s.title for s in content.sections] == ["组织建设", "会员发展", "培训", "文体活动"]
    first, second = content.sections[1].items
    assert first.text == "新增会员入会率不低于95%,四月完成。\n继续上一条。"
    assert (first.due, first.target) == (4, ItemTarget("新增会员入会率", ">=", 95, "%"))
    assert (second.due, second.target) == (12, ItemTarget("会费收缴率", ">=", 100, "%"))
    assert content.sections[2].items[0].target == ItemTarget("培训缺勤率", "<=", 10, "%")
    assert [i.text for i in content.sections[3].items] == ["组织职工运动会"]


def test_importer_handles_english_and_korean() -> None:
    english = parse_plan_text(
        "Union plan\nFirst, training. Hold three courses in April.\n"
        "Members may join at any time; at least 90% attendance.\n"
        "Second, finance. Dues collected 100% at the end of December.\n",
        year=YEAR,
    )
    assert [s.title for s in english.sections] == ["training", "finance"]
    course, join = english.sections[0].items
    assert (course.text, course.due) == ("Hold three courses in April.", 4)
    assert join.due is None  # "may" is not May
    assert join.target is not None and (join.target.op, join.target.value) == (">=", 90)
    assert english.sections[1].items[0].due == 12
    korean = parse_plan_text(
        "1. 조직 강화\n가. 조합원 교육 4월 실시\n나. 참여율 85% 이상\n2. 복지\n", year=YEAR
    )
    assert [s.title for s in korean.sections] == ["조직 강화", "복지"]
    education, participation = korean.sections[0].items
    assert education.due == 4
    assert participation.target == ItemTarget("참여율", ">=", 85, "%")


def test_importer_without_headings_and_on_empty_text() -> None:
    assert parse_plan_text("", year=YEAR).sections == ()
    flat = parse_plan_text("Plan title\nDo one thing\nDo another", year=YEAR)
    assert [(s.title, [i.text for i in s.items]) for s in flat.sections] == [
        ("Plan title", ["Do one thing", "Do another"])
    ]


def test_importer_splits_long_text_without_losing_it() -> None:
    body = "工会工作要落实。" * 600  # 4800 characters
    content = parse_plan_text("一、总体\n" + body, year=YEAR)
    texts = [i.text for i in content.sections[0].items]
    assert all(len(t) <= 2000 for t in texts)
    assert "".join(texts) == body


plan_alphabet = st.sampled_from(
    [
        *"一二三十、．.（）()123 \n\t%％月월,가나①Ⅰ【篇】不低于以上",
        "First,",
        "May ",
        "at least ",
        "\r\n",
        "\x00",
    ]
)


@settings(max_examples=300)
@given(st.text() | st.lists(plan_alphabet, max_size=80).map("".join))
def test_importer_never_fails(text: str) -> None:
    content = parse_plan_text(text, year=YEAR)
    assert PlanContent.from_dict(content.to_dict(), year=YEAR) == content


# -- several targets per item -------------------------------------------------------------------


def _one_item(**fields: Any) -> dict[str, Any]:
    return {
        "sections": [{"key": "s1", "title": "T", "items": [{"key": "i1", "text": "x", **fields}]}]
    }


def _codes(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ContentValidationError) as info:
        PlanContent.from_dict(data, year=YEAR)
    return [(p.code, p.path) for p in info.value.problems]


def test_an_item_holds_several_targets_in_order_and_round_trips() -> None:
    targets = [
        {"metric": "qualified", "op": ">=", "value": 100, "unit": "%"},
        {"metric": "advanced", "op": ">", "value": 60, "unit": "%"},
        {"metric": "model", "op": ">=", "value": 20, "unit": "%"},
    ]
    content = PlanContent.from_dict(_one_item(targets=targets), year=YEAR)
    item = content.sections[0].items[0]
    assert [t.describe() for t in item.targets] == [
        "qualified at least 100%",
        "advanced more than 60%",
        "model at least 20%",
    ]
    assert item.target == item.targets[0]
    again = PlanContent.from_dict(json.loads(content.canonical_json()), year=YEAR)
    assert again == content


def test_content_in_the_one_target_form_reads_as_a_list_of_one_or_none() -> None:
    one = {"metric": "dues", "op": ">=", "value": 95, "unit": "%"}
    old = PlanContent.from_dict(_one_item(target=one), year=YEAR)
    new = PlanContent.from_dict(_one_item(targets=[one]), year=YEAR)
    assert old == new and old.canonical_json() == new.canonical_json()
    assert (
        PlanContent.from_dict(_one_item(target=None), year=YEAR).sections[0].items[0].targets == ()
    )
    assert diff(old, new).is_empty


def test_bad_target_lists_are_refused_with_every_problem() -> None:
    one = {"metric": "dues", "op": ">=", "value": 95, "unit": "%"}
    max_targets = content_items.MAX_TARGETS
    assert _codes(_one_item(target=one, targets=[one])) == [
        ("target_and_targets", "sections[0].items[0].target")
    ]
    assert _codes(_one_item(targets=one)) == [("not_list", "sections[0].items[0].targets")]
    assert _codes(_one_item(targets=[one] * (max_targets + 1))) == [
        ("too_many", "sections[0].items[0].targets")
    ]
    bad = [one, {**one, "op": "~"}, {**one, "value": "lots"}]
    assert _codes(_one_item(targets=bad)) == [
        ("not_one_of", "sections[0].items[0].targets[1].op"),
        ("not_finite", "sections[0].items[0].targets[2].value"),
    ]


def test_update_item_with_one_target_replaces_them_all() -> None:
    one = {"metric": "dues", "op": ">=", "value": 95, "unit": "%"}
    content = PlanContent.from_dict(_one_item(targets=[one, {**one, "value": 99}]), year=YEAR)
    assert content.update_item("i1", target=None).sections[0].items[0].targets == ()
    changed = content.update_item("i1", target=one).sections[0].items[0].targets
    assert [t.value for t in changed] == [95]
