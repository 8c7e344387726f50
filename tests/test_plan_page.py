"""``Planflow.plan_page``: one read gives exactly what the separate reads give.

The plan page used to ask the library a dozen questions, each loading the
plan again; ``plan_page`` loads it once. Each part of the ``PlanPage`` is
compared here with the separate read its docstring names, for the people
around a plan in each of its moments (a draft, a submission, a review with
a transfer, a CC and a deputy, a return and a resubmission, a committee's
vote), on both databases; and it runs a fixed number of statements.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from conftest import T0, CountStatements, Org
from test_gestures import drafted, submitted

from planflow import NotFound, Planflow, PlanPage
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.storage import handover_sql as hs
from planflow.storage.tx import read_tx

PEOPLE = (
    "drafter_a",
    "chair_a",
    "drafter_b",
    "reviewer",
    "reviewer2",
    "fed_reviewer",
    "officer",
    "inspector",
    "member1",
    "member2",
)


def separately(pf: Planflow, plan_id: int, user: str, lang: str) -> PlanPage:
    """The page as the separate reads give it (what the web page called before)."""
    plan = pf.plan(plan_id, as_user=user)
    spec = pf.definition(plan.workflow, plan.workflow_version)
    trail = pf.audit_trail(plan_id)
    comments = pf.content.comments(plan_id)
    actions, deputy_for = pf.actions_and_behalf(plan_id, user, lang)
    counts = any(t.quorum is not None for t in spec.transitions_from(plan.state))
    approvals = pf.approvals(plan_id, plan.revision) if counts else None
    diff = (
        pf.content.diff_revisions(plan_id, plan.revision - 1, plan.revision)
        if plan.revision >= 2
        else None
    )
    handover = pf.handover_options(plan_id, user)
    receipts = pf.cc_receipts(plan_id)
    named = [r.actor for r in trail] + [r.on_behalf_of for r in trail]
    named += [c.author for c in comments] + [deputy_for] + list(approvals or ())
    named += [r.user for r in receipts] + [r.added_by for r in receipts]
    if handover is not None:
        named += [*handover.transfer_to, *handover.holders, *handover.suggested]
    return PlanPage(
        plan=plan,
        content=pf.content.content(plan_id),
        trail=tuple(trail),
        comments=tuple(comments),
        actions=tuple(actions),
        on_behalf_of=deputy_for,
        approvals=None if approvals is None else tuple(approvals),
        diff=diff,
        can_edit=pf.content.is_editable(plan) and pf.content.may_edit(plan, user),
        urge=pf.urge_option(plan_id, user),
        return_options=tuple(pf.return_options(plan_id, user, lang)),
        handover=handover,
        receipts=tuple(receipts),
        names=pf.display_names(named),
    )


def assert_same_for_everyone(pf: Planflow, plan_id: int, lang: str = "en") -> int:
    """Every person's page equals the separate reads (or is NotFound for both);
    returns how many people may see it."""
    seen = 0
    for user in PEOPLE:
        try:
            expected = separately(pf, plan_id, user, lang)
        except NotFound:
            with pytest.raises(NotFound):
                pf.plan_page(plan_id, user, lang)
            continue
        page = pf.plan_page(plan_id, user, lang)
        for part in dataclasses.fields(PlanPage):
            got, want = getattr(page, part.name), getattr(expected, part.name)
            if part.name == "names":
                got, want = dict(got), dict(want)
            assert got == want, f"{user}: {part.name}"
        seen += 1
    return seen


def test_a_draft_and_its_submission(pf: Planflow, org: Org) -> None:
    plan_id = drafted(pf)
    pf.content.add_comment(plan_id, "Is April right for the congress?", actor="chair_a")
    assert assert_same_for_everyone(pf, plan_id) >= 2
    assert pf.plan_page(plan_id, "drafter_a").can_edit
    pf.fire(plan_id, "submit", "chair_a")
    assert assert_same_for_everyone(pf, plan_id, "zh") >= 4
    page = pf.plan_page(plan_id, "chair_a")
    assert page.urge is not None and "recall" in {a.trigger for a in page.actions}


def test_a_review_with_a_transfer_a_cc_and_a_deputy(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    pf.add_approver(plan_id, "reviewer", "fed_reviewer", "after")
    pf.cc(plan_id, "reviewer", ["inspector"])
    assert pf.plan_page(plan_id, "officer").on_behalf_of is None
    # A delegation set since is seen at once (the page reads deputies from a cache).
    made = pf.delegations.add("reviewer", "officer", T0.date(), T0.date() + timedelta(days=6))
    assert assert_same_for_everyone(pf, plan_id, "ko") >= 4
    page = pf.plan_page(plan_id, "reviewer")
    assert page.handover is not None and page.handover.holders
    assert page.receipts and page.receipts[0].user == "inspector"
    assert pf.plan_page(plan_id, "officer").on_behalf_of == "reviewer"
    pf.delegations.end("reviewer", made.id)
    assert pf.plan_page(plan_id, "officer").on_behalf_of is None
    assert assert_same_for_everyone(pf, plan_id) >= 4


def test_a_return_with_its_reason_and_the_changes_since(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "return_for_revision", "reviewer", comment="Add a second item.")
    pf.content.add_comment(plan_id, "Done soon.", actor="drafter_a")
    items = [
        {"key": "i1", "text": "Hold the members' congress", "due": 5},
        {"key": "i2", "text": "Train the stewards", "due": 9},
    ]
    content = PlanContent.from_dict(
        {"sections": [{"key": "s1", "title": "Members", "items": items}]}, year=2027
    )
    pf.content.set_content(plan_id, content, actor="drafter_a")
    pf.fire(plan_id, "resubmit", "chair_a")
    assert assert_same_for_everyone(pf, plan_id) >= 4
    page = pf.plan_page(plan_id, "reviewer")
    assert page.diff is not None and page.diff.added
    assert [c.kind for c in page.comments] == ["decision", "comment"]


def test_a_committee_vote(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf, "committee_plan")
    pf.fire(plan_id, "approve", "member1")
    assert assert_same_for_everyone(pf, plan_id) >= 4
    assert pf.plan_page(plan_id, "member2").approvals == ("member1",)


def test_a_plan_that_does_not_exist_or_a_user_who_does_not(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    for missing in (plan_id + 1000, 2**63):
        with pytest.raises(NotFound):
            pf.plan_page(missing, "reviewer")
    with pytest.raises(NotFound):
        pf.plan_page(plan_id, "nobody")


def test_opening_the_page_is_the_cc_receipt_once(pf: Planflow, org: Org, clock: FixedClock) -> None:
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    pf.cc(plan_id, "reviewer", ["inspector"])
    looked = pf.plan_page(plan_id, "inspector")  # only looking: nothing recorded
    assert looked.receipts[0].read_at is None
    clock.advance(timedelta(hours=1))
    opened = pf.plan_page(plan_id, "inspector", mark_read=True)
    assert opened.receipts[0].read_at == T0 + timedelta(hours=1)
    assert pf.cc_receipts(plan_id) == list(opened.receipts)
    clock.advance(timedelta(hours=1))
    again = pf.plan_page(plan_id, "inspector", mark_read=True)  # the first read counts
    assert again.receipts == opened.receipts
    # Someone else opening it records nothing for them.
    pf.plan_page(plan_id, "reviewer", mark_read=True)
    with read_tx(pf.db) as tx:
        assert not hs.has_unread(tx, plan_id, pf.user_id("inspector"))


def test_the_page_is_read_in_a_fixed_number_of_statements(
    pf: Planflow, org: Org, count_statements: CountStatements
) -> None:
    """However long the trail and the comments: the reviewer's page of a plan in review
    (which may be transferred, so its task's parts are read) runs the same statements."""

    def statements(plan_id: int) -> int:
        pf.plan_page(plan_id, "reviewer")  # warm the caches
        with count_statements(pf) as seen:
            pf.plan_page(plan_id, "reviewer")
        return len(seen)

    short = submitted(pf)
    pf.fire(short, "start_review", "reviewer")
    long = submitted(pf)
    for n in range(5):
        pf.content.add_comment(long, f"Comment {n}", actor="drafter_a")
        pf.fire(long, "start_review", "reviewer")
        pf.fire(long, "return_for_revision", "reviewer", comment=f"Fix {n}")
        pf.fire(long, "resubmit", "chair_a")
    pf.fire(long, "start_review", "reviewer")
    assert statements(short) <= 7
    # The resubmitted plan reads its revisions too, for the changes since the last one.
    assert statements(long) == statements(short) + 1
