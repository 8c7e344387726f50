"""Recall, abandon and urge (issue 17), through the library, on both databases.

Each gesture works and is on the trail; each bad case (recall after a
decision, urge twice, urge by someone who may not, a stranger) refuses with
its code and writes nothing: no audit record, no version, no notification.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import T0, WORKFLOWS, Org
from stored import stored_plan

from planflow import GuardFailed, NotFound, PermissionDenied, Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.errors import ActionNotAllowed
from planflow.storage import gesture_sql as gs
from planflow.storage.tx import read_tx

YEAR = 2027
ITEMS = [{"key": "i1", "text": "Hold the members' congress", "due": 4}]


def drafted(pf: Planflow, workflow: str = "annual_plan") -> int:
    plan_id = pf.create_plan(
        unit_code="branch_a", year=YEAR, title="Plan", actor="drafter_a", workflow=workflow
    )
    content = PlanContent.from_dict(
        {"sections": [{"key": "s1", "title": "Members", "items": ITEMS}]}, year=YEAR
    )
    pf.content.set_content(plan_id, content, actor="drafter_a")
    return plan_id


def submitted(pf: Planflow, workflow: str = "annual_plan") -> int:
    plan_id = drafted(pf, workflow)
    pf.fire(plan_id, "submit", "chair_a")
    return plan_id


def notifications(pf: Planflow, username: str) -> list[Any]:
    return pf.inbox.notifications(username)


def footprint(pf: Planflow, plan_id: int) -> tuple[Any, ...]:
    """What a refused gesture must leave as it was."""
    plan = pf.plan(plan_id)
    people = ("reviewer", "reviewer2", "chair_a", "drafter_a", "member1")
    return (
        plan.state,
        plan.version,
        len(pf.audit_trail(plan_id)),
        tuple(len(notifications(pf, u)) for u in people),
    )


# -- recall ------------------------------------------------------------------------------


def test_recall_brings_a_submitted_plan_back_to_draft_and_tells_the_reviewers(
    pf: Planflow, org: Org
) -> None:
    plan_id = submitted(pf)
    before = len(notifications(pf, "reviewer"))
    done = pf.recall(plan_id, "chair_a", "Forgot an item.")
    assert (done.action, done.from_state, done.to_state) == ("recall", "submitted", "draft")
    plan = pf.plan(plan_id)
    assert plan.state == "draft" and plan.task is None
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.actor, last.from_state, last.to_state) == (
        "recall",
        "chair_a",
        "submitted",
        "draft",
    )
    told = notifications(pf, "reviewer")
    assert len(told) == before + 1 and told[0].payload["action"] == "recall"
    assert len(notifications(pf, "reviewer2")) == before + 1
    assert not any(n.payload.get("action") == "recall" for n in notifications(pf, "chair_a"))
    # The drafters edit again and the chair submits anew: a new revision.
    pf.content.set_content(plan_id, pf.content.content(plan_id), actor="drafter_a")
    assert pf.fire(plan_id, "submit", "chair_a").to_state == "submitted"
    assert pf.plan(plan_id).revision == 2
    assert pf.verify_audit().ok


def test_recall_after_the_reviewer_started_is_too_late_and_says_who(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = submitted(pf)
    clock.advance(timedelta(hours=3))
    pf.fire(plan_id, "start_review", "reviewer")
    before = footprint(pf, plan_id)
    with pytest.raises(GuardFailed) as refused:
        pf.recall(plan_id, "chair_a")
    (refusal,) = refused.value.refusals
    assert refusal.code == "recall_too_late"
    assert refusal.params == {
        "acted_by": pf.user_id("reviewer"),
        "action": "start_review",
        "at": (T0 + timedelta(hours=3)).isoformat(),
    }
    assert footprint(pf, plan_id) == before
    option = {o.trigger: o for o in pf.available_actions(plan_id, "chair_a")}["recall"]
    assert [r.code for r in option.blocked_by] == ["recall_too_late"]


def test_a_committee_vote_makes_recall_too_late(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf, "committee_plan")
    assert {o.trigger: o.ready for o in pf.available_actions(plan_id, "chair_a")}["recall"]
    pf.fire(plan_id, "approve", "member1")  # one of two: the plan stays
    with pytest.raises(GuardFailed) as refused:
        pf.recall(plan_id, "chair_a")
    assert refused.value.refusals[0].params["action"] == "approve"


def test_comments_and_reminders_do_not_stop_a_recall(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    pf.content.add_comment(plan_id, "I will look at it on Monday.", actor="reviewer")
    pf.urge(plan_id, "drafter_a")
    assert pf.recall(plan_id, "chair_a").to_state == "draft"


def test_recall_of_an_earlier_round_counts_only_this_round(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "return_for_revision", "reviewer", "Add targets.")
    pf.fire(plan_id, "resubmit", "chair_a")
    assert pf.recall(plan_id, "chair_a").to_state == "draft"


def test_only_the_submitter_side_may_recall_and_a_stranger_is_told_nothing(
    pf: Planflow, org: Org
) -> None:
    plan_id = submitted(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(PermissionDenied):
        pf.recall(plan_id, "reviewer")  # sees the plan, may not recall it
    with pytest.raises(NotFound) as stranger:
        pf.recall(plan_id, "chair_b")
    with pytest.raises(NotFound) as missing:
        pf.recall(10_000, "chair_b")
    assert stranger.value.params == {"kind": "plan", "ident": plan_id}
    assert type(stranger.value) is type(missing.value)
    assert footprint(pf, plan_id) == before


def test_a_draft_cannot_be_recalled(pf: Planflow, org: Org) -> None:
    plan_id = drafted(pf)
    with pytest.raises(ActionNotAllowed):
        pf.recall(plan_id, "chair_a")


# -- abandon, and withdraw as its former name ---------------------------------------------------


def test_abandon_ends_the_plan_and_tells_the_reviewers(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    done = pf.abandon(plan_id, "chair_a", "Merged into the union's plan.")
    assert (done.action, done.to_state) == ("abandon", "abandoned")
    assert pf.available_actions(plan_id, "chair_a") == []
    assert notifications(pf, "reviewer")[0].payload["action"] == "abandon"


def test_withdraw_still_abandons_and_the_trail_names_the_trigger(pf: Planflow, org: Org) -> None:
    plan_id = drafted(pf)
    done = pf.fire(plan_id, "withdraw", "chair_a", "No longer needed.")
    assert (done.action, done.to_state) == ("abandon", "abandoned")
    last = pf.audit_trail(plan_id)[-1]
    assert last.action == "abandon" and last.detail == {"called_as": "withdraw"}
    assert pf.verify_audit().ok


def test_abandon_needs_a_reason(pf: Planflow, org: Org) -> None:
    plan_id = drafted(pf)
    with pytest.raises(GuardFailed) as refused:
        pf.abandon(plan_id, "chair_a")
    assert refused.value.codes == ("comment_required",)


# -- urge ----------------------------------------------------------------------------------------


def test_urge_reminds_the_task_holders_once_a_day(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = submitted(pf)
    before = len(notifications(pf, "reviewer"))
    done = pf.urge(plan_id, "drafter_a", "The congress is in April.")
    assert set(done.notified) == {"reviewer", "reviewer2"}
    told = notifications(pf, "reviewer")
    assert len(told) == before + 1
    urge = told[0]
    assert urge.kind == "urge" and urge.payload["actor"] == pf.user_id("drafter_a")
    assert urge.payload["comment"] == "The congress is in April."
    assert urge.payload["due_at"] == pf.plan(plan_id).task.due_at.isoformat()  # type: ignore[union-attr]
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.actor, last.from_state, last.to_state) == (
        "urge",
        "drafter_a",
        "submitted",
        "submitted",
    )
    # Again within 24 hours, by anyone: refused with the time of the next.
    clock.advance(timedelta(hours=23))
    before_again = footprint(pf, plan_id)
    with pytest.raises(GuardFailed) as refused:
        pf.urge(plan_id, "chair_a")
    (refusal,) = refused.value.refusals
    assert refusal.code == "urge_too_soon"
    assert refusal.params["next_at"] == (T0 + timedelta(hours=24)).isoformat()
    assert footprint(pf, plan_id) == before_again
    option = pf.urge_option(plan_id, "chair_a")
    assert option is not None and not option.ready
    clock.advance(timedelta(hours=1))
    assert pf.urge_option(plan_id, "chair_a") == pf.urge_option(plan_id, "drafter_a")
    assert pf.urge(plan_id, "chair_a").notified
    assert pf.verify_audit().ok


def test_a_new_task_may_be_urged_at_once(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    pf.urge(plan_id, "chair_a")
    pf.fire(plan_id, "start_review", "reviewer")
    assert pf.urge(plan_id, "chair_a").notified == ("reviewer", "reviewer2")


def test_who_may_not_urge(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(PermissionDenied):
        pf.urge(plan_id, "reviewer")  # sees it, holds the task: not theirs to urge
    assert pf.urge_option(plan_id, "reviewer") is None
    with pytest.raises(NotFound) as stranger:
        pf.urge(plan_id, "drafter_b")
    with pytest.raises(NotFound) as missing:
        pf.urge(10_000, "drafter_b")
    assert stranger.value.params == {"kind": "plan", "ident": plan_id}
    assert type(stranger.value) is type(missing.value)
    with pytest.raises(NotFound):
        pf.urge_option(plan_id, "drafter_b")
    assert footprint(pf, plan_id) == before


def test_nothing_to_urge_without_someone_elses_task(pf: Planflow, org: Org) -> None:
    plan_id = drafted(pf)
    with pytest.raises(GuardFailed) as refused:
        pf.urge(plan_id, "chair_a")
    assert refused.value.codes == ("nothing_to_urge",)
    assert pf.urge_option(plan_id, "chair_a") is None
    assert len(pf.audit_trail(plan_id)) == 2


def test_urge_interval_comes_from_the_definition(
    pf: Planflow, org: Org, database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    assert pf.definition("annual_plan").urge_every_hours == 24
    text = (WORKFLOWS / "annual_plan.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 5\n", "version: 9\n", 1)
    text = text.replace("urge: {every_hours: 24}", "urge: {every_hours: 2}", 1)
    folder = tmp_path / "hourly"
    folder.mkdir()
    (folder / "annual_plan.yaml").write_text(text, encoding="utf-8")
    hourly = Planflow(database_url, clock=clock, workflows_dir=folder)
    try:
        plan_id = submitted(hourly)
        hourly.urge(plan_id, "chair_a")
        clock.advance(timedelta(hours=1))
        with pytest.raises(GuardFailed) as refused:
            hourly.urge(plan_id, "chair_a")
        assert refused.value.refusals[0].params == {
            "next_at": (T0 + timedelta(hours=2)).isoformat(),
            "hours": 2,
        }
        clock.advance(timedelta(hours=1))
        assert hourly.urge(plan_id, "chair_a").notified
    finally:
        hourly.close()


def test_an_urge_key_is_applied_once(pf: Planflow, org: Org) -> None:
    """Two urges decided on the same history: the database takes one."""
    plan_id = submitted(pf)
    with read_tx(pf.db) as tx:
        mark = gs.task_mark(tx, plan_id)
    assert mark is not None and not mark.urged
    pf.urge(plan_id, "chair_a")
    with read_tx(pf.db) as tx:
        again = gs.task_mark(tx, plan_id)
    assert again is not None and again.urged and again.seq > mark.seq
    assert stored_plan(pf, plan_id).version == pf.plan(plan_id).version


def test_gesture_statements_run_on_both_databases(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    with read_tx(pf.db) as tx:
        records = gs.round_records(tx, plan_id, 1)
        mark = gs.task_mark(tx, plan_id)
    assert [r.action for r in records] == ["submit"]
    assert mark is not None and mark.action == "submit"
    assert {s.name for s in gs.ALL_STATEMENTS} == {"select_round_records", "select_task_mark"}


def test_only_a_recall_reads_the_trail_to_decide(
    pf: Planflow, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decisions beside a recall in the same state load no more than before."""
    reads: list[int] = []
    real = gs.round_records

    def counted(tx: Any, plan_id: int, revision: int) -> list[gs.RoundRecord]:
        reads.append(plan_id)
        return real(tx, plan_id, revision)

    monkeypatch.setattr(gs, "round_records", counted)
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer")
    assert reads == []
    with pytest.raises(GuardFailed):
        pf.recall(plan_id, "chair_a")
    assert reads == [plan_id]
