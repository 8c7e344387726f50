"""What a scheduler pass reports and lets go of when it stops half-way.

A pass that committed some effects before failing (the database went away,
say) reports those effects, not zero, and names the failure; the timers it
claimed and did not apply are released at once instead of waiting for the
lease, whose length is a setting. Late reminders are in the report too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from test_scheduler import DUE_AT, REMIND_AT, under_review

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.errors import ValidationError
from planflow.scheduling.deadline_processor import DeadlineProcessor
from planflow.scheduling.scheduler import Scheduler
from planflow.scheduling.scheduler_settings import lease_from_env
from planflow.scheduling.tick_report import TickReport
from planflow.storage.tables import Plan


def test_the_lease_is_a_setting(monkeypatch: pytest.MonkeyPatch, pf: Planflow) -> None:
    assert lease_from_env() == timedelta(minutes=5)
    monkeypatch.setenv("PLANFLOW_SCHEDULER_LEASE", "45")
    scheduler = Scheduler(pf)
    assert scheduler.deadlines.lease == timedelta(seconds=45)
    assert scheduler.rounds.lease == timedelta(seconds=45)
    for bad in ("0", "-5", "ten", "100000"):
        monkeypatch.setenv("PLANFLOW_SCHEDULER_LEASE", bad)
        with pytest.raises(ValidationError, match="PLANFLOW_SCHEDULER_LEASE"):
            lease_from_env()


def test_a_pass_that_fails_half_way_reports_what_it_did_and_lets_go(
    pf: Planflow, org: Any, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = [under_review(pf, "a"), under_review(pf, "b")]
    clock.set(REMIND_AT)  # both reminders are due
    real = DeadlineProcessor.apply_group
    calls: list[int] = []

    def fail_on_second_group(self: DeadlineProcessor, timers: Any, report: Any) -> None:
        calls.append(len(timers))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        real(self, timers, report)

    monkeypatch.setenv("PLANFLOW_SCHEDULER_GROUP", "1")  # one plan per group
    monkeypatch.setattr(DeadlineProcessor, "apply_group", fail_on_second_group)
    report = Scheduler(pf, worker_id="w-fail").tick()
    assert report.deadlines.reminded == 1  # the first group committed, and is reported
    assert any("the database went away" in e for e in report.errors)
    assert "reminders: 1," in report.describe()
    with pf.session() as s:
        claimed = s.exec(select(Plan.timer_claimed_by).where(Plan.id.in_(plans))).all()  # type: ignore[attr-defined]
    assert claimed == [None, None]  # nothing left held by the failed pass
    monkeypatch.undo()
    # Another pass at the same moment applies the other one at once: no lease to wait out.
    again = Scheduler(pf, worker_id="w-next").tick()
    assert again.deadlines.reminded == 1 and again.errors == []


def test_late_reminders_are_reported(pf: Planflow, org: Any, clock: FixedClock) -> None:
    under_review(pf, "a")
    clock.set(DUE_AT)  # no scheduler ran until the task was overdue: the reminder is late
    report = Scheduler(pf).tick()
    assert report.deadlines.late_reminders == 1
    assert "late reminders (recorded, nobody told): 1" in report.describe()
    assert "late reminders (recorded, nobody told): 0" in TickReport().describe()
