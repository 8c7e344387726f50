"""Tests of ``planflow.core.text.clean_text`` and of where it guards the library.

The first part is pure. The rest runs on SQLite and PostgreSQL (``pf`` +
``org``): a NUL byte (which PostgreSQL refuses with a raw ``DataError``) or
another control character in a comment, a title or item text is refused
with a ``ValidationError`` naming the field, and nothing is written (plan
version, audit trail, comments and plan count unchanged); ordinary Chinese,
Korean and English text with line breaks is stored exactly as given.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from stored import stored_plan

from planflow.app import Planflow
from planflow.core.content.items import ContentValidationError
from planflow.core.content.model import PlanContent
from planflow.core.text import MAX_COMMENT, TextError, clean_text
from planflow.errors import ValidationError
from planflow.storage.tables import Comment

MIXED = "第一条：发展会员 40 名。\n둘째: 대의원 대회 개최\n\tThird: hold the congress."
BAD = ["a\x00b", "\x00", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x9b", "lone \ud800"]


# -- clean_text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [MIXED, "工会工作", "노동조합", "plain English", "emoji 👩‍👩‍👧 and ①Ⅱ", "a\u200db"]
)
def test_ordinary_text_passes_unchanged(value: str) -> None:
    assert clean_text(value, field="comment", max_length=4000, multiline=True) == value


def test_single_line_text_passes_unchanged() -> None:
    assert clean_text("年度计划 2027 연간 계획", field="title", max_length=300) == (
        "年度计划 2027 연간 계획"
    )


def test_text_is_trimmed_and_line_breaks_normalised() -> None:
    value = "  first\r\nsecond\rthird\n\n "
    cleaned = clean_text(value, field="comment", max_length=100, multiline=True)
    assert cleaned == "first\nsecond\nthird"
    assert clean_text("  \n\t ", field="comment", max_length=10, multiline=True) == ""


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("multiline", [True, False])
def test_control_characters_are_refused(value: str, multiline: bool) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_text(value, field="comment", max_length=100, multiline=multiline)
    message = str(caught.value)
    assert message.startswith("comment must not contain the ")
    assert isinstance(caught.value, TextError)
    assert caught.value.field == "comment"
    assert "U+" in caught.value.problem


def test_the_message_names_the_character_and_where_it_is() -> None:
    with pytest.raises(TextError, match=r"^title must not contain the control character U\+0000"):
        clean_text("ab\x00", field="title", max_length=10)
    with pytest.raises(TextError, match=r"\(character 3\)"):
        clean_text("ab\x00", field="title", max_length=10)
    with pytest.raises(TextError, match="unpaired surrogate U\\+DC00"):
        clean_text("a\udc00", field="title", max_length=10)


@pytest.mark.parametrize("value", ["two\nlines", "tab\there", "cr\r\nlf"])
def test_line_breaks_and_tabs_only_in_multiline_text(value: str) -> None:
    with pytest.raises(TextError, match="control character"):
        clean_text(value, field="title", max_length=100)
    assert clean_text(value, field="comment", max_length=100, multiline=True)


def test_length_is_counted_after_trimming() -> None:
    assert clean_text("  " + "x" * 10 + "\n", field="t", max_length=10, multiline=True) == "x" * 10
    with pytest.raises(TextError, match=r"^t can have at most 10 characters \(it has 11\)$"):
        clean_text("x" * 11, field="t", max_length=10)
    assert clean_text("가" * 10, field="t", max_length=10) == "가" * 10


def test_non_text_is_refused() -> None:
    with pytest.raises(TextError, match="must be text"):
        clean_text(b"bytes", field="t", max_length=10)  # type: ignore[arg-type]


# -- where user text enters the library (SQLite and PostgreSQL) ---------------------------------


def items(*texts: str) -> PlanContent:
    return PlanContent.from_dict(
        {
            "sections": [
                {
                    "key": "s1",
                    "title": "Members 会员 회원",
                    "items": [
                        {"key": f"i{n}", "text": t, "due": n} for n, t in enumerate(texts, 1)
                    ],
                }
            ]
        },
        year=2027,
    )


def new_plan(pf: Planflow) -> int:
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan A", actor="drafter_a")
    pf.content.set_content(
        plan_id,
        items("Recruit", "Congress"),
        actor="drafter_a",
        expected_version=None,
    )
    return plan_id


def footprint(pf: Planflow, plan_id: int) -> tuple[Any, ...]:
    plan = stored_plan(pf, plan_id)
    with pf.session() as s:
        comments = len(s.exec(select(Comment.id)).all())
    trail = [(r.seq, r.action, r.comment) for r in pf.audit_trail(plan_id)]
    return (
        plan.state,
        plan.version,
        plan.audit_seq,
        plan.audit_hash,
        plan.content,
        trail,
        comments,
    )


def totals(pf: Planflow) -> dict[str, int]:
    return pf.counts()


@pytest.mark.parametrize("bad", ["bad\x00byte", "\x00", "esc\x1b", "lone \ud800"])
def test_fire_refuses_a_control_character_in_the_comment(pf: Planflow, org: Any, bad: str) -> None:
    plan_id = new_plan(pf)
    before, counts = footprint(pf, plan_id), totals(pf)
    with pytest.raises(ValidationError, match=r"^comment must not contain"):
        pf.fire(plan_id, "submit", "chair_a", bad)
    with pytest.raises(ValidationError, match=r"^comment must not contain"):
        pf.fire(plan_id, "submit", "chair_a", bad, stored_plan(pf, plan_id).version)
    assert footprint(pf, plan_id) == before
    assert totals(pf) == counts
    # The plan is not stuck: the same action with a clean comment goes through.
    assert pf.fire(plan_id, "submit", "chair_a", "fine").to_state == "submitted"


def test_mutate_refuses_a_control_character_in_the_comment(pf: Planflow, org: Any) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    applied: list[int] = []
    with pytest.raises(ValidationError, match=r"^comment must not contain the control"):
        pf.service.mutate(
            plan_id,
            "comment",
            pf.user_id("drafter_a"),
            check=lambda _tx, row, _change: applied.append(row.id),
            comment="note\x00",
        )
    assert applied == []
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", "x\x08y"])
def test_add_comment_refuses_a_control_character(pf: Planflow, org: Any, bad: str) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match=r"^comment must not contain"):
        pf.content.add_comment(plan_id, bad, actor="drafter_a")
    with pytest.raises(ValidationError, match=r"^comment must not contain"):
        pf.content.add_comment(plan_id, bad, actor="drafter_a", item_key="i1")
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize("bad", ["Plan\x00A", "\x00", "tab\there", "two\nlines"])
def test_create_plan_refuses_a_control_character_in_the_title(
    pf: Planflow, org: Any, bad: str
) -> None:
    counts = totals(pf)
    with pytest.raises(ValidationError, match=r"^title must not contain the control"):
        pf.create_plan(unit_code="branch_a", year=2027, title=bad, actor="drafter_a")
    assert totals(pf) == counts
    assert pf.plans().items == ()


def test_item_and_section_text_with_a_nul_byte_is_refused(pf: Planflow, org: Any) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(ContentValidationError) as caught:
        items("Recruit\x00", "Congress")
    assert [p.path for p in caught.value.problems] == ["sections[0].items[0].text"]
    assert "must not contain the control character U+0000" in str(caught.value)
    current = pf.content.content(plan_id)
    with pytest.raises(ValidationError, match=r"sections\[0\]\.items\[2\]\.text"):
        current.add_item("s1", "new\x00item")
    with pytest.raises(ValidationError, match=r"sections\[0\]\.items\[0\]\.text"):
        current.update_item("i1", text="changed\x00")
    with pytest.raises(ValidationError, match=r"sections\[1\]\.title"):
        current.add_section("Section\x00")
    with pytest.raises(ValidationError, match=r"sections\[0\]\.title"):
        current.rename_section("s1", "Title\x00")
    with pytest.raises(ValidationError, match=r"sections\[0\]\.items\[0\]\.owner_unit"):
        current.update_item("i1", owner_unit="branch\x00a")
    assert footprint(pf, plan_id) == before


def test_overlong_comment_names_the_field(pf: Planflow, org: Any) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match=f"^comment can have at most {MAX_COMMENT}"):
        pf.content.add_comment(plan_id, "长" * (MAX_COMMENT + 1), actor="drafter_a")
    assert footprint(pf, plan_id) == before


def test_ordinary_text_is_stored_unchanged(pf: Planflow, org: Any) -> None:
    title = "2027 年度工作计划 연간 계획 annual plan"
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title=title, actor="drafter_a")
    assert stored_plan(pf, plan_id).title == title
    body = items(MIXED, "대의원 대회\n代表大会\nCongress")
    pf.content.set_content(plan_id, body, actor="drafter_a", expected_version=None)
    stored = pf.content.content(plan_id)
    assert [i.text for i in stored.sections[0].items] == [MIXED, "대의원 대회\n代表大会\nCongress"]
    assert stored.sections[0].title == "Members 会员 회원"
    pf.content.add_comment(plan_id, MIXED, actor="drafter_a", item_key="i1")
    assert pf.fire(plan_id, "submit", "chair_a", MIXED).to_state == "submitted"
    # The plan's comments list the submitter's words with the decision, after the comment.
    said = [(c.kind, c.body) for c in pf.content.comments(plan_id)]
    assert said == [("comment", MIXED), ("decision", MIXED)]
    trail = pf.audit_trail(plan_id)
    assert [(r.action, r.comment) for r in trail[-2:]] == [("comment", MIXED), ("submit", MIXED)]


def test_windows_line_breaks_are_stored_as_newlines(pf: Planflow, org: Any) -> None:
    plan_id = new_plan(pf)
    pf.content.add_comment(plan_id, "  见附件\r\n첨부 참조\r\n", actor="drafter_a")
    pf.fire(plan_id, "submit", "chair_a", "first line\r\nsecond line")
    said = [(c.kind, c.body) for c in pf.content.comments(plan_id)]
    assert said == [("comment", "见附件\n첨부 참조"), ("decision", "first line\nsecond line")]
    assert pf.audit_trail(plan_id)[-1].comment == "first line\nsecond line"
