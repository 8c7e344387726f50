"""The webhook events beyond plan changes: overdue, inspection verdicts, audit failures.

Each is enqueued by the transaction of the effect it tells of, exactly once:
``task.overdue`` with a task's first escalation, ``inspection.finished`` with
the verdict's transition, ``audit.verification_failed`` by a verification
that finds problems (the same problems found again are not told twice).
Both databases.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import CliRun, Org
from sqlalchemy import update
from test_inspections import drive, score_and_finish, sheet_totalling
from test_webhooks import URL, rows, submitted

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.webhooks import WebhookRefused
from planflow.errors import NotFound
from planflow.scheduling.deadline_processor import DeadlineProcessor
from planflow.storage.tables import AuditRecord

audit_t = AuditRecord.__table__  # type: ignore[attr-defined]


def of_type(pf: Planflow, event_type: str) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in rows(pf) if r.event_type == event_type]


def test_the_first_escalation_tells_task_overdue_once(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    pf.webhooks.add("union", URL, ["task.overdue", "task.escalated"], allow_private=True)
    submitted(pf)
    clock.advance(timedelta(days=20))
    assert DeadlineProcessor(pf.service, "w1").run().escalated >= 1
    [overdue] = of_type(pf, "task.overdue")
    escalated = of_type(pf, "task.escalated")
    assert escalated and escalated[0]["audit_seq"] == overdue["audit_seq"]
    assert overdue["escalation"]["level"] == 1  # type: ignore[index]
    assert overdue["id"] != escalated[0]["id"]
    # Later escalations (and a second scheduler) tell no second overdue.
    clock.advance(timedelta(days=40))
    DeadlineProcessor(pf.service, "w2").run()
    DeadlineProcessor(pf.service, "w3").run()
    assert len(of_type(pf, "task.overdue")) == 1


def test_an_inspection_verdict_tells_inspection_finished(pf: Planflow, org: Org) -> None:
    pf.webhooks.add("fed", URL, ["inspection.finished"], allow_private=True)
    plan_id = drive(pf, "inspection_scheduled")
    assert rows(pf) == []  # the steps before the verdict are not a finished inspection
    assert score_and_finish(pf, plan_id, sheet_totalling(95)) == "accepted"
    [event] = of_type(pf, "inspection.finished")
    assert event["plan"]["id"] == plan_id  # type: ignore[index]
    inspection = event["inspection"]
    assert inspection["verdict"] == "accepted" and inspection["round"] == 1  # type: ignore[index]
    assert event["action"] == "accept" and event["actor"] == "inspector"


def test_a_failed_verification_is_told_once_to_the_covering_webhooks(
    pf: Planflow, org: Org, cli: CliRun, database_url: str
) -> None:
    covering = pf.webhooks.add("union", URL, ["audit.verification_failed"], allow_private=True)
    pf.webhooks.add("branch_b", URL, ["audit.verification_failed"], allow_private=True)
    pf.webhooks.add("fed", URL, ["plan.comment"], allow_private=True)
    plan_id = submitted(pf)  # in branch_a
    assert pf.verify_audit().ok and rows(pf) == []
    with pf.db.write() as conn:
        conn.execute(
            update(audit_t)
            .where((audit_t.c.plan_id == plan_id) & (audit_t.c.seq == 1))
            .values(comment="forged")
        )
    assert not pf.verify_audit().ok
    [row] = [r for r in rows(pf) if r.event_type == "audit.verification_failed"]
    assert (row.webhook_id, row.plan_id) == (covering.webhook.id, plan_id)
    body = json.loads(row.body)
    assert body["count"] == 1 and body["problems"][0]["plan_id"] == plan_id
    # Found again, by the library or the command line: not told twice.
    assert not pf.verify_audit().ok
    code, _, err = cli("--database-url", database_url, "audit", "verify")
    assert code == 1 and "BROKEN" in err
    assert len([r for r in rows(pf) if r.event_type == "audit.verification_failed"]) == 1


def test_a_persons_own_channel_hears_what_notifies_them(
    pf: Planflow, org: Org, cli: CliRun, database_url: str
) -> None:
    public = "https://93.184.216.34/hook"  # an address literal: nothing to resolve
    with pytest.raises(WebhookRefused) as info:
        pf.webhooks.add_own("reviewer", public, ["task.created"])
    assert info.value.code == "user_channels_off"
    code, out, _ = cli("--database-url", database_url, "webhooks", "user-channels", "on")
    assert code == 0 and out.strip() == "people's own webhooks and robots: on"
    assert pf.webhooks.user_channels()
    with pytest.raises(WebhookRefused) as info:  # never a private address for a person
        pf.webhooks.add_own("reviewer", "http://127.0.0.1:9/h", ["task.created"])
    assert info.value.code == "webhook_url_private"
    mine = pf.webhooks.add_own("reviewer", public, ["task.created", "plan.comment"])
    assert mine.secret.startswith("whsec_") and mine.webhook.owner == "reviewer"
    theirs = pf.webhooks.add_own(
        "drafter_b", public + "?key=k", ["task.created"], kind="wecom", language="ko"
    )
    # The union's reviewer is told of branch_a's submitted plan; drafter_b is not.
    plan_id = submitted(pf)
    [row] = rows(pf)
    assert (row.webhook_id, row.event_type, row.plan_id) == (
        mine.webhook.id,
        "task.created",
        plan_id,
    )
    pf.content.add_comment(plan_id, "hi", actor="reviewer")  # notifies nobody: no event
    assert len(rows(pf)) == 1
    assert [w.id for w in pf.webhooks.own("reviewer")] == [mine.webhook.id]
    with pytest.raises(NotFound):
        pf.webhooks.remove_own("reviewer", theirs.webhook.id)
    assert not pf.webhooks.remove_own("reviewer", mine.webhook.id).active
    # Admins list people's channels too, at the unit where the person has a role.
    [left] = pf.webhooks.list()
    assert (left.owner, left.unit.code) == ("drafter_b", "branch_b")
