"""Reminders, escalations, auto-actions and scheduled rounds, in one process.

The clock is moved, never slept on. T0 is Monday 2027-01-04 08:00 UTC; a
plan put under review at T0 is due ten working days later (01-18 08:00),
reminded two working days before (01-14), escalated at the due time and
again every five working days, and returned automatically 30 days after it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import CliRun, Org
from sqlmodel import col, select
from stored import stored_plan

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.core.definitions.spec import ScheduleSpec
from planflow.core.escalation import effect_key
from planflow.errors import NotFound
from planflow.scheduling.deadline_processor import DeadlineProcessor
from planflow.scheduling.rounds import RoundRunner, occurrences
from planflow.storage import audit_repo
from planflow.storage.tables import AppliedEffect, AuditRecord, Notification, Plan, ScheduleFiring

REMIND_AT = datetime(2027, 1, 14, 8, 0, tzinfo=UTC)
DUE_AT = datetime(2027, 1, 18, 8, 0, tzinfo=UTC)
SECOND_ESCALATION_AT = datetime(2027, 1, 25, 8, 0, tzinfo=UTC)
AUTO_RETURN_AT = DUE_AT + timedelta(days=30)
APRIL_ROUND = datetime(2027, 4, 1, 8, 0, tzinfo=UTC)


def content(year: int = 2027) -> PlanContent:
    return PlanContent.from_dict(
        {"sections": [{"title": "Work", "items": [{"text": "Dues drive", "due": 4}]}]},
        year=year,
    )


def under_review(pf: Planflow, branch: str = "a", year: int = 2027) -> int:
    plan_id = pf.create_plan(
        unit_code=f"branch_{branch}", year=year, title=f"Plan {branch}", actor=f"drafter_{branch}"
    )
    pf.content.set_content(
        plan_id,
        content(year),
        actor=f"drafter_{branch}",
        expected_version=None,
    )
    pf.fire(plan_id, "submit", f"chair_{branch}")
    pf.fire(plan_id, "start_review", "reviewer")
    return plan_id


def approved(pf: Planflow, branch: str = "a", year: int = 2027) -> int:
    plan_id = under_review(pf, branch, year)
    pf.fire(plan_id, "approve", "reviewer")
    return plan_id


def process(pf: Planflow, worker: str = "w1") -> DeadlineProcessor:
    return DeadlineProcessor(pf.service, worker)


def trail(pf: Planflow, plan_id: int) -> list[str]:
    return [r.action for r in pf.audit_trail(plan_id)]


def notices(pf: Planflow, plan_id: int, kind: str) -> dict[str, dict[str, object]]:
    """username -> payload of the plan's notifications of ``kind`` written now."""
    names = pf.user_names()
    with pf.session() as s:
        rows = s.exec(
            select(Notification).where(
                Notification.plan_id == plan_id,
                Notification.kind == kind,
                Notification.created_at == pf.clock.now(),
            )
        ).all()
        out = {names[n.user_id]: json.loads(n.payload) for n in rows}
        assert len(out) == len(rows), "somebody was told twice"
        return out


def all_notices_now(pf: Planflow, plan_id: int) -> dict[str, int]:
    """username -> how many notifications of the plan were written now, of any kind."""
    names = pf.user_names()
    counts: dict[str, int] = {}
    with pf.session() as s:
        for n in s.exec(
            select(Notification).where(
                Notification.plan_id == plan_id, Notification.created_at == pf.clock.now()
            )
        ):
            counts[names[n.user_id]] = counts.get(names[n.user_id], 0) + 1
    return counts


# -- reminders and escalation -----------------------------------------------------------


def test_nothing_is_due_before_the_reminder(pf: Planflow, org: Org, clock: FixedClock) -> None:
    plan_id = under_review(pf)
    clock.set(REMIND_AT - timedelta(minutes=1))
    report = process(pf).run()
    assert report.applied == report.skipped == 0
    assert trail(pf, plan_id)[-1] == "start_review"


def test_the_reminder_goes_to_the_assignees_only(pf: Planflow, org: Org, clock: FixedClock) -> None:
    plan_id = under_review(pf)
    clock.set(REMIND_AT)
    report = process(pf).run()
    assert (report.reminded, report.escalated) == (1, 0)
    assert set(notices(pf, plan_id, "remind")) == {"reviewer", "reviewer2"}
    assert notices(pf, plan_id, "remind")["reviewer"]["due_at"] == DUE_AT.isoformat()
    plan = stored_plan(pf, plan_id)
    assert (plan.timer_kind, plan.timer_at, plan.timer_claimed_by) == ("escalate", DUE_AT, None)
    assert trail(pf, plan_id)[-1] == "remind"
    assert process(pf, "w2").run().applied == 0  # at least once fired, once applied


def test_an_overdue_review_escalates_once_to_the_next_unit_up(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = under_review(pf)
    clock.set(DUE_AT + timedelta(hours=1))
    report = process(pf).run()
    # The reminder's moment had passed as well: it is recorded, nobody is told.
    assert (report.reminded, report.late_reminders, report.escalated) == (0, 1, 1)
    assert trail(pf, plan_id)[-2:] == ["remind", "escalate"]
    assert notices(pf, plan_id, "remind") == {}
    told = notices(pf, plan_id, "escalate")
    # "Escalated to you" goes to the next reviewer up only; the original assignees
    # are told it was escalated away from them (they may still act), once each.
    assert set(told) == {"fed_reviewer"}
    assert (told["fed_reviewer"]["level"], told["fed_reviewer"]["unit"]) == (1, "fed")
    away = notices(pf, plan_id, "escalated_away")
    assert set(away) == {"reviewer", "reviewer2"}
    assert (away["reviewer"]["level"], away["reviewer"]["to_unit"]) == (1, "fed")
    assert all_notices_now(pf, plan_id) == {"fed_reviewer": 1, "reviewer": 1, "reviewer2": 1}
    plan = stored_plan(pf, plan_id)
    assert (plan.task_level, plan.task_escalated_unit_id, plan.task_unit_id) == (
        1,
        org.fed,
        org.union,
    )
    assert plan.timer_at == SECOND_ESCALATION_AT
    record = pf.audit_trail(plan_id)[-1]
    assert record.actor is None
    assert dict(record.detail)["to_unit"] == "fed"

    assert process(pf, "w2").run().applied == 0
    assert trail(pf, plan_id).count("escalate") == 1

    # Both queues show it, with its level; the federation reviewer may now act.
    fed_tasks = pf.inbox.tasks("fed_reviewer")
    assert [(t.plan_id, t.level, t.escalated_to_me) for t in fed_tasks] == [(plan_id, 1, True)]
    own = pf.inbox.tasks("reviewer")
    assert [(t.plan_id, t.escalated_to_me) for t in own] == [(plan_id, False)]
    assert own[0].overdue(clock.now())
    assert pf.fire(plan_id, "approve", "fed_reviewer").to_state == "approved"
    plan = stored_plan(pf, plan_id)
    assert (plan.timer_at, plan.task_level, plan.task_escalated_unit_id) == (None, 0, None)


def test_at_the_top_of_the_tree_escalation_stops_and_the_auto_return_follows(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = under_review(pf)
    clock.set(SECOND_ESCALATION_AT)
    report = process(pf).run()
    assert (report.escalated, report.at_top) == (1, 1)
    plan = stored_plan(pf, plan_id)
    assert (plan.task_level, plan.task_escalated_unit_id) == (1, org.fed)
    # No more escalations are scheduled: the next timer is the auto-return.
    assert (plan.timer_kind, plan.timer_at) == ("auto", AUTO_RETURN_AT)

    clock.set(AUTO_RETURN_AT)
    report = process(pf).run()
    assert report.auto_actions == 1
    assert stored_plan(pf, plan_id).state == "returned"
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.actor, last.to_state) == ("auto_return", None, "returned")
    assert "chair_a" in notices(pf, plan_id, "transition")  # the submitter hears of it
    assert process(pf, "w2").run().applied == 0
    assert trail(pf, plan_id).count("auto_return") == 1
    assert audit_repo.verify(pf.db).ok


def test_a_plan_acted_on_after_the_claim_is_left_alone(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = under_review(pf)
    clock.set(DUE_AT)
    processor = process(pf)
    [claimed] = processor.claim()  # the remind timer, claimed...
    pf.fire(plan_id, "approve", "reviewer")  # ...then the reviewer acts first
    report = processor.run()
    assert processor.apply(claimed, report) is None
    assert report.skipped == 1
    assert trail(pf, plan_id)[-1] == "approve"
    plan = stored_plan(pf, plan_id)
    assert (plan.timer_at, plan.timer_claimed_by) == (None, None)


def test_a_repeated_firing_of_the_same_timer_applies_it_once(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = under_review(pf)
    clock.set(REMIND_AT)
    processor = process(pf)
    [claimed] = processor.claim()
    report = processor.run()  # nothing else is due; the claimed one is ours
    assert processor.apply(claimed, report) is not None
    assert processor.apply(claimed, report) is None  # the timer fires again
    assert (report.reminded, report.skipped) == (1, 1)
    assert trail(pf, plan_id).count("remind") == 1


def test_an_effect_whose_key_is_taken_writes_nothing(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = under_review(pf)
    clock.set(REMIND_AT)
    processor = process(pf)
    [claimed] = processor.claim()
    key = effect_key("remind", plan_id, 0, REMIND_AT, claimed.row.version)
    with pf.session() as s:
        s.add(AppliedEffect(key=key, plan_id=plan_id, at=REMIND_AT))
    before = stored_plan(pf, plan_id)
    report = processor.run()
    assert processor.apply(claimed, report) is None
    after = stored_plan(pf, plan_id)
    assert after.version == before.version and trail(pf, plan_id)[-1] == "start_review"
    assert notices(pf, plan_id, "remind") == {}
    assert after.timer_claimed_by is None  # released, not stuck until the lease ends


def test_a_dead_schedulers_claim_is_taken_over_when_its_lease_expires(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = under_review(pf)
    clock.set(REMIND_AT)
    dead = process(pf, "dead")
    assert len(dead.claim()) == 1  # and then the process dies
    alive = process(pf, "alive")
    assert alive.run().applied == 0  # the lease still holds
    clock.advance(dead.lease + timedelta(seconds=1))
    assert alive.run().reminded == 1
    assert trail(pf, plan_id).count("remind") == 1


def test_a_task_with_nobody_above_records_the_top_at_once(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    # An inspection task sits with the federation's inspector: nobody is above.
    plan_id = approved(pf)
    pf.fire(plan_id, "schedule_inspection", "officer")
    clock.set(clock.now() + timedelta(days=30, hours=1))
    report = process(pf).run()
    assert report.at_top == 1 and report.escalated == 0
    assert set(notices(pf, plan_id, "escalate")) == {"inspector"}
    assert stored_plan(pf, plan_id).timer_at is None


# -- scheduled rounds ----------------------------------------------------------------------


def test_occurrences_are_in_the_deployment_time_zone() -> None:
    spec = ScheduleSpec("r", None, month=4, day=1, hour=8, minute=0, trigger="t", in_state="s")  # type: ignore[arg-type]
    shanghai = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    [occ] = occurrences(spec, shanghai, start, datetime(2027, 1, 1, tzinfo=UTC))
    assert (occ.at, occ.period, occ.year) == (
        datetime(2026, 4, 1, 0, 0, tzinfo=UTC),
        "2026-04-01",
        2026,
    )
    monthly = ScheduleSpec(
        "m", None, month=None, day=20, hour=9, minute=30, trigger="t", in_state="s"
    )  # type: ignore[arg-type]
    found = occurrences(monthly, ZoneInfo("UTC"), start, datetime(2026, 3, 20, 9, 30, tzinfo=UTC))
    assert [o.period for o in found] == ["2026-01-20", "2026-02-20", "2026-03-20"]
    # The window is half-open: (after, until].
    assert occurrences(monthly, ZoneInfo("UTC"), found[-1].at, found[-1].at) == []


def rounds(pf: Planflow, worker: str = "r1", **kwargs: object) -> RoundRunner:
    return RoundRunner(pf.service, worker, tz=ZoneInfo("UTC"), **kwargs)  # type: ignore[arg-type]


def firings(pf: Planflow) -> list[tuple[str, str, int]]:
    with pf.session() as s:
        rows = s.exec(select(ScheduleFiring).order_by(col(ScheduleFiring.key))).all()
        return [(r.key, r.status, r.plans_affected) for r in rows]


def test_the_april_round_schedules_every_approved_plan_of_the_year_once(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    this_year = [approved(pf, "a"), approved(pf, "b")]
    next_year = approved(pf, "a", year=2028)
    waiting = under_review(pf, "b")
    clock.set(APRIL_ROUND - timedelta(minutes=1))
    assert rounds(pf).run().fired == []
    clock.set(APRIL_ROUND)
    report = rounds(pf).run()
    assert (report.fired, report.plans) == (["annual_plan:april_inspection_round:2027-04-01"], 2)
    for plan_id in this_year:
        plan = stored_plan(pf, plan_id)
        assert plan.state == "inspection_scheduled"
        assert plan.task_due_at == datetime(2027, 4, 30, 8, 0, tzinfo=UTC)  # "due April 30"
        record = pf.audit_trail(plan_id)[-1]
        assert record.actor is None
        assert dict(record.detail)["round"]["period"] == "2027-04-01"
    assert stored_plan(pf, next_year).state == "approved"
    assert stored_plan(pf, waiting).state == "under_review"
    assert rounds(pf, "r2").run().fired == []
    clock.advance(timedelta(days=3))
    assert rounds(pf, "r3").run().fired == []
    assert firings(pf) == [("annual_plan:april_inspection_round:2027-04-01", "fired", 2)]


def test_a_round_missed_during_downtime_fires_once_on_restart(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = approved(pf)
    clock.set(APRIL_ROUND + timedelta(days=12))  # every scheduler was down on April 1
    assert len(rounds(pf).run().fired) == 1
    assert stored_plan(pf, plan_id).state == "inspection_scheduled"
    # The due date is the round's, not twelve days later.
    assert stored_plan(pf, plan_id).task_due_at == datetime(2027, 4, 30, 8, 0, tzinfo=UTC)
    assert rounds(pf, "r2").run().fired == []


def test_a_round_older_than_the_catch_up_window_is_recorded_as_missed(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = approved(pf)
    clock.set(APRIL_ROUND + timedelta(days=31))
    report = rounds(pf).run()
    assert (report.fired, report.missed) == ([], ["annual_plan:april_inspection_round:2027-04-01"])
    assert stored_plan(pf, plan_id).state == "approved"
    assert firings(pf) == [("annual_plan:april_inspection_round:2027-04-01", "missed", 0)]
    assert rounds(pf, "r2", catch_up=timedelta(days=60)).run().fired == []  # decided once


def test_a_round_left_running_by_a_dead_scheduler_is_finished_by_another(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    first, second = approved(pf, "a"), approved(pf, "b")
    clock.set(APRIL_ROUND)
    dead = rounds(pf, "dead")
    spec = pf.registry.get("annual_plan")
    [schedule] = spec.schedules
    [occ] = occurrences(schedule, dead.tz, APRIL_ROUND - timedelta(days=1), APRIL_ROUND)
    key = f"annual_plan:{schedule.name}:{occ.period}"
    assert dead._claim(key, spec, schedule, occ, clock.now())
    assert dead._fire_one(key, first, schedule, occ, None)  # then it dies
    assert rounds(pf, "alive").run().fired == []  # its lease still holds
    clock.advance(dead.lease + timedelta(seconds=1))
    report = rounds(pf, "alive").run()
    # The plan the dead scheduler moved is no longer approved: not touched again.
    assert (report.fired, report.plans, report.skipped) == ([key], 1, 0)
    assert stored_plan(pf, second).state == "inspection_scheduled"
    assert trail(pf, first).count("schedule_inspection") == 1
    with pf.session() as s:
        keys = s.exec(select(AppliedEffect.key).where(col(AppliedEffect.key).like("round:%")))
        assert sorted(keys) == sorted(f"round:{key}:{p}" for p in (first, second))


def test_a_long_round_renews_its_lease(pf: Planflow, org: Org, clock: FixedClock) -> None:
    clock.set(APRIL_ROUND)
    runner = rounds(pf, "slow")
    spec = pf.registry.get("annual_plan")
    [schedule] = spec.schedules
    [occ] = occurrences(schedule, runner.tz, APRIL_ROUND - timedelta(days=1), APRIL_ROUND)
    key = f"annual_plan:{schedule.name}:{occ.period}"
    assert runner._claim(key, spec, schedule, occ, clock.now())
    clock.advance(runner.lease / 2)
    runner._renew(key)
    clock.advance(runner.lease / 2 + timedelta(seconds=1))  # the first lease is over
    other = rounds(pf, "other")
    assert not other._claim(key, spec, schedule, occ, clock.now())
    clock.advance(runner.lease)
    assert other._claim(key, spec, schedule, occ, clock.now())


def test_unchanged_plans_get_no_audit_noise(pf: Planflow, org: Org, clock: FixedClock) -> None:
    under_review(pf)
    with pf.session() as s:
        before = len(s.exec(select(AuditRecord)).all())
    clock.set(REMIND_AT - timedelta(hours=1))
    process(pf).run()
    rounds(pf).run()
    with pf.session() as s:
        assert len(s.exec(select(AuditRecord)).all()) == before
        assert s.exec(select(Plan.timer_claimed_by)).all() == [None]


# -- the command line ----------------------------------------------------------------------


def test_run_once_at_a_given_time_fires_the_round_once(
    pf: Planflow, org: Org, database_url: str, cli: CliRun
) -> None:
    plan_id = approved(pf)
    pf.mark_simulation()  # the tests' clock runs in 2027
    argv = ("--database-url", database_url, "scheduler", "run-once", "--now", "2027-04-01T08:00")
    code, out, err = cli(*argv)
    assert code == 0, err
    assert "scheduler pass at 2027-04-01 08:00 UTC" in out
    assert "rounds fired: 1 (1 plan(s))" in out
    assert stored_plan(pf, plan_id).state == "inspection_scheduled"
    code, out, _ = cli(*argv)
    assert code == 0 and "rounds fired: 0" in out


def test_run_once_refuses_a_malformed_time(database_url: str, cli: CliRun) -> None:
    code, _, err = cli(
        "--database-url", database_url, "scheduler", "run-once", "--now", "April 1st"
    )
    assert code == 2
    assert "'April 1st' is not a date and time like 2027-04-01T08:00" in err


def test_tasks_and_notifications_commands_show_the_escalation(
    pf: Planflow, org: Org, clock: FixedClock, database_url: str, cli: CliRun
) -> None:
    plan_id = under_review(pf)
    clock.set(DUE_AT)
    process(pf).run()
    db = ("--database-url", database_url)
    code, out, err = cli(*db, "tasks", "fed_reviewer")
    assert code == 0, err
    assert f"{plan_id:6}" in out and "escalation level 1, escalated to you" in out
    code, out, _ = cli(*db, "notifications", "fed_reviewer", "--unread", "--mark-read")
    assert code == 0 and "escalated (level 1) to fed" in out and "marked 1 notification(s)" in out
    assert pf.inbox.unread_count("fed_reviewer") == 0
    code, out, _ = cli(*db, "notifications", "fed_reviewer", "--unread")
    assert "no unread notifications for fed_reviewer" in out
    code, _, err = cli(*db, "tasks", "nobody")
    assert code == 1 and "nobody" in err


def test_marking_someone_elses_notification_read_is_refused(pf: Planflow, org: Org) -> None:
    plan_id = under_review(pf)
    [theirs] = [n.id for n in pf.inbox.notifications("reviewer") if n.plan_id == plan_id][:1]
    with pytest.raises(NotFound):
        pf.inbox.mark_read("fed_reviewer", [theirs])
    assert pf.inbox.notifications("reviewer")[0].read_at is None


def test_a_personally_held_task_escalates_and_the_reviewer_above_may_decide(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    """A task handed on (transfer) is held by one person; when it is overdue it still
    escalates: the reminder and "escalated away" go to whoever holds it now (not to
    the reviewer who handed it on), and the reviewer above may decide for the task."""
    plan_id = under_review(pf)
    pf.transfer(plan_id, "reviewer", "reviewer2", "On leave.")
    clock.set(REMIND_AT)
    assert process(pf).run().reminded == 1
    assert set(notices(pf, plan_id, "remind")) == {"reviewer2"}
    clock.set(DUE_AT)
    assert process(pf).run().escalated == 1
    assert set(notices(pf, plan_id, "escalate")) == {"fed_reviewer"}
    assert set(notices(pf, plan_id, "escalated_away")) == {"reviewer2"}
    assert all_notices_now(pf, plan_id) == {"fed_reviewer": 1, "reviewer2": 1}
    # The person holding it may still act, the one who handed it on may not.
    assert "approve" in {o.trigger for o in pf.available_actions(plan_id, "reviewer2")}
    assert "approve" not in {o.trigger for o in pf.available_actions(plan_id, "reviewer")}
    assert "approve" in {o.trigger for o in pf.available_actions(plan_id, "fed_reviewer")}
    # The reviewer above decides for the whole task, not for a part of it.
    assert pf.fire(plan_id, "approve", "fed_reviewer").to_state == "approved"


def test_an_added_approver_task_escalates_to_the_reviewer_above(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    plan_id = under_review(pf)
    pf.add_approver(plan_id, "reviewer", "member1", "before")
    clock.set(DUE_AT)
    assert process(pf).run().escalated == 1
    assert set(notices(pf, plan_id, "escalate")) == {"fed_reviewer"}
    # Both who still decide on it (the added approver first, then the reviewer).
    assert set(notices(pf, plan_id, "escalated_away")) == {"member1", "reviewer"}
    assert pf.fire(plan_id, "approve", "fed_reviewer").to_state == "approved"
