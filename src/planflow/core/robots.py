"""Group robots as plain Python: the message, each vendor's request and signature.

A robot is a webhook of another ``kind``: it shares the webhook outbox, its
lease, retries and exactly-once enqueuing (``services.webhook_events``); only
what is POSTed differs. At sending time the event's JSON body (the one a
plain webhook gets) is turned into a short message in the robot's language,
with a link to the plan, and wrapped the way the vendor wants it:

* DingTalk custom robot: ``{"msgtype": "markdown", ...}``; signed by adding
  ``timestamp`` (milliseconds) and ``sign`` to the URL's query, where
  ``sign`` = base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"));
* WeCom group robot: ``{"msgtype": "markdown", ...}`` to the URL with its
  ``key``; no signature (the key in the URL is the credential);
* Feishu custom bot: ``{"msg_type": "text", ...}`` with ``timestamp``
  (seconds) and ``sign`` in the JSON body, where ``sign`` =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")).

Each vendor answers HTTP 200 with a JSON code (0: sent); ``vendor_outcome``
reads it, since a refused signature is a 200 too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from planflow.core.korean import attach_particles
from planflow.core.webhooks import WebhookRefused

WEBHOOK = "webhook"
DINGTALK, WECOM, FEISHU = "dingtalk", "wecom", "feishu"
ROBOT_KINDS = (DINGTALK, WECOM, FEISHU)
KINDS = (WEBHOOK, *ROBOT_KINDS)
LANGUAGES = ("en", "zh", "ko")
#: The kinds signed with a secret their vendor issued (WeCom's credential is its URL key).
SIGNED = frozenset({DINGTALK, FEISHU})
MAX_SECRET = 100
#: Vendor codes that mean "too many messages, try later" (the rest are final).
RATE_LIMITED = frozenset({130101, 45009, 9499, 11232})
MAX_TITLE = 80

#: A heading per event type and language.
HEADINGS: dict[str, dict[str, str]] = {
    "plan.state_changed": {"en": "Plan moved", "zh": "计划状态变更", "ko": "계획 상태 변경"},
    "task.created": {"en": "New task", "zh": "新任务", "ko": "새 작업"},
    "plan.comment": {"en": "New comment", "zh": "新评论", "ko": "새 댓글"},
    "task.overdue": {"en": "Task overdue", "zh": "任务已逾期", "ko": "작업 기한 초과"},
    "task.escalated": {"en": "Task escalated", "zh": "任务已上报", "ko": "작업 상위 보고"},
    "inspection.finished": {"en": "Inspection finished", "zh": "检查已完成", "ko": "점검 완료"},
    "audit.verification_failed": {
        "en": "Audit trail verification failed",
        "zh": "审计记录校验失败",
        "ko": "감사 기록 검증 실패",
    },
}
#: ``{action}`` done ``by`` ``{actor}``, per language.
DONE_BY = {"en": "{action} by {actor}", "zh": "{actor}：{action}", "ko": "{actor}: {action}"}
SYSTEM = {"en": "the scheduler", "zh": "系统", "ko": "시스템"}
OPEN = {"en": "Open the plan", "zh": "查看计划", "ko": "계획 보기"}
PROBLEMS = {
    "en": "{n} problem(s): {first}",
    "zh": "{n} 个问题：{first}",
    "ko": "문제 {n}건: {first}",
}


#: The event's own detail, per language (``{...}`` filled from the event body).
WAITING = {
    "en": "Waiting for: {role} ({unit})",
    "zh": "待办：{role}（{unit}）",
    "ko": "대기: {role} ({unit})",
}
DUE = {"en": "Due: {due}", "zh": "截止：{due}", "ko": "기한: {due}"}
ESCALATED_TO = {
    "en": "Escalated to {unit}",
    "zh": "已上报至 {unit}",
    "ko": "{unit}(으)로 상위 보고",
}
VERDICT = {
    "en": "Verdict: {verdict}, grade {grade}",
    "zh": "结论：{verdict}，等级 {grade}",
    "ko": "결과: {verdict}, 등급 {grade}",
}
VERDICTS = {
    "accepted": {"en": "accepted", "zh": "通过", "ko": "통과"},
    "rectification_required": {"en": "rectification required", "zh": "需整改", "ko": "시정 필요"},
}


def _details(event: dict[str, Any], lang: str) -> list[str]:
    """The lines that say what is particular to the event (plain text)."""
    kind = event.get("type")
    lines: list[str] = []
    if kind == "plan.state_changed" and event.get("to_state"):
        lines.append(f"{event.get('from_state')} → {event.get('to_state')}")
    elif kind == "plan.comment" and event.get("comment"):
        lines.append("“" + _short(event["comment"], 140) + "”")
    elif kind == "task.created" and isinstance(event.get("task"), dict):
        task = event["task"]
        lines.append(WAITING[lang].format(role=task.get("role"), unit=task.get("unit")))
        if task.get("due_at"):
            lines.append(DUE[lang].format(due=str(task["due_at"])[:10]))
    elif kind in ("task.overdue", "task.escalated") and isinstance(event.get("escalation"), dict):
        esc = event["escalation"]
        if esc.get("due_at"):
            lines.append(DUE[lang].format(due=str(esc["due_at"])[:10]))
        if esc.get("to_unit"):
            lines.append(ESCALATED_TO[lang].format(unit=esc["to_unit"]))
    elif kind == "inspection.finished" and isinstance(event.get("inspection"), dict):
        found = event["inspection"]
        verdict = VERDICTS.get(str(found.get("verdict")), {}).get(lang, found.get("verdict"))
        lines.append(VERDICT[lang].format(verdict=verdict, grade=found.get("grade") or "-"))
    problems = event.get("problems")
    if isinstance(problems, list) and problems:
        first = problems[0].get("message", "") if isinstance(problems[0], dict) else ""
        count = event.get("count", len(problems))
        lines.append(PROBLEMS[lang].format(n=count, first=_short(first, 140)))
    return [attach_particles(line) for line in lines] if lang == "ko" else lines


def check_kind(kind: str, url: str, secret: str | None, language: str) -> str:
    """The secret to store for a ``kind`` robot (or webhook), else ``WebhookRefused``."""
    if kind not in KINDS:
        raise WebhookRefused(
            f"unknown webhook kind {kind[:20]!r}; known: {', '.join(KINDS)}",
            code="webhook_kind_unknown",
            params={"kind": kind[:20], "allowed": list(KINDS)},
        )
    if language not in LANGUAGES:
        raise WebhookRefused(
            f"unknown robot language {language[:10]!r}; known: {', '.join(LANGUAGES)}",
            code="robot_language_unknown",
            params={"language": language[:10], "allowed": list(LANGUAGES)},
        )
    query = parse_qs(urlsplit(url).query) if isinstance(url, str) else {}
    needs = {DINGTALK: "access_token", WECOM: "key"}.get(kind)
    if needs is not None and not query.get(needs):
        # The vendor's URL carries the robot's token; without it nothing arrives.
        raise WebhookRefused(
            f"a {kind} robot's URL needs its {needs}= parameter",
            code="webhook_url_invalid",
            params={"url": url[:200], "reason": needs},
        )
    if kind not in SIGNED:
        return ""
    secret = (secret or "").strip()
    if not secret or len(secret) > MAX_SECRET or not secret.isprintable():
        raise WebhookRefused(
            f"a {kind} robot needs the signing secret its vendor issued (at most "
            f"{MAX_SECRET} characters)",
            code="robot_secret_required",
            params={"kind": kind},
        )
    return secret


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu: base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


@dataclass(frozen=True)
class Message:
    heading: str
    #: Lines of plain text (Feishu), and the same as markdown (DingTalk, WeCom).
    lines: tuple[str, ...]
    md_lines: tuple[str, ...]
    url: str | None
    link_text: str


# Without brackets no link or image can form, without <> no HTML; * and ` keep
# a title from bolding the rest. Fewer escapes: vendors' renderers differ.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>])")


def _md(text: str) -> str:
    """User text inside markdown: no links, emphasis or HTML of its own."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _short(text: object, limit: int = MAX_TITLE) -> str:
    value = " ".join(str(text).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def message(event: dict[str, Any], language: str, base_url: str | None) -> Message:
    """What happened, to which plan, by whom, in ``language``; links to the plan."""
    lang = language if language in LANGUAGES else "en"
    kind = str(event.get("type", ""))
    heading = HEADINGS.get(kind, {}).get(lang) or kind
    plain: list[str] = []
    md: list[str] = []
    plan = event.get("plan")
    url = None
    if isinstance(plan, dict):
        unit = plan.get("unit") or {}
        title, unit_name = _short(plan.get("title", "")), _short(unit.get("name", ""))
        plain.append(f"{title} · {unit_name}")
        md.append(f"**{_md(title)}** · {_md(unit_name)}")
        if base_url and plan.get("id") is not None:
            url = f"{base_url.rstrip('/')}/plans/{int(plan['id'])}"
    actor = event.get("actor") or SYSTEM[lang]
    action = event.get("action")
    if action:
        line = DONE_BY[lang].format(action=_short(action, 40), actor=_short(actor, 40))
        plain.append(line)
        md.append(_md(line))
    for line in _details(event, lang):
        plain.append(line)
        md.append(_md(line))
    return Message(heading, tuple(plain), tuple(md), url, OPEN[lang])


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def robot_request(
    kind: str,
    url: str,
    secret: str,
    event_body: str,
    language: str,
    base_url: str | None,
    now: datetime,
) -> Request:
    """The POST that carries ``event_body`` (an event's JSON) to a ``kind`` robot at ``now``."""
    msg = message(json.loads(event_body), language, base_url)
    link_md = f"\n\n[{msg.link_text}]({msg.url})" if msg.url else ""
    markdown = f"### {_md(msg.heading)}\n\n" + "\n\n".join(msg.md_lines) + link_md
    payload: dict[str, Any]
    if kind == DINGTALK:
        payload = {"msgtype": "markdown", "markdown": {"title": msg.heading, "text": markdown}}
        timestamp = str(int(now.timestamp() * 1000))
        query = urlencode({"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)})
        url = url + ("&" if urlsplit(url).query else "?") + query
    elif kind == WECOM:
        payload = {"msgtype": "markdown", "markdown": {"content": markdown}}
    elif kind == FEISHU:
        text = "\n".join((msg.heading, *msg.lines, *([msg.url] if msg.url else [])))
        timestamp = str(int(now.timestamp()))
        payload = {
            "timestamp": timestamp,
            "sign": feishu_sign(secret, timestamp),
            "msg_type": "text",
            "content": {"text": text},
        }
    else:
        raise ValueError(f"not a robot kind: {kind!r}")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Request(url, body, {})


def vendor_outcome(body: bytes) -> tuple[bool, str | None, bool]:
    """``(sent, error, retry)`` from a vendor's 2xx answer: its code 0 means sent.

    DingTalk and WeCom answer ``errcode``, Feishu ``code`` (older bots
    ``StatusCode``). An answer without a code is taken as sent.
    """
    try:
        answer = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return True, None, False
    if not isinstance(answer, dict):
        return True, None, False
    for name in ("errcode", "code", "StatusCode"):
        code = answer.get(name)
        if isinstance(code, int):
            if code == 0:
                return True, None, False
            text = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
            return False, f"robot answered {name} {code}: {str(text)[:200]}", code in RATE_LIMITED
    return True, None, False
