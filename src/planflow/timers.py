"""The deadline processor: applies due reminders, escalations and auto-actions.

Timers fire at least once; their effects happen exactly once. A run claims
due timers in batches (one statement per batch returns the claimed plans,
see ``storage.timer_store``), then applies each through the service's one
path in its own transaction: the plan UPDATE checks the version the batch
read and this process's claim, and the effect's key goes into
``applied_effect`` in the same transaction. Whatever happens in between —
a user acting on the plan, a second scheduler, this process being killed —
either the whole effect is committed once or nothing is. A claim left by a
dead process is taken over when its lease runs out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .changes import Change, EffectAlreadyApplied
from .deadlines import Effect, next_effect
from .errors import ActionNotAllowed, PlanflowError, StaleVersion
from .escalation import OpenTask, effect_key, timer_outcome
from .service import PlanService
from .storage import plan_store as ps
from .storage import timer_store as ts
from .storage.tx import Sql, Tx, write_tx

log = logging.getLogger(__name__)

#: How long a claimed timer is ours; a batch takes well under a second.
DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_BATCH = 500


@dataclass
class DeadlineReport:
    reminded: int = 0
    #: Reminders whose moment passed while no scheduler ran: recorded, nobody told.
    late_reminders: int = 0
    escalated: int = 0
    at_top: int = 0
    auto_actions: int = 0
    #: Claimed but not applied: the plan changed meanwhile, or the effect
    #: had already been applied; counted, never retried blindly.
    skipped: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return (
            self.reminded + self.late_reminders + self.escalated + self.at_top + self.auto_actions
        )


class DeadlineProcessor:
    def __init__(
        self,
        service: PlanService,
        worker_id: str,
        *,
        batch: int = DEFAULT_BATCH,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.service = service
        self.db = service.db
        self.worker_id = worker_id
        self.batch = batch
        self.lease = lease

    def run(self, *, max_batches: int | None = None) -> DeadlineReport:
        """Apply every timer due by the service clock's now; returns what was done."""
        report = DeadlineReport()
        batches = 0
        while max_batches is None or batches < max_batches:
            claimed = self.claim()
            if not claimed:
                break
            batches += 1
            for timer in claimed:
                self.apply(timer, report)
        return report

    def claim(self) -> list[ts.ClaimedTimer]:
        now = self.service.clock.now()
        with write_tx(self.db) as tx:
            generation = ps.org_generation(tx)
            return ts.claim_timers(
                tx, self.worker_id, now, now + self.lease, self.batch, generation
            )

    def apply(self, timer: ts.ClaimedTimer, report: DeadlineReport) -> Change | None:
        try:
            if timer.kind == "auto":
                change = self._auto(timer)
                if change.action != "auto_action_refused":
                    report.auto_actions += 1
                else:
                    report.failed.append(f"plan {timer.row.id}: {change.detail['reason']}")
                return change
            change = self._remind_or_escalate(timer)
        except (StaleVersion, EffectAlreadyApplied) as exc:
            # Someone acted on the plan since the batch was read (its new
            # state set a new timer), or this effect is already on the trail.
            log.info("timer on plan %s not applied: %s", timer.row.id, exc)
            report.skipped += 1
            self._release(timer)
            return None
        except PlanflowError as exc:
            log.warning("timer on plan %s failed: %s", timer.row.id, exc)
            report.failed.append(f"plan {timer.row.id}: {exc}")
            self._release(timer)
            return None
        if change.action == "remind" and change.notice and change.notice[1]:
            report.reminded += 1
        elif change.action == "remind":
            report.late_reminders += 1
        elif change.action == "escalate":
            report.escalated += 1
        else:
            report.at_top += 1
        return change

    def _remind_or_escalate(self, timer: ts.ClaimedTimer) -> Change:
        row = timer.row
        service = self.service
        spec = service.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        org = service.org_cache.get(self.db, row.org_generation)
        task = OpenTask(
            plan_id=row.id,
            plan_unit_id=row.unit_id,
            role=row.task_role or "",
            unit_id=row.task_unit_id,
            escalated_unit_id=row.task_escalated_unit_id,
            level=row.task_level,
            due_at=timer.task_due_at,
        )
        now = service.clock.now()
        outcome = timer_outcome(
            task, timer.kind, timer.at, now, spec.timer_for(row.state), org, service.calendar
        )
        update = self._timer_update(outcome.level, outcome.escalated_unit_id, outcome.next)
        notice = None
        if outcome.notify_kind is not None:
            extra = dict(outcome.detail)
            unit = org.units.get(outcome.escalated_unit_id or row.task_unit_id or row.unit_id)
            if unit is not None:
                extra.setdefault("unit", unit.code)
                extra["unit_name"] = unit.name
            notice = (outcome.notify_kind, outcome.recipients, extra)
        return service.apply_system_change(
            row,
            outcome.action,
            update,
            detail=outcome.detail,
            effect_key=effect_key(timer.kind, row.id, outcome.level, timer.at, row.version),
            notice=notice,
        )

    def _timer_update(
        self, level: int, escalated_unit_id: int | None, following: Effect | None
    ) -> tuple[Sql, dict[str, Any]]:
        return (
            ts.UPDATE_PLAN_TIMER,
            {
                "task_level": level,
                "task_escalated_unit_id": escalated_unit_id,
                "timer_at": following.at if following else None,
                "timer_kind": following.kind if following else None,
                "worker": self.worker_id,
            },
        )

    def _auto(self, timer: ts.ClaimedTimer) -> Change:
        row = timer.row
        service = self.service
        spec = service.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        rule = spec.timer_for(row.state)
        trigger = rule.auto_trigger if rule else None
        key = effect_key("auto", row.id, row.task_level, timer.at, row.version)

        def mark(tx: Tx, _row: ps.PlanRow, change: Change) -> None:
            change.effect_key = key
            change.detail["auto_action"] = {"timer_at": timer.at.isoformat()}

        try:
            if trigger is None:
                raise ActionNotAllowed("(auto-action)", row.state, [])
            return service.fire(row.id, trigger, None, expected_version=row.version, attach=mark)
        except (StaleVersion, EffectAlreadyApplied):
            raise
        except PlanflowError as exc:
            # The definition's auto-action is refused now (a guard, say): the
            # trail records why and the timer moves on instead of retrying forever.
            following = next_effect(
                rule, timer.task_due_at, service.calendar, after=Effect(timer.at, "auto")
            )
            return service.apply_system_change(
                row,
                "auto_action_refused",
                self._timer_update(row.task_level, row.task_escalated_unit_id, following),
                detail={"trigger": trigger, "reason": str(exc)},
                effect_key=key,
                notice=None,
            )

    def _release(self, timer: ts.ClaimedTimer) -> None:
        with write_tx(self.db) as tx:
            tx.run(ts.RELEASE_TIMER, {"plan_id": timer.row.id, "worker": self.worker_id})
