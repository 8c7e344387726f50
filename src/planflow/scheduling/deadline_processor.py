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
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from planflow.core.escalation import ESCALATED_AWAY, OpenTask, effect_key, timer_outcome
from planflow.core.intents import Notice, TimedEffect, TimerStep
from planflow.core.notes import AUTO_ACTION_REFUSED, note
from planflow.core.task_planning import Effect, next_effect
from planflow.errors import ActionNotAllowed, PlanflowError, StaleVersion
from planflow.services.changes import Change, EffectAlreadyApplied
from planflow.services.plan_changes import SystemEffect
from planflow.services.plans import PlanService
from planflow.storage import plan_store as ps
from planflow.storage import timer_store as ts
from planflow.storage.db_errors import unavailable
from planflow.storage.tx import read_tx, write_tx

log = logging.getLogger(__name__)

#: How long a claimed timer is ours; a batch takes well under a second.
DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_BATCH = 500
#: Reminders and escalations committed per transaction. On SQLite the group
#: holds the write lock for a few tens of milliseconds at most.
DEFAULT_GROUP = 50


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
    #: Timer hints that came due with no timer due behind them, moved on
    #: (see ``tables.Plan.timer_hint``): bookkeeping, not effects.
    hints_moved: int = 0
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
        group: int = DEFAULT_GROUP,
    ) -> None:
        self.service = service
        self.db = service.db
        self.worker_id = worker_id
        self.batch = batch
        self.lease = lease
        self.group = group
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Claim nothing more; the group in hand is applied, the rest of the batch released
        at once. Safe to call from a signal handler (it only sets a flag)."""
        self._stopping.set()

    def run(
        self, *, max_batches: int | None = None, report: DeadlineReport | None = None
    ) -> DeadlineReport:
        """Apply every timer due by the service clock's now; returns what was done.

        ``report`` is filled as effects commit, so a caller that passes its own
        still knows what was done when the run stops on an error. Claims this
        run could not apply are released on the way out (on a database error
        too, as far as the database lets us), so another scheduler need not
        wait for their lease to run out.
        """
        report = report if report is not None else DeadlineReport()
        stopping = self._stopping
        if stopping.is_set():
            return report
        with write_tx(self.db) as tx:
            report.hints_moved = ts.fix_timer_hints(tx, self.service.clock.now())
        batches = 0
        while (max_batches is None or batches < max_batches) and not stopping.is_set():
            claimed = self.claim()
            if not claimed:
                break
            batches += 1
            autos = [t for t in claimed if t.kind == "auto"]
            others = [t for t in claimed if t.kind != "auto"]
            try:
                for start in range(0, len(others), self.group):
                    if stopping.is_set():
                        break
                    self.apply_group(others[start : start + self.group], report)
                for timer in autos:  # rare, and each is a full transition: one by one
                    if stopping.is_set():
                        break
                    self.apply(timer, report)
            except BaseException:
                self.release(claimed)
                raise
            if stopping.is_set():
                self.release(claimed)  # the applied ones hold no claim any more
        return report

    def release(self, timers: list[ts.ClaimedTimer]) -> None:
        """Let go of claims not applied (applied ones were cleared by their own update)."""
        try:
            with write_tx(self.db) as tx:
                for timer in timers:
                    tx.run(ts.RELEASE_TIMER, {"plan_id": timer.row.id, "worker": self.worker_id})
        except Exception as exc:  # the database is gone: the lease frees them later
            # While the database is away the scheduler says so once: not here every tick.
            level = logging.DEBUG if unavailable(exc) is not None else logging.WARNING
            log.log(level, "could not release %d claimed timer(s): %s", len(timers), exc)

    def apply_group(self, timers: list[ts.ClaimedTimer], report: DeadlineReport) -> None:
        """Reminders and escalations of several plans, committed together.

        Each one is still complete on its own: its plan UPDATE is checked
        against the version and claim before anything else is written for
        it, so a plan someone changed meanwhile is skipped without undoing
        the others. Anything else going wrong undoes the group, which is
        then applied one timer per transaction so one bad plan cannot hold
        up the rest. One commit per group instead of one per plan is what
        lets the scheduler keep up with thousands of due timers.
        """
        try:
            held = self._held_by(timers)
            prepared = [(t, self._prepare(t, held)) for t in timers]
        except PlanflowError:
            prepared = []
        if len(prepared) != len(timers):
            for timer in timers:
                self.apply(timer, report)
            return
        changes: list[Change] = []
        stale: list[ts.ClaimedTimer] = []
        try:
            with write_tx(self.db) as tx:
                for timer, effect in prepared:
                    try:
                        changes.append(self.service.apply_system_change(tx, effect))
                    except StaleVersion:
                        stale.append(timer)
                        tx.run(
                            ts.RELEASE_TIMER, {"plan_id": timer.row.id, "worker": self.worker_id}
                        )
        except Exception as exc:
            log.warning("a group of %d timers failed (%s); applying one by one", len(timers), exc)
            for timer in timers:
                self.apply(timer, report)
            return
        report.skipped += len(stale)
        for change in changes:
            self._count(change, report)
            self.service.emit(change)

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
        self._count(change, report)
        return change

    @staticmethod
    def _count(change: Change, report: DeadlineReport) -> None:
        if change.action == "remind" and change.notice and change.notice.recipients:
            report.reminded += 1
        elif change.action == "remind":
            report.late_reminders += 1
        elif change.action == "escalate":
            report.escalated += 1
        else:
            report.at_top += 1

    def _remind_or_escalate(self, timer: ts.ClaimedTimer) -> Change:
        effect = self._prepare(timer)
        with write_tx(self.db) as tx:
            change = self.service.apply_system_change(tx, effect)
        self.service.emit(change)
        return change

    def _prepare(
        self, timer: ts.ClaimedTimer, held: dict[int, frozenset[int]] | None = None
    ) -> SystemEffect:
        """What the timer does to its plan: decided before any transaction opens."""
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
            held_by=(held if held is not None else self._held_by([timer])).get(row.id),
        )
        now = service.clock.now()
        outcome = timer_outcome(
            task, timer.kind, timer.at, now, spec.timer_for(row.state), org, service.calendar
        )
        update = self._timer_update(outcome.level, outcome.escalated_unit_id, outcome.next)
        notice, away = None, None
        if outcome.notify_kind is not None:
            extra = dict(outcome.detail)
            unit = org.units.get(outcome.escalated_unit_id or row.task_unit_id or row.unit_id)
            if unit is not None:
                extra.setdefault("unit", unit.code)
                extra["unit_name"] = unit.name
            notice = Notice(outcome.notify_kind, outcome.recipients, extra)
            if outcome.away:
                away = Notice(ESCALATED_AWAY, outcome.away, extra)
        return SystemEffect(
            row=row,
            action=outcome.action,
            update=update,
            detail=outcome.detail,
            key=effect_key(timer.kind, row.id, outcome.level, timer.at, row.version),
            notice=notice,
            also_notices=(away,) if away is not None else (),
        )

    def _held_by(self, timers: list[ts.ClaimedTimer]) -> dict[int, frozenset[int]]:
        """plan id -> who holds its task personally and still decides (plans whose
        task is held by role are left out). One read for a whole group, and only
        for plans in a state that allows handing a task on; the plan UPDATE's
        version check refuses an effect whose parts changed since."""
        wanted = []
        for timer in timers:
            row = timer.row
            spec = self.service.definitions.spec_for(
                self.db, row.workflow_name, row.workflow_version
            )
            if row.state in spec.state_names:
                allows = spec.state(row.state).allows
                if allows.transfer is not None or allows.add_approver:
                    wanted.append((row, spec))
        if not wanted:
            return {}
        held: dict[int, frozenset[int]] = {}
        with read_tx(self.db) as tx:
            for row, spec in wanted:
                parts = self.service.task_parts(tx, row, spec)
                if parts.personal:
                    held[row.id] = frozenset(p.user_id for p in parts.open_parts())
        return held

    def _timer_update(
        self, level: int, escalated_unit_id: int | None, following: Effect | None
    ) -> TimerStep:
        return TimerStep(level, escalated_unit_id, following, claimed_by=self.worker_id)

    def _auto(self, timer: ts.ClaimedTimer) -> Change:
        row = timer.row
        service = self.service
        spec = service.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        rule = spec.timer_for(row.state)
        trigger = rule.auto_trigger if rule else None
        key = effect_key("auto", row.id, row.task_level, timer.at, row.version)

        effect = TimedEffect(key, detail={"auto_action": {"timer_at": timer.at.isoformat()}})
        try:
            if trigger is None:
                raise ActionNotAllowed("(auto-action)", row.state, [])
            return service.fire(row.id, trigger, None, expected_version=row.version, effect=effect)
        except (StaleVersion, EffectAlreadyApplied):
            raise
        except PlanflowError as exc:
            # The definition's auto-action is refused now (a guard, say): the
            # trail records why and the timer moves on instead of retrying forever.
            following = next_effect(
                rule, timer.task_due_at, service.calendar, after=Effect(timer.at, "auto")
            )
            refused = SystemEffect(
                row=row,
                action="auto_action_refused",
                update=self._timer_update(row.task_level, row.task_escalated_unit_id, following),
                detail={
                    "trigger": trigger,
                    "reason": str(exc),
                    "note": note(AUTO_ACTION_REFUSED, action=trigger or "", error=exc.code),
                },
                key=key,
                notice=None,
            )
            with write_tx(self.db) as tx:
                change = service.apply_system_change(tx, refused)
            service.emit(change)
            return change

    def _release(self, timer: ts.ClaimedTimer) -> None:
        with write_tx(self.db) as tx:
            tx.run(ts.RELEASE_TIMER, {"plan_id": timer.row.id, "worker": self.worker_id})
