"""Scheduled rounds: "every April 1 at 08:00, schedule inspection for every
approved plan of the year, due April 30".

A definition's schedule has occurrences (``occurrences``, plain Python, in
the deployment's time zone ``PLANFLOW_TIMEZONE``, default UTC). Each one is
a period with a unique key in ``schedule_firing``: the scheduler that
inserts the key runs the round under a lease; others see it running or
done and leave it. A round fires its trigger as the system on each plan
through the one transition path, each with its own effect key, so a round
taken over from a process that died mid-way finishes the rest and touches
no plan twice.

Catch-up: an occurrence missed while every scheduler was down fires once
on the next start if it is within the catch-up window
(``PLANFLOW_CATCH_UP_DAYS``, default 30); older ones are recorded as
missed, not fired. Occurrences from before the definition was first
registered in this database are not this deployment's to fire or miss.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from planflow.core.definitions.spec import ScheduleSpec, WorkflowSpec
from planflow.core.intents import TimedEffect
from planflow.errors import ActionNotAllowed, GuardFailed, PermissionDenied, ValidationError
from planflow.services.changes import EffectAlreadyApplied
from planflow.services.plans import PlanService
from planflow.storage import timer_store as ts
from planflow.storage.db_errors import unavailable
from planflow.storage.tx import read_tx, write_tx

log = logging.getLogger(__name__)

DEFAULT_CATCH_UP = timedelta(days=30)
#: How far back a start looks for occurrences to record as missed.
LOOKBACK = timedelta(days=400)
DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True, order=True)
class Occurrence:
    at: datetime  # aware UTC
    period: str  # the local date, e.g. "2027-04-01"

    @property
    def year(self) -> int:
        return int(self.period[:4])


def occurrences(
    schedule: ScheduleSpec, tz: ZoneInfo, after: datetime, until: datetime
) -> list[Occurrence]:
    """The schedule's occurrences in ``(after, until]``, oldest first."""
    out = []
    day = after.astimezone(tz).date()
    last = until.astimezone(tz).date()
    while day <= last:
        if (schedule.month is None or day.month == schedule.month) and (
            schedule.day is None or day.day == schedule.day
        ):
            local = datetime(
                day.year, day.month, day.day, schedule.hour, schedule.minute, tzinfo=tz
            )
            at = local.astimezone(UTC)
            if after < at <= until:
                out.append(Occurrence(at, day.isoformat()))
        day += timedelta(days=1)
    return out


def timezone_from_env() -> ZoneInfo:
    name = os.environ.get("PLANFLOW_TIMEZONE", "UTC").strip() or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"PLANFLOW_TIMEZONE={name!r} is not a time zone (e.g. Asia/Shanghai)"
        ) from exc


def catch_up_from_env() -> timedelta:
    raw = os.environ.get("PLANFLOW_CATCH_UP_DAYS", "").strip()
    if not raw:
        return DEFAULT_CATCH_UP
    if not raw.isdigit():
        raise ValidationError(f"PLANFLOW_CATCH_UP_DAYS={raw!r} is not a whole number of days")
    return timedelta(days=int(raw))


@dataclass
class RoundReport:
    fired: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    plans: int = 0
    #: Plans of a round that its trigger did not apply to (already moved on, say).
    skipped: int = 0


class RoundRunner:
    def __init__(
        self,
        service: PlanService,
        worker_id: str,
        *,
        tz: ZoneInfo | None = None,
        catch_up: timedelta | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.service = service
        self.db = service.db
        self.worker_id = worker_id
        self.tz = tz or timezone_from_env()
        self.catch_up = catch_up if catch_up is not None else catch_up_from_env()
        self.lease = lease

    def run(self, report: RoundReport | None = None) -> RoundReport:
        """Fire every round due now; ``report`` is filled as rounds finish (see the processor)."""
        report = report if report is not None else RoundReport()
        now = self.service.clock.now()
        for spec in self._latest_specs():
            if not spec.schedules:
                continue
            self.service.definitions.ensure_stored(self.db, spec, now)
            for schedule in spec.schedules:
                self._run_schedule(spec, schedule, now, report)
        return report

    def _latest_specs(self) -> list[WorkflowSpec]:
        latest: dict[str, WorkflowSpec] = {}
        for spec in self.service.registry.all():
            latest[spec.name] = spec  # ordered by version: the last one wins
        return list(latest.values())

    def _run_schedule(
        self, spec: WorkflowSpec, schedule: ScheduleSpec, now: datetime, report: RoundReport
    ) -> None:
        with read_tx(self.db) as tx:
            registered = tx.one(ts.SELECT_FIRST_REGISTERED, {"name": spec.name})
            first = tx.dt(registered[0]) if registered else None
            done = {
                period: status
                for period, status in tx.all(
                    ts.SELECT_FIRINGS, {"workflow_name": spec.name, "schedule": schedule.name}
                )
            }
        start = max(first or now, now - LOOKBACK)
        for occ in occurrences(schedule, self.tz, start, now):
            if done.get(occ.period) in ("fired", "missed"):
                continue
            key = f"{spec.name}:{schedule.name}:{occ.period}"
            if occ.at < now - self.catch_up:
                if self._record(key, spec, schedule, occ, "missed", now):
                    log.warning("round %s was missed (older than the catch-up window)", key)
                    report.missed.append(key)
                continue
            if self._claim(key, spec, schedule, occ, now):
                self._fire_round(key, spec, schedule, occ, report)

    def _record(
        self,
        key: str,
        spec: WorkflowSpec,
        schedule: ScheduleSpec,
        occ: Occurrence,
        status: str,
        now: datetime,
    ) -> bool:
        """Insert the round's key; False when another scheduler has it already."""
        running = status == "running"
        with write_tx(self.db) as tx:
            return (
                tx.run(
                    ts.INSERT_FIRING,
                    {
                        "key": key,
                        "workflow_name": spec.name,
                        "schedule": schedule.name,
                        "period": occ.period,
                        "status": status,
                        "due_at": occ.at,
                        "at": now,
                        "worker": self.worker_id if running else None,
                        "until": now + self.lease if running else None,
                    },
                )
                == 1
            )

    def _claim(
        self, key: str, spec: WorkflowSpec, schedule: ScheduleSpec, occ: Occurrence, now: datetime
    ) -> bool:
        if self._record(key, spec, schedule, occ, "running", now):
            return True
        # Another scheduler has the round: take it over only if it died
        # (its lease ran out), otherwise leave it alone.
        with write_tx(self.db) as tx:
            params = {"key": key, "worker": self.worker_id, "now": now, "until": now + self.lease}
            return tx.run(ts.TAKE_OVER_FIRING, params) == 1

    def _fire_round(
        self,
        key: str,
        spec: WorkflowSpec,
        schedule: ScheduleSpec,
        occ: Occurrence,
        report: RoundReport,
    ) -> None:
        service = self.service
        with read_tx(self.db) as tx:
            plan_ids = tx.scalars(
                ts.SELECT_ROUND_PLANS,
                {"workflow_name": spec.name, "state": schedule.in_state, "year": occ.year},
            )
        due_at = service.calendar.add(occ.at, schedule.due) if schedule.due else None
        fired = 0
        renewed = service.clock.now()
        for plan_id in plan_ids:
            if service.clock.now() - renewed > self.lease / 3:
                renewed = self._renew(key)
            if self._fire_one(key, plan_id, schedule, occ, due_at):
                fired += 1
            else:
                report.skipped += 1
        with write_tx(self.db) as tx:
            tx.run(
                ts.FINISH_FIRING,
                {
                    "key": key,
                    "worker": self.worker_id,
                    "at": service.clock.now(),
                    "plans_affected": fired,
                },
            )
        log.info("round %s fired on %d plan(s)", key, fired)
        report.fired.append(key)
        report.plans += fired

    def _fire_one(
        self,
        key: str,
        plan_id: int,
        schedule: ScheduleSpec,
        occ: Occurrence,
        due_at: datetime | None,
    ) -> bool:
        effect = TimedEffect(
            f"round:{key}:{plan_id}",
            due_at=due_at,
            detail={"round": {"schedule": schedule.name, "period": occ.period}},
        )
        try:
            self.service.fire(plan_id, schedule.trigger, None, effect=effect)
        except EffectAlreadyApplied:
            return False  # done by a scheduler that died before finishing the round
        except (ActionNotAllowed, GuardFailed, PermissionDenied) as exc:
            log.info("round %s: plan %s not moved: %s", key, plan_id, exc)
            return False
        return True

    def release(self) -> None:
        """Let go of the rounds this process runs, so another scheduler takes them over now."""
        try:
            with write_tx(self.db) as tx:
                tx.run(
                    ts.RELEASE_FIRINGS, {"worker": self.worker_id, "now": self.service.clock.now()}
                )
        except Exception as exc:  # their lease frees them later
            # While the database is away the scheduler says so once: not here every tick.
            level = logging.DEBUG if unavailable(exc) is not None else logging.WARNING
            log.log(level, "could not release the rounds of %s: %s", self.worker_id, exc)

    def _renew(self, key: str) -> datetime:
        now = self.service.clock.now()
        with write_tx(self.db) as tx:
            tx.run(
                ts.RENEW_FIRING, {"key": key, "worker": self.worker_id, "until": now + self.lease}
            )
        return now
