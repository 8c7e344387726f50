"""Scheduler processes racing, and one killed mid-batch, on both databases.

These start real ``planflow scheduler run-once --now ...`` processes against
the test database and then check, from the database alone, that every
reminder, escalation, auto-action and round was applied exactly once and
that the audit chain still verifies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Org
from sqlalchemy import func
from sqlmodel import col, select
from stored import stored_plan
from test_mail import Recorder, set_user, start_server
from test_scheduler import DUE_AT, approved, under_review

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.storage import audit_repo
from planflow.storage.tables import AppliedEffect, AuditRecord, Notification, ScheduleFiring

pytestmark = pytest.mark.slow

REVIEWS = 150
APPROVED = 40
APRIL_ROUND = datetime(2027, 4, 1, 8, 0, tzinfo=UTC)


def scheduler(
    database_url: str, now: datetime, batch: int, group: int = 50
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PLANFLOW_SCHEDULER_BATCH": str(batch),
        "PLANFLOW_SCHEDULER_GROUP": str(group),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "planflow.cli",
            "--database-url",
            database_url,
            "scheduler",
            "run-once",
            "--now",
            now.isoformat(),
            "--allow-future",  # the tests' clock runs in 2027
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def actions(pf: Planflow, plan_ids: list[int]) -> dict[int, Counter[str]]:
    with pf.session() as s:
        rows = s.exec(
            select(AuditRecord.plan_id, AuditRecord.action).where(
                col(AuditRecord.plan_id).in_(plan_ids)
            )
        ).all()
    out: dict[int, Counter[str]] = {p: Counter() for p in plan_ids}
    for plan_id, action in rows:
        out[plan_id][action] += 1
    return out


def finish(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
        assert "problems:" not in out, out


def test_three_schedulers_at_once_apply_every_effect_exactly_once(
    pf: Planflow, org: Org, clock: FixedClock, database_url: str
) -> None:
    reviews = [under_review(pf, "ab"[n % 2]) for n in range(REVIEWS)]
    waiting = [approved(pf, "ab"[n % 2]) for n in range(APPROVED)]
    # By April 1 every review has been reminded (too late to tell anyone),
    # escalated to the federation, found nobody above it, and been returned
    # automatically; and the April round is due for the approved plans.
    procs = [scheduler(database_url, APRIL_ROUND, batch=7) for _ in range(3)]
    finish(procs)

    for plan_id, done in actions(pf, reviews).items():
        assert done["remind"] == done["escalate"] == done["escalation_at_top"] == 1, plan_id
        assert done["auto_return"] == 1, plan_id
        assert stored_plan(pf, plan_id).state == "returned"
    for plan_id, done in actions(pf, waiting).items():
        assert done["schedule_inspection"] == 1, plan_id
        assert stored_plan(pf, plan_id).state == "inspection_scheduled"
    with pf.session() as s:
        firing = s.exec(select(ScheduleFiring)).one()
        assert (firing.status, firing.plans_affected) == ("fired", APPROVED)
        effects = s.exec(select(func.count()).select_from(AppliedEffect)).one()
        assert effects == REVIEWS * 4 + APPROVED
        escalation_notices = s.exec(
            select(Notification.user_id, Notification.plan_id, Notification.kind).where(
                col(Notification.kind).in_(["escalate", "escalated_away"])
            )
        ).all()
        # The escalation told the federation's reviewer (escalated to you) and the
        # union's two (escalated away from you); the top-of-tree notice told the same
        # three, now all assignees: twice each, and "away" only to the union's.
        per_person = Counter((user, plan) for user, plan, _ in escalation_notices)
        assert len(per_person) == REVIEWS * 3
        assert set(per_person.values()) == {2}
        away = Counter(kind for _, _, kind in escalation_notices)["escalated_away"]
        assert away == REVIEWS * 2
        claims = s.exec(
            select(func.count()).where(col(ScheduleFiring.claimed_by).is_not(None))
        ).one()
        assert claims == 0
    report = audit_repo.verify(pf.db)
    assert report.ok, report.problems


def test_a_scheduler_killed_mid_batch_loses_nothing_and_repeats_nothing(
    pf: Planflow, org: Org, clock: FixedClock, database_url: str
) -> None:
    reviews = [under_review(pf, "ab"[n % 2]) for n in range(REVIEWS)]
    now = DUE_AT + timedelta(hours=1)  # each review: a late reminder, then an escalation
    # One commit per effect, so that the kill lands between two of them.
    proc = scheduler(database_url, now, batch=500, group=1)
    applied_at_kill = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        with pf.db.read_session() as s:  # a reader never waits for the scheduler
            applied_at_kill = s.exec(
                select(func.count()).where(col(AuditRecord.action).in_(["remind", "escalate"]))
            ).one()
        if applied_at_kill >= 1:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait(timeout=30)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the scheduler finished before it was killed"
    assert 0 < applied_at_kill < 2 * REVIEWS

    # The killed process's claims still hold their lease: a restart right away
    # leaves them alone, one after the lease takes them over.
    finish([scheduler(database_url, now, batch=500)])
    finish([scheduler(database_url, now + timedelta(minutes=6), batch=500)])
    for plan_id, done in actions(pf, reviews).items():
        assert (done["remind"], done["escalate"]) == (1, 1), plan_id
        assert stored_plan(pf, plan_id).task_level == 1
    report = audit_repo.verify(pf.db)
    assert report.ok, report.problems


def test_a_scheduler_process_mails_the_escalation_in_each_recipients_language(
    pf: Planflow, org: Org, clock: FixedClock, database_url: str
) -> None:
    set_user(pf, "fed_reviewer", language="zh")
    set_user(pf, "reviewer2", language="ko", email_preference="off")
    plan_id = under_review(pf)
    recorder = Recorder()
    recorder.refuse_next = 1  # the first message is refused for now, then accepted
    controller, port = start_server(recorder)
    try:
        smtp = {
            "PLANFLOW_SMTP_HOST": "127.0.0.1",
            "PLANFLOW_SMTP_PORT": str(port),
            "PLANFLOW_MAIL_FROM": "planflow@example.org",
        }
        os.environ.update(smtp)
        try:
            due = DUE_AT + timedelta(hours=1)
            finish([scheduler(database_url, due, batch=50)])
            finish([scheduler(database_url, due + timedelta(minutes=2), batch=50)])
        finally:
            for name in smtp:
                os.environ.pop(name)
    finally:
        controller.stop()
    assert recorder.refuse_next == 0, "the server never refused anything"
    escalations = {
        rcpt[0]: m
        for rcpt, m in recorder.messages
        if "escalat" in m["Subject"].lower() or "上报" in m["Subject"]
    }
    # The federation's reviewer in Chinese, the union's first reviewer in English;
    # the second reviewer chose no e-mail. Each message once, the refused one retried.
    assert set(escalations) == {"fed_reviewer@example.org", "reviewer@example.org"}
    assert "上报" in escalations["fed_reviewer@example.org"]["Subject"]
    assert escalations["fed_reviewer@example.org"]["Content-Language"] == "zh"
    assert len(recorder.messages) == len({m["Message-ID"] for _, m in recorder.messages})
    assert stored_plan(pf, plan_id).task_level == 1
