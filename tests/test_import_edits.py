"""The corrections of an imported outline, and the preview state read back as untrusted.

Pure: no database. ``importer.edits`` merges, splits and promotes items and
sets months by key; ``importer.preview`` reads the outline, the file's
paragraphs and the importer's report that a page sends back, refusing
anything that is not what it wrote with ``import_preview_invalid``.
"""

from __future__ import annotations

import json

import pytest

from planflow.core.content.importer import Line, Marker, edits, import_text, preview
from planflow.core.content.items import ContentValidationError
from planflow.core.content.model import PlanContent
from planflow.errors import ValidationError


def plan() -> PlanContent:
    return (
        PlanContent(2027)
        .add_section("Organising", key="s1")
        .add_item("s1", "Recruit members. Train stewards in May.", key="a", due=3)
        .add_item("s1", "Hold meetings", key="b", target={"metric": "x", "op": ">=", "value": 90})
        .add_section("Health", key="s2")
        .add_item("s2", "Inspect sites", key="c")
        .add_item("s2", "Train representatives", key="d", due=9)
    )


def texts(content: PlanContent) -> list[list[str]]:
    return [[i.text for i in s.items] for s in content.sections]


def test_merge_joins_an_item_to_the_one_before_even_across_sections() -> None:
    merged = edits.merge_into_previous(plan(), "b")
    assert texts(merged)[0] == ["Recruit members. Train stewards in May.\nHold meetings"]
    first = merged.sections[0].items[0]
    assert first.due == 3 and first.target is not None  # kept, and taken where missing
    across = edits.merge_into_previous(plan(), "c")
    assert texts(across) == [
        ["Recruit members. Train stewards in May.", "Hold meetings\nInspect sites"],
        ["Train representatives"],
    ]
    with pytest.raises(ContentValidationError) as info:
        edits.merge_into_previous(plan(), "a")
    assert info.value.problems[0].code == "no_previous_item"


def test_split_cuts_at_a_line_break_or_a_sentence_end() -> None:
    split = edits.split_item(plan(), "a")
    assert texts(split)[0][:2] == ["Recruit members.", "Train stewards in May."]
    assert [i.due for i in split.sections[0].items[:2]] == [3, 5]
    lined = plan().update_item("c", text="Inspect sites\nand publish the list")
    assert texts(edits.split_item(lined, "c"))[1][:2] == ["Inspect sites", "and publish the list"]
    with pytest.raises(ContentValidationError) as info:
        edits.split_item(plan(), "b")
    assert info.value.problems[0].code == "nothing_to_split"
    keys = [i.key for _n, _s, i in split.numbered_items()]
    assert len(set(keys)) == len(keys)


def test_promote_makes_a_section_of_the_item_and_those_after_it() -> None:
    promoted = edits.promote_to_section(plan(), "b")
    assert [s.title for s in promoted.sections] == ["Organising", "Hold meetings", "Health"]
    assert texts(promoted) == [
        ["Recruit members. Train stewards in May."],
        [],
        ["Inspect sites", "Train representatives"],
    ]
    inner = edits.promote_to_section(plan(), "c")
    assert [s.title for s in inner.sections] == ["Organising", "Health", "Inspect sites"]
    assert texts(inner)[2] == ["Train representatives"]


def test_set_due_checks_the_month() -> None:
    assert edits.set_due(plan(), "c", 11).sections[1].items[0].due == 11
    assert edits.set_due(plan(), "a", None).sections[0].items[0].due is None
    with pytest.raises(ContentValidationError) as info:
        edits.set_due(plan(), "c", 13)
    assert info.value.problems[0].code == "month_range"
    with pytest.raises(ContentValidationError) as info:
        edits.set_due(plan(), "zz", 1)
    assert info.value.problems[0].code == "unknown_key"


def test_the_outline_round_trips_and_junk_is_refused() -> None:
    content = plan()
    assert preview.read_outline(preview.outline_json(content), year=2027) == content
    for junk in ("", "{", "[]", "x" * (preview.MAX_PREVIEW + 1), None, 5, "[" * 100_000):
        with pytest.raises(ValidationError) as info:
            preview.read_outline(junk, year=2027)
        assert info.value.code in ("import_preview_invalid", "content_invalid"), junk
    bad = json.dumps({"sections": [{"title": "x", "items": [{"text": "", "due": 44}]}]})
    with pytest.raises(ContentValidationError) as problems:
        preview.read_outline(bad, year=2027)
    assert {p.code for p in problems.value.problems} == {"required", "month_range"}


def test_the_paragraphs_and_report_round_trip_and_junk_is_refused() -> None:
    lines = [Line("一、组织", Marker("word:heading:0", 1)), Line("plain text")]
    assert preview.read_lines(preview.lines_json(lines)) == lines
    for junk in ("{}", "[[1]]", '[["a", "s"]]', '[["a", "s", true]]', '[["a", "s", -1]]'):
        with pytest.raises(ValidationError) as info:
            preview.read_lines(junk)
        assert info.value.params == {"field": "lines"}
    result = import_text("【篇一】\n一、组织\n1. 发展会员\n【篇二】\n一、宣传\n1. 办报", year=2027)
    report = preview.read_report(preview.report_json(result))
    assert report.part == result.part and len(report.parts) == len(result.parts)
    for junk in ("[]", '{"part": true}', '{"part": 1, "parts": [], "skipped": [1]}'):
        with pytest.raises(ValidationError):
            preview.read_report(junk)


def test_set_owner_takes_a_unit_of_the_plan_or_none() -> None:
    units = {"branch_a", "branch_a1"}
    owned = edits.set_owner(plan(), "c", "branch_a1", units)
    assert owned.sections[1].items[0].owner_unit == "branch_a1"
    assert edits.set_owner(owned, "c", "", units).sections[1].items[0].owner_unit is None
    with pytest.raises(ContentValidationError) as info:
        edits.set_owner(plan(), "c", "elsewhere", units)
    problem = info.value.problems[0]
    assert (problem.code, problem.params, problem.path) == (
        "unknown_owner",
        {"owner": "elsewhere"},
        "sections[1].items[0].owner_unit",
    )
    # An owner the item already had may stay, even if the units changed since.
    assert edits.set_owner(owned, "c", "branch_a1", {"fed"}) == owned


def test_merge_keeps_the_targets_of_both_items() -> None:
    content = import_text("一、考核\n1、合格率100%\n2、优秀率60%以上，示范率20%\n", year=2027)
    _first, second = content.content.sections[0].items
    merged = edits.merge_into_previous(content.content, second.key)
    (item,) = merged.sections[0].items
    assert [t.value for t in item.targets] == [100, 60, 20]
