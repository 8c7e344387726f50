"""The service's boundary in domain words: intents, steps and timed effects.

``PlanService.mutate`` and ``fire`` take what a change does
(``planflow.core.intents``) and a feature's ``Step``; storage picks the SQL.
Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select
from test_service import footprint, new_plan

from planflow.app import Planflow
from planflow.core.intents import NOTE, Addendum, Move, Notice, TimedEffect, TimerStep
from planflow.errors import ValidationError
from planflow.services.changes import EffectAlreadyApplied, StepContext
from planflow.storage import plan_store as ps
from planflow.storage.tables import AuditRecord, Notification
from planflow.storage.tx import Tx


def last_record(pf: Planflow, plan_id: int) -> AuditRecord:
    return pf.audit_trail(plan_id)[-1]


@pytest.mark.parametrize(
    "intent", [Move(), TimerStep(0, None, None, claimed_by="someone")], ids=["move", "timer"]
)
def test_mutate_takes_no_move_or_timer_step(pf: Planflow, org: object, intent: object) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)
    with pytest.raises(TypeError, match="not a mutation"):
        pf.service.mutate(plan_id, "comment", pf.user_id("drafter_a"), intent)  # type: ignore[arg-type]
    assert footprint(pf, plan_id) == before


def test_a_step_adds_detail_and_a_notice_to_its_change(pf: Planflow, org: object) -> None:
    plan_id = new_plan(pf)
    seen: list[tuple[int, str]] = []
    officer = pf.user_id("officer")

    def step(tx: Tx, row: ps.PlanRow, ctx: StepContext) -> Addendum:
        seen.append((row.id, ctx.spec.name))
        return Addendum({"checked": True}, Notice("reroute", (officer,), {"unit": "union"}))

    change = pf.service.mutate(
        plan_id, "comment", pf.user_id("drafter_a"), NOTE, check=step, comment="hello"
    )
    assert seen == [(plan_id, "annual_plan")]
    record = last_record(pf, plan_id)
    assert dict(record.detail) == {"checked": True}
    assert record.comment == "hello"
    assert (record.from_state, record.to_state) == ("draft", "draft")
    assert change.notified == [officer]
    with pf.session() as s:
        kinds = s.exec(
            select(Notification.kind, Notification.payload).where(
                Notification.plan_id == plan_id, Notification.user_id == officer
            )
        ).all()
    assert [k for k, _ in kinds] == ["reroute"]
    assert json.loads(kinds[0][1])["unit"] == "union"


def test_a_refusing_step_writes_nothing(pf: Planflow, org: object) -> None:
    plan_id = new_plan(pf)
    before = footprint(pf, plan_id)

    def step(tx: Tx, row: ps.PlanRow, ctx: StepContext) -> None:
        raise ValidationError("not today")

    with pytest.raises(ValidationError, match="not today"):
        pf.service.mutate(plan_id, "comment", pf.user_id("drafter_a"), check=step, comment="x")
    assert footprint(pf, plan_id) == before


def test_a_timed_effect_keys_the_transition_and_overrides_the_due_time(
    pf: Planflow, org: object
) -> None:
    plan_id = new_plan(pf)
    pf.fire(plan_id, "submit", "chair_a")
    due = datetime(2027, 3, 31, 16, 0, tzinfo=UTC)
    effect = TimedEffect("round:test:1", due_at=due, detail={"round": {"period": "2027"}})
    change = pf.service.fire(plan_id, "start_review", pf.user_id("reviewer"), effect=effect)
    assert change.task is not None and change.task.due_at == due
    assert dict(last_record(pf, plan_id).detail) == {"round": {"period": "2027"}}
    # The same effect again (a second scheduler, say) is a no-op, refused before any write.
    pf.fire(plan_id, "return_for_revision", "reviewer", "fix it")
    pf.fire(plan_id, "resubmit", "chair_a")
    before = footprint(pf, plan_id)
    with pytest.raises(EffectAlreadyApplied):
        pf.service.fire(plan_id, "start_review", pf.user_id("reviewer"), effect=effect)
    assert footprint(pf, plan_id) == before
    with pf.session() as s:
        actions = s.exec(
            select(AuditRecord.action)
            .where(AuditRecord.plan_id == plan_id)
            .order_by(col(AuditRecord.id))
        ).all()
    assert actions.count("start_review") == 1
