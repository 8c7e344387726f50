"""Tests of ``planflow.services.content.PlanContentService``: content edits, comments, revisions.

Every test runs on SQLite and PostgreSQL (``pf`` + ``org``). Editing goes
through the service's audited path, so besides the result each refusal is
checked to write nothing (version, audit head and content unchanged).
Covered: who may edit and when, stale versions, the ``edit_content`` audit
record, comments (plan and item level, empty, unknown item, outsiders) and
the diff between two submitted revisions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from stored import stored_plan

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.audit_chain import sha256_hex
from planflow.core.content.model import PlanContent
from planflow.errors import GuardFailed, NotFound, PermissionDenied, StaleVersion, ValidationError
from planflow.storage import audit_repo
from planflow.storage.tables import Comment, Plan

# -- helpers -----------------------------------------------------------------------------------


def content(*items: dict[str, Any], year: int = 2027) -> PlanContent:
    """One section ``s1`` holding ``items`` (each gets key ``i<n>`` unless given)."""
    keyed = [{"key": f"i{n}", **item} for n, item in enumerate(items, 1)]
    return PlanContent.from_dict(
        {"sections": [{"key": "s1", "title": "Members", "items": keyed}]}, year=year
    )


T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # the fixture clock
FIRST = content({"text": "Recruit 40 members", "due": 3}, {"text": "Hold congress", "due": 6})


def new_plan(pf: Planflow) -> int:
    return pf.create_plan(unit_code="branch_a", year=2027, title="Plan A", actor="drafter_a")


def edit(pf: Planflow, plan_id: int, user: str, body: PlanContent, version: int | None = None):
    return pf.content.set_content(plan_id, body, actor=user, expected_version=version)


def comment(pf: Planflow, plan_id: int, user: str, body: str, item_key: str | None = None):
    return pf.content.add_comment(plan_id, body, actor=user, item_key=item_key)


def footprint(pf: Planflow, plan_id: int) -> tuple[object, ...]:
    """What an edit or comment changes; compare before and after a refusal."""
    plan = stored_plan(pf, plan_id)
    with pf.session() as s:
        comments = len(s.exec(select(Comment.id)).all())
    return (
        plan.version,
        plan.audit_seq,
        plan.audit_hash,
        plan.content,
        plan.item_count,
        plan.items_without_due,
        pf.counts()["audit_records"],
        comments,
    )


def in_review(pf: Planflow, plan_id: int) -> None:
    edit(pf, plan_id, "drafter_a", FIRST)
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "start_review", "reviewer")


# -- set_content -------------------------------------------------------------------------------


def test_drafter_sets_content_in_draft(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    assert edit(pf, plan_id, "drafter_a", FIRST, version=1) == 2  # the plan's new version
    plan = stored_plan(pf, plan_id)
    assert (plan.state, plan.version, plan.item_count, plan.items_without_due) == (
        "draft",
        2,
        2,
        0,
    )
    assert plan.content == FIRST.canonical_json()
    assert pf.content.content(plan_id) == FIRST


def test_submitter_may_edit_too(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    edit(pf, plan_id, "chair_a", FIRST)
    assert pf.content.content(plan_id) == FIRST


def test_undated_items_are_counted_for_the_submit_guard(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    edit(pf, plan_id, "drafter_a", content({"text": "a"}, {"text": "b"}, {"text": "c", "due": 2}))
    plan = stored_plan(pf, plan_id)
    assert (plan.item_count, plan.items_without_due) == (3, 2)
    with pytest.raises(GuardFailed) as info:
        pf.fire(plan_id, "submit", "chair_a")
    assert info.value.reasons == ("2 item(s) have no due date or month",)


def test_edit_is_on_the_audit_trail(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    edit(pf, plan_id, "drafter_a", FIRST)
    last = pf.audit_trail(plan_id)[-1]
    assert (last.seq, last.action, last.from_state, last.to_state) == (
        2,
        "edit_content",
        "draft",
        "draft",
    )
    assert last.actor == "drafter_a"
    assert dict(last.detail) == {
        "content_hash": sha256_hex(FIRST.canonical_json()),
        "items": 2,
    }
    assert audit_repo.verify(pf.db).ok


@pytest.mark.parametrize("state", ["submitted", "under_review"])
def test_content_is_frozen_while_the_plan_is_reviewed(pf: Planflow, org, state: str) -> None:
    plan_id = new_plan(pf)
    edit(pf, plan_id, "drafter_a", FIRST)
    pf.fire(plan_id, "submit", "chair_a")
    if state == "under_review":
        pf.fire(plan_id, "start_review", "reviewer")
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match=f"while the plan is '{state}'"):
        edit(pf, plan_id, "drafter_a", content({"text": "sneaky", "due": 1}))
    assert footprint(pf, plan_id) == before


def test_content_is_editable_again_once_returned(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    in_review(pf, plan_id)
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="be specific")
    edited = content({"text": "Recruit 50 members", "due": 3})
    edit(pf, plan_id, "drafter_a", edited)
    assert pf.content.content(plan_id) == edited


@pytest.mark.parametrize("user", ["drafter_b", "chair_b", "reviewer", "officer"])
def test_users_who_may_not_see_a_draft_cannot_learn_it_exists(pf: Planflow, org, user: str) -> None:
    # A draft never submitted is seen by its own unit only: to anyone else an
    # edit answers exactly like an edit of a plan that does not exist.
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(NotFound) as info:
        edit(pf, plan_id, user, FIRST)
    with pytest.raises(NotFound) as missing:
        edit(pf, 10_000, user, FIRST)
    assert (info.value.code, info.value.params["ident"]) == ("not_found", plan_id)
    assert str(info.value) == str(missing.value).replace("10000", str(plan_id))
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize("user", ["reviewer", "officer"])
def test_overseers_who_see_the_plan_may_not_edit_it(pf: Planflow, org, user: str) -> None:
    plan_id = new_plan(pf)
    in_review(pf, plan_id)
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="be specific")
    before = footprint(pf, plan_id)
    with pytest.raises(PermissionDenied) as info:
        edit(pf, plan_id, user, FIRST)
    assert (info.value.action, info.value.role, info.value.where) == (
        "edit",
        "drafter",
        "at the plan's unit",
    )
    assert footprint(pf, plan_id) == before


def test_content_for_another_year_is_refused(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match="the content is for 2028, the plan for 2027"):
        edit(pf, plan_id, "drafter_a", content({"text": "x", "due": 1}, year=2028))
    assert footprint(pf, plan_id) == before


def test_stale_edit_is_refused_and_writes_nothing(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    edit(pf, plan_id, "drafter_a", FIRST, version=1)
    before = footprint(pf, plan_id)
    with pytest.raises(StaleVersion) as info:
        # Someone who loaded the plan at version 1 saves over the newer edit.
        edit(pf, plan_id, "chair_a", content({"text": "older idea", "due": 2}), version=1)
    assert (info.value.expected, info.value.current) == (1, 2)
    assert footprint(pf, plan_id) == before
    assert pf.content.content(plan_id) == FIRST


def test_set_content_on_an_unknown_plan(pf: Planflow, org) -> None:
    with pytest.raises(NotFound):
        edit(pf, 999, "drafter_a", FIRST)
    with pytest.raises(NotFound):
        pf.content.content(999)
    with pytest.raises(NotFound):
        pf.content.revisions(999)


# -- comments ----------------------------------------------------------------------------------


def test_plan_level_comment(pf: Planflow, org, clock: FixedClock) -> None:
    plan_id = new_plan(pf)
    in_review(pf, plan_id)
    version = stored_plan(pf, plan_id).version
    clock.advance(timedelta(minutes=3, microseconds=7))
    assert comment(pf, plan_id, "reviewer", "  Please add a budget.  ") == version + 1
    [saved] = pf.content.comments(plan_id)
    assert (saved.body, saved.item_key, saved.author, saved.revision) == (
        "Please add a budget.",
        None,
        "reviewer",
        1,
    )
    assert saved.created_at == T0 + timedelta(minutes=3, microseconds=7)
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.comment, last.from_state, last.to_state) == (
        "comment",
        "Please add a budget.",
        "under_review",
        "under_review",
    )
    assert dict(last.detail) == {}
    assert stored_plan(pf, plan_id).state == "under_review"
    assert audit_repo.verify(pf.db).ok


def test_item_level_comment(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    in_review(pf, plan_id)
    comment(pf, plan_id, "inspector", "Which congress?", item_key="i2")
    [saved] = pf.content.comments(plan_id)
    assert (saved.body, saved.item_key, saved.author) == ("Which congress?", "i2", "inspector")
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, dict(last.detail)) == ("comment", {"item": "i2"})


def test_comments_are_listed_in_order_and_do_not_touch_the_content(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    edit(pf, plan_id, "drafter_a", FIRST)
    comment(pf, plan_id, "drafter_a", "first draft ready")
    comment(pf, plan_id, "chair_a", "thanks", item_key="i1")
    comment(pf, plan_id, "drafter_a", "fixed")
    listed = [(c.body, c.item_key) for c in pf.content.comments(plan_id)]
    assert listed == [("first draft ready", None), ("thanks", "i1"), ("fixed", None)]
    plan = stored_plan(pf, plan_id)
    assert (plan.state, plan.version, plan.content) == ("draft", 5, FIRST.canonical_json())
    assert [r.action for r in pf.audit_trail(plan_id)][-3:] == ["comment"] * 3
    assert pf.content.comments(999) == []


def test_comments_come_from_those_who_may_see_the_plan(pf: Planflow, org) -> None:
    # A draft is its own unit's until first submitted; then the overseers see it and may comment.
    plan_id = new_plan(pf)
    edit(pf, plan_id, "drafter_a", FIRST)
    before = footprint(pf, plan_id)
    for stranger in ("officer", "inspector", "drafter_b"):
        with pytest.raises(NotFound):
            comment(pf, plan_id, stranger, "hello")
    assert footprint(pf, plan_id) == before
    pf.fire(plan_id, "submit", "chair_a")
    comment(pf, plan_id, "officer", "seen")
    with pytest.raises(NotFound):
        comment(pf, plan_id, "drafter_b", "hello")
    assert [c.author for c in pf.content.comments(plan_id)] == ["officer"]


@pytest.mark.parametrize("body", ["", "   ", "\n\t"])
def test_empty_comment_is_refused(pf: Planflow, org, body: str) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match="a comment cannot be empty"):
        comment(pf, plan_id, "drafter_a", body)
    assert footprint(pf, plan_id) == before


def test_overlong_comment_is_refused(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match="at most 4000 characters"):
        comment(pf, plan_id, "drafter_a", "x" * 4001)
    assert footprint(pf, plan_id) == before


def test_comment_on_an_unknown_item_is_refused(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    edit(pf, plan_id, "drafter_a", FIRST)
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match="the plan has no item 'i9'"):
        comment(pf, plan_id, "drafter_a", "what is this?", item_key="i9")
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize("user", ["drafter_b", "chair_b"])
def test_comment_by_a_user_outside_the_plans_tree_is_not_found(
    pf: Planflow, org, user: str
) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(NotFound) as info:
        comment(pf, plan_id, user, "hello")
    assert (info.value.kind, info.value.ident) == ("plan", plan_id)
    assert footprint(pf, plan_id) == before


def test_comment_on_an_unknown_plan_is_not_found(pf: Planflow, org) -> None:
    with pytest.raises(NotFound):
        comment(pf, 999, "drafter_a", "hello")


# -- revisions and their diff ------------------------------------------------------------------


def test_diff_between_revisions_after_return_edit_resubmit(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    in_review(pf, plan_id)
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="be more ambitious")
    second = content(
        {"text": "Recruit 60 members", "due": 3},
        {"text": "Hold congress", "due": 6},
        {"text": "Audit the dues", "due": 11},
    )
    edit(pf, plan_id, "drafter_a", second)
    pf.fire(plan_id, "resubmit", "chair_a")

    revisions = pf.content.revisions(plan_id)
    assert [(r.number, r.content) for r in revisions] == [(1, FIRST), (2, second)]
    d = pf.content.diff_revisions(plan_id, 1, 2)
    assert [(c.key, c.number) for c in d.changed] == [("i1", "1.1")]
    [field_change] = d.changed[0].fields
    assert (field_change.field, field_change.old, field_change.new) == (
        "text",
        "Recruit 40 members",
        "Recruit 60 members",
    )
    assert [(a.key, a.number, a.text) for a in d.added] == [("i3", "1.3", "Audit the dues")]
    assert d.removed == ()
    assert d.moved == ()
    assert d.unchanged == 1
    assert pf.content.diff_revisions(plan_id, 2, 2).is_empty


def test_diff_with_a_missing_revision_is_not_found(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    in_review(pf, plan_id)
    with pytest.raises(NotFound) as info:
        pf.content.diff_revisions(plan_id, 1, 2)
    assert info.value.kind == "revision"


# -- several targets, and content saved before items held a list -------------------------------

#: An item as stored before items held a list of targets: one ``target`` (or null).
OLD_FORM = (
    '{"sections":[{"items":[{"due":3,"key":"i1","owner_unit":null,'
    '"target":{"metric":"homes qualified","op":">=","unit":"%","value":100},'
    '"text":"Build workers\' homes"},{"due":6,"key":"i2","owner_unit":null,"target":null,'
    '"text":"Hold congress"}],"key":"s1","title":"Members"}]}'
)


def test_a_revision_saved_with_one_target_still_loads_and_diffs(pf: Planflow, org) -> None:
    plan_id = new_plan(pf)
    edit(pf, plan_id, "drafter_a", FIRST)
    with pf.session() as s:  # content written before this version of planflow
        row = s.get(Plan, plan_id)
        assert row is not None
        row.content = OLD_FORM
        s.add(row)
        s.commit()
    pf.fire(plan_id, "submit", "chair_a")
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="name every target")
    old = pf.content.content(plan_id)
    assert [i.targets for i in old.sections[0].items][1] == ()
    (first,) = old.sections[0].items[0].targets
    assert first.describe() == "homes qualified at least 100%"
    several = old.update_item(
        "i1",
        targets=[
            {"metric": "homes qualified", "op": ">=", "value": 100, "unit": "%"},
            {"metric": "advanced", "op": ">", "value": 60, "unit": "%"},
            {"metric": "model", "op": ">=", "value": 20, "unit": "%"},
        ],
    )
    edit(pf, plan_id, "drafter_a", several)
    pf.fire(plan_id, "resubmit", "chair_a")
    one, two = pf.content.revisions(plan_id)
    # The old revision is kept as it was written: its hash is still of its stored text.
    assert one.content_hash == sha256_hex(OLD_FORM)
    assert one.content.sections[0].items[0].targets == (first,)
    assert two.content.sections[0].items[0].targets[1:] != ()
    d = pf.content.diff_revisions(plan_id, 1, 2)
    [change] = d.changed
    [field] = change.fields
    assert (change.key, field.field) == ("i1", "targets")
    assert [t["metric"] for t in field.old] == ["homes qualified"]  # type: ignore[attr-defined]
    assert [t["metric"] for t in field.new] == ["homes qualified", "advanced", "model"]  # type: ignore[attr-defined]
    assert d.unchanged == 1  # the item without a target reads the same in both forms
