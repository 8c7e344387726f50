"""Group robots (DingTalk, WeCom, Feishu) through the webhook outbox, on both databases.

Each vendor's stand-in (``robot_receiver``) checks the signature exactly as
the vendor documents it. One plan action, one message, signed, in the
robot's language, linking to the plan; a refused signature (a 200 with the
vendor's code) is a failed delivery, not a delivered one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Org, migrate_schema
from robot_receiver import RobotReceiver, serving
from sqlalchemy import inspect, text
from test_webhooks import submitted

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.robots import dingtalk_sign, feishu_sign, message, vendor_outcome
from planflow.core.webhooks import WebhookRefused
from planflow.integrations.webhooks import WebhookSender
from planflow.storage.db import Database

T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
BASE = "https://planflow.example.org"
#: The heading of a state change, by language.
MOVED = {"en": "Plan moved", "zh": "计划状态变更", "ko": "계획 상태 변경"}


@pytest.fixture(params=[("dingtalk", "zh"), ("wecom", "ko"), ("feishu", "en")], ids=str)
def robot(request: pytest.FixtureRequest) -> Iterator[tuple[RobotReceiver, str]]:
    kind, language = request.param
    with serving(kind) as rx:
        rx.now = T0
        yield rx, language


def add(pf: Planflow, rx: RobotReceiver, language: str) -> int:
    new = pf.webhooks.add(
        "union",
        rx.url,
        ["plan.state_changed"],
        allow_private=True,
        kind=rx.kind,
        secret=rx.secret if rx.kind != "wecom" else None,
        language=language,
    )
    assert new.secret == ""  # a robot's secret is its vendor's: nothing to show
    assert (new.webhook.kind, new.webhook.language) == (rx.kind, language)
    return new.webhook.id


def send(pf: Planflow) -> WebhookSender:
    return WebhookSender(pf.db, pf.clock, "test-sender", base_url=BASE)


def test_a_plan_action_posts_one_signed_message_in_the_units_language(
    pf: Planflow, org: Org, robot: tuple[RobotReceiver, str]
) -> None:
    rx, language = robot
    add(pf, rx, language)
    plan_id = submitted(pf)
    report = send(pf).run_once()
    assert (report.delivered, report.total) == (1, 1)
    assert send(pf).run_once().total == 0  # exactly one message
    [got] = rx.got
    assert got.signature_valid
    assert MOVED[language] in got.text
    assert "Work plan" in got.text and "chair_a" in got.text
    assert f"{BASE}/plans/{plan_id}" in got.text
    [d] = pf.webhooks.deliveries()
    assert (d.status, d.attempts, d.last_status_code) == ("delivered", 1, 200)


def test_a_refused_signature_is_a_failed_delivery(
    pf: Planflow, org: Org, robot: tuple[RobotReceiver, str]
) -> None:
    rx, language = robot
    if rx.kind == "wecom":
        rx_url = rx.url.replace("key=", "key=x")
        pf.webhooks.add("union", rx_url, ["plan.state_changed"], allow_private=True, kind="wecom")
    else:
        add(pf, rx, language)
        rx.secret = "SECsomeone-else"  # the vendor holds another secret
    submitted(pf)
    report = send(pf).run_once()
    assert (report.failed, report.delivered) == (1, 0)
    [got] = rx.got
    assert not got.signature_valid
    [d] = pf.webhooks.deliveries()
    assert d.status == "failed" and d.last_error and "robot answered" in d.last_error


def test_registering_a_robot_checks_kind_secret_language_and_url(pf: Planflow, org: Org) -> None:
    def refused(**kwargs: object) -> str:
        values: dict[str, object] = {
            "kind": "dingtalk",
            "secret": "SECx",
            "language": "zh",
            "allow_private": True,
        }
        values.update(kwargs)
        url = str(values.pop("url", "http://127.0.0.1:9/robot/send?access_token=t"))
        with pytest.raises(WebhookRefused) as info:
            pf.webhooks.add("union", url, ["plan.comment"], **values)  # type: ignore[arg-type]
        return info.value.code

    assert refused(kind="slack") == "webhook_kind_unknown"
    assert refused(language="fr") == "robot_language_unknown"
    assert refused(secret=None) == "robot_secret_required"
    assert refused(kind="feishu", secret="  ") == "robot_secret_required"
    assert refused(url="http://127.0.0.1:9/robot/send") == "webhook_url_invalid"
    assert refused(kind="wecom", url="http://127.0.0.1:9/send?x=1") == "webhook_url_invalid"
    # SSRF rules stay: a loopback robot needs the admin's allow_private.
    assert refused(allow_private=False) == "webhook_url_private"
    assert pf.webhooks.list() == []


def test_the_vendor_signatures_match_their_documented_examples() -> None:
    # Each computed the vendor's documented way, independently of core.robots.
    import base64
    import hashlib
    import hmac

    ts, secret = "1577262236757", "SECxxx"
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert dingtalk_sign(secret, ts) == expected
    expected = base64.b64encode(
        hmac.new(f"1599360473\n{secret}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert feishu_sign(secret, "1599360473") == expected


def test_messages_escape_user_markdown_and_read_vendor_codes() -> None:
    event = {
        "type": "plan.comment",
        "plan": {"id": 3, "title": "[click](http://evil)", "unit": {"name": "A"}},
        "action": "comment",
        "actor": None,
        "comment": "hi",
    }
    msg = message(event, "zh", BASE)
    assert "\\[click\\](http://evil)" in msg.md_lines[0]
    assert msg.heading == "新评论" and "系统" in msg.md_lines[1]
    assert msg.url == f"{BASE}/plans/3"
    assert vendor_outcome(b'{"errcode":0,"errmsg":"ok"}') == (True, None, False)
    assert vendor_outcome(b'{"code":9499,"msg":"too fast"}')[::2] == (False, True)
    assert vendor_outcome(b"not json") == (True, None, False)


def test_cli_robots_add_list_remove(
    cli: Any, pf: Planflow, org: Org, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--database-url", database_url)
    url = "http://127.0.0.1:9/robot/send?access_token=t"
    monkeypatch.setenv("PLANFLOW_ROBOT_SECRET", "SECfrom-the-environment")
    code, out, err = cli(*db, "robots", "add", "--kind", "dingtalk", "--unit", "union",
                         "--url", url, "--event", "plan.comment", "--language", "zh",
                         "--allow-private")  # fmt: skip
    assert code == 0, err
    assert "dingtalk robot" in out and "SECfrom" not in out + err
    code, out, _ = cli(*db, "webhooks", "add", "--kind", "feishu", "--unit", "union",
                       "--url", "http://127.0.0.1:9/hook", "--event", "plan.comment",
                       "--allow-private", "--secret", "SECx")  # fmt: skip
    assert code == 0 and "feishu robot" in out
    code, out, _ = cli(*db, "robots", "list")
    assert code == 0 and "dingtalk/zh" in out and "feishu/en" in out
    [first, _] = pf.webhooks.list()
    code, out, _ = cli(*db, "robots", "remove", str(first.id))
    assert code == 0 and "removed" in out
    monkeypatch.delenv("PLANFLOW_ROBOT_SECRET")
    code, out, err = cli(*db, "robots", "add", "--kind", "feishu", "--unit", "union",
                         "--url", url, "--event", "plan.comment", "--allow-private")  # fmt: skip
    assert code == 1 and "[robot_secret_required]" in err


def test_the_robot_migration_keeps_webhooks_and_goes_down(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0014")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO unit (id, parent_id, code, name, created_at)"
                    " VALUES (1, NULL, 'fed', 'Fed', :at)"
                ),
                {"at": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO webhook (unit_id, url, events, secret, active, allow_private,"
                    " created_at) VALUES (1, 'https://x.org/', '[\"plan.comment\"]', 's',"
                    " :yes, :no, :at)"
                ),
                {"at": T0, "yes": True, "no": False},
            )
        migrate_schema(db, "0015")
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT kind, language, user_id FROM webhook")).one()
        assert tuple(row) == ("webhook", "en", None)  # an existing webhook stays one
        migrate_schema(db, "0014", "downgrade")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("webhook")}
        assert "kind" not in columns and "user_id" not in columns
    finally:
        db.dispose()


def test_a_redelivery_hours_later_is_signed_afresh(
    pf: Planflow, org: Org, clock: FixedClock
) -> None:
    # The vendors refuse a timestamp an hour old: the message is signed when sent.
    with serving("feishu") as rx:
        rx.now = T0
        add(pf, rx, "en")
        submitted(pf)
        assert send(pf).run_once().delivered == 1
        clock.advance(timedelta(hours=3))
        rx.now = T0 + timedelta(hours=3)
        [d] = pf.webhooks.deliveries()
        pf.webhooks.redeliver(d.id)
        assert send(pf).run_once().delivered == 1
    assert [g.signature_valid for g in rx.got] == [True, True]
    assert int(rx.got[1].body["timestamp"]) - int(rx.got[0].body["timestamp"]) == 3 * 3600


def test_each_event_says_its_own_detail_in_the_language() -> None:
    plan = {"id": 1, "title": "T", "unit": {"name": "U"}}
    cases = [
        ({"type": "task.created", "task": {"role": "reviewer", "unit": "union",
          "due_at": "2027-01-18T08:00:00Z"}}, "ko", ["대기: reviewer (union)", "기한: 2027-01-18"]),
        ({"type": "task.overdue", "escalation": {"due_at": "2027-01-18T08:00:00+00:00",
          "to_unit": "fed"}}, "zh", ["截止：2027-01-18", "已上报至 fed"]),
        ({"type": "task.escalated", "escalation": {"due_at": "2027-01-18T08:00:00+00:00",
          "to_unit": "fed"}}, "ko", ["기한: 2027-01-18", "fed(으)로 상위 보고"]),
        ({"type": "inspection.finished", "inspection": {"verdict": "rectification_required",
          "grade": "C"}}, "en", ["Verdict: rectification required, grade C"]),
        ({"type": "audit.verification_failed", "count": 2, "problems": [
          {"message": "altered"}]}, "en", ["2 problem(s): altered"]),
    ]  # fmt: skip
    for event, lang, lines in cases:
        msg = message({"plan": plan, "action": None, **event}, lang, None)
        assert list(msg.lines[1:]) == lines, (event, msg.lines)
    # Escalating is 상위 보고 in Korean, as the web UI and the e-mails say it.
    escalated = message({"plan": plan, "type": "task.escalated"}, "ko", None)
    assert escalated.heading == "작업 상위 보고"


def test_the_link_comes_from_planflow_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from planflow.integrations.webhooks.sender_settings import base_url_from_env

    monkeypatch.delenv("PLANFLOW_BASE_URL", raising=False)
    monkeypatch.setenv("PLANFLOW_MAIL_BASE_URL", "https://mail.example.org/")
    assert base_url_from_env() == "https://mail.example.org"
    monkeypatch.setenv("PLANFLOW_BASE_URL", "https://pf.example.org/")
    assert base_url_from_env() == "https://pf.example.org"
    monkeypatch.setenv("PLANFLOW_BASE_URL", "javascript:alert(1)")
    monkeypatch.delenv("PLANFLOW_MAIL_BASE_URL")
    assert base_url_from_env() is None  # no link rather than a bad one
