"""Webhooks: registering (URL rules, SSRF, events), enqueuing with the change, the CLI.

Every database test runs on SQLite and PostgreSQL. Delivery itself (a real
receiver, retries, several senders, a sender that dies) is in
``test_webhooks_delivery.py``.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import CliRun, Org, migrate_schema
from sqlalchemy import inspect
from sqlmodel import col, select

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.core.webhooks import (
    EVENT_TYPES,
    WebhookRefused,
    address_refusal,
    check_url,
    event_id,
    signature,
    signature_matches,
)
from planflow.errors import NotFound, PermissionDenied
from planflow.scheduling.deadline_processor import DeadlineProcessor
from planflow.storage.db import Database
from planflow.storage.tables import WebhookDelivery

URL = "http://127.0.0.1:9/hook"


def submitted(pf: Planflow, unit: str = "branch_a") -> int:
    who = {"branch_a": ("drafter_a", "chair_a"), "branch_b": ("drafter_b", "chair_b")}[unit]
    plan_id = pf.create_plan(unit_code=unit, year=2027, title="Work plan", actor=who[0])
    items = [{"key": "i1", "text": "Recruit", "due": 3}]
    content = PlanContent.from_dict(
        {"sections": [{"key": "s1", "title": "Members", "items": items}]}, year=2027
    )
    pf.content.set_content(plan_id, content, actor=who[0])
    pf.fire(plan_id, "submit", who[1])
    return plan_id


def rows(pf: Planflow) -> list[WebhookDelivery]:
    with pf.db.read_session() as s:
        found = s.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id))).all()
        return [WebhookDelivery.model_validate(r) for r in found]


# -- the pure rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not_global"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_addresses_a_webhook_may_not_reach_by_default(address: str, reason: str | None) -> None:
    assert address_refusal(address) == reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/x", "scheme"),
        ("example.org/hook", "scheme"),
        ("https:///path", "host"),
        ("https://user:pw@example.org/", "credentials"),
        ("https://example.org/a b", "whitespace"),
        ("https://example.org:99999/", "syntax"),
        ("https://example.org/#frag", "fragment"),
        ("", "length"),
        ("https://example.org/" + "a" * 2000, "length"),
    ],
)
def test_urls_that_are_refused(url: str, reason: str) -> None:
    with pytest.raises(WebhookRefused) as info:
        check_url(url)
    assert (info.value.code, info.value.params["reason"]) == ("webhook_url_invalid", reason)


def test_url_parts_and_default_ports() -> None:
    assert check_url("https://hooks.example.org/in") == ("https", "hooks.example.org", 443)
    assert check_url("http://[2001:db8::1]:8080/") == ("http", "2001:db8::1", 8080)


def test_the_signature_is_the_documented_hmac() -> None:
    body = b'{"id":"x"}'
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1798963200." + body, hashlib.sha256).hexdigest()
    assert signature("s3cret", "1798963200", body) == "sha256=" + expected
    assert signature_matches("s3cret", "1798963200", body, "sha256=" + expected)
    assert not signature_matches("s3cret", "1798963201", body, "sha256=" + expected)


def test_event_ids_are_stable_uuids_per_record_and_type() -> None:
    one = event_id("a" * 64, "plan.state_changed")
    assert one == event_id("a" * 64, "plan.state_changed")
    assert one != event_id("a" * 64, "task.created") != event_id("b" * 64, "plan.state_changed")
    assert len(one) == 36


# -- registering ----------------------------------------------------------------------


def test_register_list_and_remove(pf: Planflow, org: Org) -> None:
    new = pf.webhooks.add("union", URL, ["task.created", "plan.state_changed"], allow_private=True)
    assert new.secret.startswith("whsec_") and len(new.secret) > 40
    hook = new.webhook
    assert (hook.unit.code, hook.url, hook.active, hook.allow_private) == ("union", URL, True, True)
    assert hook.events == ("plan.state_changed", "task.created")  # canonical order
    assert new.secret not in repr(new)
    assert [w.id for w in pf.webhooks.list()] == [hook.id]
    removed = pf.webhooks.remove(hook.id)
    assert not removed.active
    assert pf.webhooks.list() == []
    assert [w.id for w in pf.webhooks.list(with_removed=True)] == [hook.id]
    with pytest.raises(NotFound):
        pf.webhooks.remove(hook.id + 1)


def test_private_addresses_are_refused_unless_allowed(pf: Planflow, org: Org) -> None:
    for url, address in [
        ("http://127.0.0.1:8080/x", "127.0.0.1"),
        ("http://[::1]/x", "::1"),
        ("https://10.0.0.7/x", "10.0.0.7"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ]:
        with pytest.raises(WebhookRefused) as info:
            pf.webhooks.add("union", url, ["plan.comment"])
        assert info.value.code == "webhook_url_private"
        assert info.value.params["address"] == address
    with pytest.raises(WebhookRefused) as info:
        pf.webhooks.add("union", "http://localhost:8080/x", ["plan.comment"])
    assert info.value.code == "webhook_url_private"
    assert info.value.params["host"] == "localhost"
    assert pf.webhooks.list() == []


def test_a_name_is_judged_by_every_address_it_resolves_to(pf: Planflow, org: Org) -> None:
    names = {
        "hooks.example.org": ["93.184.216.34"],
        "mixed.example.org": ["93.184.216.34", "10.1.2.3"],
    }

    def resolve(host: str, port: int) -> list[str]:
        if host not in names:
            raise WebhookRefused("nope", code="webhook_url_unresolvable", params={"host": host})
        return names[host]

    pf.webhooks.service.resolve = resolve
    assert pf.webhooks.add("union", "https://hooks.example.org/in", ["plan.comment"]).webhook.id
    with pytest.raises(WebhookRefused) as info:
        pf.webhooks.add("union", "https://mixed.example.org/in", ["plan.comment"])
    assert info.value.params == {
        "host": "mixed.example.org",
        "address": "10.1.2.3",
        "reason": "private",
    }
    with pytest.raises(WebhookRefused) as info:
        pf.webhooks.add("union", "https://unknown.example.org/in", ["plan.comment"])
    assert info.value.code == "webhook_url_unresolvable"


def test_bad_events_and_units(pf: Planflow, org: Org) -> None:
    with pytest.raises(WebhookRefused) as info:
        pf.webhooks.add("union", URL, ["plan.exploded"], allow_private=True)
    assert (info.value.code, info.value.params["event"]) == (
        "webhook_event_unknown",
        "plan.exploded",
    )
    assert info.value.params["allowed"] == list(EVENT_TYPES)
    with pytest.raises(WebhookRefused) as info:
        pf.webhooks.add("union", URL, [], allow_private=True)
    assert info.value.code == "webhook_events_required"
    with pytest.raises(NotFound):
        pf.webhooks.add("nowhere", URL, ["plan.comment"], allow_private=True)


def test_only_an_admin_at_or_above_the_unit_registers(pf: Planflow, org: Org) -> None:
    pf.org.assign_role("officer", "admin", "union")
    with pytest.raises(PermissionDenied):
        pf.webhooks.add("union", URL, ["plan.comment"], allow_private=True, actor="reviewer")
    with pytest.raises(PermissionDenied):
        pf.webhooks.add("fed", URL, ["plan.comment"], allow_private=True, actor="officer")
    new = pf.webhooks.add("branch_a", URL, ["plan.comment"], allow_private=True, actor="officer")
    assert new.webhook.created_by == "officer"


# -- enqueuing with the change -------------------------------------------------------


def test_a_state_change_enqueues_one_delivery_per_matching_webhook(pf: Planflow, org: Org) -> None:
    union = pf.webhooks.add("union", URL, ["plan.state_changed"], allow_private=True).webhook
    fed = pf.webhooks.add("fed", URL, ["plan.state_changed", "task.created"], allow_private=True)
    pf.webhooks.add("branch_b", URL, ["plan.state_changed"], allow_private=True)  # other subtree
    pf.webhooks.add("fed", URL, ["plan.comment"], allow_private=True)  # other event
    plan_id = submitted(pf)
    found = rows(pf)
    assert sorted((r.webhook_id, r.event_type) for r in found) == sorted(
        [
            (union.id, "plan.state_changed"),
            (fed.webhook.id, "plan.state_changed"),
            (fed.webhook.id, "task.created"),
        ]
    )
    change = {r.event_id for r in found if r.event_type == "plan.state_changed"}
    assert len(change) == 1  # one event, one id, for every webhook
    body = json.loads(next(r.body for r in found if r.event_type == "plan.state_changed"))
    assert body["id"] == change.pop()
    assert body["type"] == "plan.state_changed"
    assert body["plan"]["id"] == plan_id
    assert body["plan"]["unit"]["code"] == "branch_a"
    assert (body["from_state"], body["to_state"], body["actor"]) == (
        "draft",
        "submitted",
        "chair_a",
    )
    assert body["occurred_at"] == "2027-01-04T08:00:00Z"
    task = json.loads(next(r.body for r in found if r.event_type == "task.created"))["task"]
    assert (task["role"], task["unit"]) == ("reviewer", "union")
    assert all(r.status == "pending" and r.attempts == 0 for r in found)


def test_a_refused_change_enqueues_nothing(pf: Planflow, org: Org) -> None:
    pf.webhooks.add("union", URL, ["plan.state_changed"], allow_private=True)
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Empty", actor="drafter_a")
    with pytest.raises(Exception, match="no items"):
        pf.fire(plan_id, "submit", "chair_a")
    assert rows(pf) == []


def test_comments_and_escalations(pf: Planflow, org: Org, clock: FixedClock) -> None:
    pf.webhooks.add("union", URL, ["plan.comment", "task.escalated"], allow_private=True)
    plan_id = submitted(pf)
    pf.content.add_comment(plan_id, "Looks good so far", actor="reviewer")
    [comment] = rows(pf)
    assert comment.event_type == "plan.comment"
    assert json.loads(comment.body)["comment"] == "Looks good so far"
    clock.advance(timedelta(days=20))
    processor = DeadlineProcessor(pf.service, "w1")
    assert processor.run().escalated >= 1
    escalations = [r for r in rows(pf) if r.event_type == "task.escalated"]
    assert len(escalations) >= 1
    body = json.loads(escalations[0].body)
    assert body["actor"] is None and body["escalation"]["level"] == 1
    assert DeadlineProcessor(pf.service, "w2").run().applied == 0  # applied once ...
    assert len([r for r in rows(pf) if r.event_type == "task.escalated"]) == len(escalations)


def test_another_process_registering_is_seen_by_the_next_change(
    pf: Planflow, org: Org, database_url: str, clock: FixedClock
) -> None:
    """The cached list of webhooks follows the organisation generation."""
    submitted(pf)  # caches "no webhooks" in this process
    other = Planflow(database_url, clock=clock)
    try:
        hook = other.webhooks.add("fed", URL, ["plan.state_changed"], allow_private=True)
        plan_id = submitted(pf, "branch_b")
        assert [(r.webhook_id, r.plan_id) for r in rows(pf)] == [(hook.webhook.id, plan_id)]
        other.webhooks.remove(hook.webhook.id)
    finally:
        other.close()
    submitted(pf)
    assert len(rows(pf)) == 1


# -- the command line -------------------------------------------------------------------


def test_cli_add_list_deliveries_remove(
    cli: CliRun, pf: Planflow, org: Org, database_url: str
) -> None:
    db = ("--database-url", database_url)
    code, out, err = cli(*db, "webhooks", "add", "--unit", "union", "--url", URL,
                         "--event", "plan.state_changed", "--allow-private")  # fmt: skip
    assert code == 0, err
    assert out.strip().startswith("whsec_") and "not shown again" in err
    code, out, _ = cli(*db, "webhooks", "list")
    assert code == 0 and URL in out and "union" in out and "private addresses allowed" in out
    submitted(pf)
    code, out, _ = cli(*db, "webhooks", "deliveries")
    assert code == 0 and "pending" in out and "plan.state_changed" in out
    [row] = rows(pf)
    code, out, _ = cli(*db, "webhooks", "redeliver", str(row.id))
    assert code == 0 and "due again" in out
    code, out, _ = cli(*db, "webhooks", "remove", str(row.webhook_id))
    assert code == 0 and "removed" in out
    code, out, _ = cli(*db, "webhooks", "deliver")
    assert (code, out.strip()) == (0, "delivered: 0, retried: 0, failed: 0, cancelled: 1")
    code, out, _ = cli(*db, "webhooks", "deliveries", "--webhook", str(row.webhook_id))
    assert "cancelled" in out


@pytest.mark.parametrize(
    ("argv", "code_name"),
    [
        (["--unit", "nowhere", "--url", URL, "--event", "plan.comment"], "not_found"),
        (["--unit", "union", "--url", "ftp://x.org/", "--event", "plan.comment"],
         "webhook_url_invalid"),
        (["--unit", "union", "--url", URL, "--event", "plan.nope"], "webhook_event_unknown"),
        (["--unit", "union", "--url", URL, "--event", "plan.comment"], "webhook_url_private"),
        (["--unit", "union", "--url", "http://no-such-host.invalid/", "--event", "plan.comment"],
         "webhook_url_unresolvable"),
    ],
)  # fmt: skip
def test_cli_refusals_are_one_line_with_their_code(
    cli: CliRun, org: Org, database_url: str, argv: list[str], code_name: str
) -> None:
    code, out, err = cli("--database-url", database_url, "webhooks", "add", *argv)
    assert code == 1 and out == ""
    assert err.startswith("planflow: error: ") and err.count("\n") == 1, err
    assert err.rstrip().endswith(f"[{code_name}]")
    assert "Traceback" not in err


def test_cli_unknown_ids(cli: CliRun, org: Org, database_url: str) -> None:
    for argv in (["remove", "7"], ["redeliver", "7"], ["deliveries", "--webhook", "7"]):
        code, _out, err = cli("--database-url", database_url, "webhooks", *argv)
        assert code == 1 and err.rstrip().endswith("[not_found]"), err
    code, _out, err = cli("--database-url", database_url, "webhooks", "remove", "x")
    assert code == 2 and err.count("\n") == 1


def test_the_webhook_migration_up_and_down(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0012")
        with db.engine.connect() as conn:
            assert "webhook" not in inspect(conn).get_table_names()
        migrate_schema(db, "0014")
        with db.engine.connect() as conn:
            assert {"webhook", "webhook_delivery"} <= set(inspect(conn).get_table_names())
        migrate_schema(db, "0012", "downgrade")
        with db.engine.connect() as conn:
            assert "webhook_delivery" not in inspect(conn).get_table_names()
    finally:
        db.dispose()
