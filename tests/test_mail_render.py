"""Tests of e-mail rendering (``planflow.integrations.mail.messages``, ``texts``, ``labels``).

Pure: no database, no server. Covered: every language has every phrase with
the same placeholders; each kind in each language with the workflow's own
labels; payloads with missing, wrong or hostile values never crash a render
and never break a header; unknown languages fall back to English; the link;
times in the deployment's zone; the digest's count and overflow; the MIME
message round-trips through bytes.
"""

from __future__ import annotations

import ast
import email
import string
from datetime import UTC, date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from planflow.core.definitions.registry import DefinitionRegistry
from planflow.integrations.mail.labels import RegistryLabels
from planflow.integrations.mail.messages import (
    DigestItem,
    MailContext,
    RawLabels,
    compose,
    format_time,
    language_of,
    render,
    render_digest,
)
from planflow.integrations.mail.texts import LANGUAGES, TEXTS

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
AT = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
DUE = "2027-01-11T08:00:00+00:00"

TRANSITION = {
    "title": "Branch A plan",
    "action": "return_for_revision",
    "from": "under_review",
    "to": "returned",
    "actor": 5,
    "comment": "Item 2 needs a date",
    "workflow": "annual_plan",
}
REMIND = {"title": "Branch A plan", "workflow": "annual_plan", "state": "submitted",
          "due_at": DUE, "level": 0}  # fmt: skip
ESCALATE = {**REMIND, "level": 2, "unit": "fed", "unit_name": "Federation"}


@pytest.fixture(scope="module")
def labels() -> RegistryLabels:
    return RegistryLabels(DefinitionRegistry(WORKFLOWS))


def ctx(lang: str, labels: Any = None, **kw: Any) -> MailContext:
    return MailContext(language=lang, labels=labels or RawLabels(), **kw)


def fields_of(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_korean_mail_says_no_you() -> None:
    """A notice reads impersonally, as the Korean web UI does (its glossary test):
    the reader is the one addressed; 회원님, 귀하 or 당신 would name them."""
    said = [
        (key, text)
        for key, text in TEXTS["ko"].items()
        if any(word in text for word in ("당신", "귀하", "회원님", "여러분"))
    ]
    assert said == []


def test_every_language_has_every_phrase_with_the_same_placeholders() -> None:
    assert set(TEXTS) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert TEXTS[lang].keys() == TEXTS["en"].keys(), lang
        for key, text in TEXTS["en"].items():
            assert fields_of(TEXTS[lang][key]) == fields_of(text), (lang, key)


@pytest.mark.parametrize(
    ("lang", "subject", "lines"),
    [
        (
            "en",
            "[planflow] Branch A plan: Return for revision (Returned for revision)",
            ["Li Wei chose “Return for revision”", "State: Under review → Returned for revision",
             "Comment: Item 2 needs a date", "Workflow: Annual work plan"],
        ),
        (
            "zh",
            "[planflow] 计划「Branch A plan」：退回修改",
            ["Li Wei对计划「Branch A plan」执行了“退回修改”", "状态：审核中 → 退回修改",
             "意见：Item 2 needs a date", "流程：年度工作计划"],
        ),
        (
            "ko",
            "[planflow] 계획 ‘Branch A plan’: 수정 요청 (수정 요청됨)",
            ["Li Wei 님이 계획 ‘Branch A plan’에 대해 ‘수정 요청’", "상태: 검토 중 → 수정 요청됨",
             "의견: Item 2 needs a date", "업무 흐름: 연간 사업 계획"],
        ),
    ],
)  # fmt: skip
def test_transition_in_each_language(
    labels: RegistryLabels, lang: str, subject: str, lines: list[str]
) -> None:
    out = render("transition", TRANSITION, ctx(lang, labels), actor_name="Li Wei")
    assert out.subject == subject
    for line in lines:
        assert line in out.body


def test_a_system_transition_says_it_was_automatic(labels: RegistryLabels) -> None:
    payload = {**TRANSITION, "actor": None, "action": "approve", "to": "approved"}
    for lang, words in [("en", "moved on automatically"), ("zh", "系统自动"), ("ko", "자동으로")]:
        assert words in render("transition", payload, ctx(lang, labels)).body


@pytest.mark.parametrize(
    ("lang", "remind", "escalate", "due"),
    [
        ("en", "Reminder: “Branch A plan” is due 11 Jan 2027, 17:00 Asia/Seoul",
         "Overdue and escalated: “Branch A plan”", "Due: 11 Jan 2027, 17:00 Asia/Seoul"),
        ("zh", "提醒：计划「Branch A plan」将于2027年1月11日 17:00（Asia/Seoul）到期",
         "已超期并上报：计划「Branch A plan」", "截止时间：2027年1月11日 17:00（Asia/Seoul）"),
        ("ko", "알림: 계획 ‘Branch A plan’ 마감 2027년 1월 11일 17:00 (Asia/Seoul)",
         "기한 초과로 상위 보고됨: 계획 ‘Branch A plan’",
         "마감: 2027년 1월 11일 17:00 (Asia/Seoul)"),
    ],
)  # fmt: skip
def test_reminders_and_escalations(
    labels: RegistryLabels, lang: str, remind: str, escalate: str, due: str
) -> None:
    c = ctx(lang, labels, timezone=ZoneInfo("Asia/Seoul"))
    r = render("remind", REMIND, c)
    assert r.subject == f"[planflow] {remind}"
    assert due in r.body
    e = render("escalate", ESCALATE, c)
    assert e.subject == f"[planflow] {escalate}"
    assert due in e.body and "Federation (fed)" in e.body
    # The sentence names the unit; the code is said once, in the unit's own field.
    assert e.body.count("(fed)") == 1 and e.body.count("Federation") == 2
    level = {"en": "Escalation level: 2", "zh": "上报级别：2", "ko": "상위 보고 단계: 2"}[lang]
    assert level in e.body
    state = {"en": "Submitted", "zh": "已提交", "ko": "제출됨"}[lang]
    assert state in r.body and state in e.body


BAD_PAYLOADS: list[Any] = [
    {},
    {"title": None, "action": None, "to": None, "from": None, "workflow": None},
    {"title": 42, "actor": "x", "comment": ["a"], "due_at": "next week", "level": "high"},
    {"workflow": "no_such_workflow", "to": "nowhere", "action": "jump", "state": "?"},
    {"due_at": "2027-01-11T08:00:00", "unit": "fed"},  # naive time, code without name
    [],
    "not a mapping",
]


@pytest.mark.parametrize(
    ("lang", "subject", "lead", "why"),
    [
        ("en", "Overdue, nobody above to escalate to: “Branch A plan”",
         "at Federation, and no unit above it has anyone to escalate it to",
         "nobody above holds the role reviewer"),
        ("zh", "已超期，无上级可上报：计划「Branch A plan」",
         "上级单位中无人可接收上报，仍由您办理", "上级单位中没有人担任“审核人”"),
        ("ko", "기한 초과, 상위 보고할 상급 단위 없음: 계획 ‘Branch A plan’",
         "계속 직접 처리해야 합니다", "상위 단위에 ‘검토자’ 역할을 맡은 사람이 없습니다"),
    ],
)  # fmt: skip
def test_an_escalation_with_nobody_above_does_not_say_it_was_escalated(
    labels: RegistryLabels, lang: str, subject: str, lead: str, why: str
) -> None:
    """At the top of the tree the timer finds nobody to escalate to: the task stays
    where it was (level 0, the same unit). The e-mail said "escalated to <its own
    unit> (level 0)"; it says what happened, with the note's reason below."""
    payload = {
        **REMIND,
        "unit": "fed",
        "unit_name": "Federation",
        "note": {"code": "escalation_at_top", "params": {"role": "reviewer"}},
    }
    out = render("escalate", payload, ctx(lang, labels))
    assert out.subject == f"[planflow] {subject}"
    assert lead in out.body and why in out.body
    level = {"en": "Escalation level", "zh": "上报级别", "ko": "상위 보고 단계"}[lang]
    assert level not in out.body and "(level" not in out.body and "第 0 级" not in out.body


@pytest.mark.parametrize(
    ("lang", "subject", "lead", "moved_to"),
    [
        ("en", "Now waiting for you: “Branch A plan”", "now waits for you at Union Two:",
         "Now at: Union Two (union2)"),
        ("zh", "待您处理：计划「Branch A plan」", "现改由Union Two处理",
         "现由：Union Two (union2)"),
        ("ko", "처리 대기: 계획 ‘Branch A plan’", "이제 Union Two에 배정",
         "현재 담당: Union Two (union2)"),
    ],
)  # fmt: skip
def test_a_task_moved_with_its_unit(
    labels: RegistryLabels, lang: str, subject: str, lead: str, moved_to: str
) -> None:
    payload = {**REMIND, "unit": "union2", "unit_name": "Union Two", "from_unit": "union"}
    out = render("reroute", payload, ctx(lang, labels))
    assert out.subject == f"[planflow] {subject}"
    assert lead in out.body and moved_to in out.body
    assert {"en": "Submitted", "zh": "已提交", "ko": "제출됨"}[lang] in out.body


@pytest.mark.parametrize(
    ("lang", "subject", "lead"),
    [
        ("en", "Please act on “Branch A plan”", "Chair A asks you to act on the plan"),
        ("zh", "催办：计划「Branch A plan」", "Chair A催促您办理计划「Branch A plan」"),
        ("ko", "처리 독촉: 계획 ‘Branch A plan’", "Chair A 님이 ‘제출됨’ 상태인"),
    ],
)
def test_an_urge(labels: RegistryLabels, lang: str, subject: str, lead: str) -> None:
    payload = {**REMIND, "actor": 5, "comment": "The congress is in April."}
    out = render("urge", payload, ctx(lang, labels), actor_name="Chair A")
    assert out.subject == f"[planflow] {subject}"
    assert lead in out.body and "The congress is in April." in out.body
    assert "2027" in out.body  # the due time


@pytest.mark.parametrize(
    ("lang", "subject", "lead"),
    [
        ("en", "Returned to “Draft”: “Branch A plan”", "Reviewer returned the plan"),
        ("zh", "已退回到“草稿”：计划「Branch A plan」", "Reviewer已将计划「Branch A plan」退回"),
        ("ko", "‘초안’ 단계로 되돌려짐: 계획 ‘Branch A plan’", "Reviewer 님이 계획"),
    ],
)
def test_a_return_to_an_earlier_step(
    labels: RegistryLabels, lang: str, subject: str, lead: str
) -> None:
    payload = {
        **TRANSITION,
        "actor": 5,
        "from": "under_review",
        "to": "draft",
        "comment": "Add the budget.",
    }
    out = render("returned", payload, ctx(lang, labels), actor_name="Reviewer")
    assert out.subject == f"[planflow] {subject}"
    assert lead in out.body and "Add the budget." in out.body


def test_a_former_trigger_name_is_labelled_as_its_trigger(labels: RegistryLabels) -> None:
    payload = {**TRANSITION, "action": "withdraw", "from": "draft", "to": "abandoned"}
    out = render("transition", payload, ctx("zh", labels))
    assert "作废" in out.subject and "撤回" not in out.subject


@pytest.mark.parametrize(
    "kind", ["transition", "remind", "escalate", "reroute", "urge", "returned", "surprise", ""]
)
@pytest.mark.parametrize("payload", BAD_PAYLOADS)
@pytest.mark.parametrize("lang", [*LANGUAGES, "fr", ""])
def test_rendering_never_crashes(
    labels: RegistryLabels, kind: str, payload: Any, lang: str
) -> None:
    out = render(kind, payload, ctx(lang, labels), plan_id=3)
    assert out.subject.startswith("[planflow] ") and "\n" not in out.subject
    assert out.body.endswith("\n")


def test_unknown_workflow_state_and_action_fall_back_to_raw_names(
    labels: RegistryLabels, tmp_path: Path
) -> None:
    payload = {**TRANSITION, "workflow": "gone", "action": "leap", "to": "limbo"}
    assert "：leap（limbo）" in render("transition", payload, ctx("zh", labels)).subject
    known = {**TRANSITION, "action": "leap", "to": "limbo"}
    assert "leap (limbo)" in render("transition", known, ctx("en", labels)).subject
    # A definitions folder that does not load at all: still raw names, no error.
    broken = RegistryLabels(DefinitionRegistry(tmp_path / "missing"))
    assert (
        "return_for_revision (returned)"
        in render("transition", TRANSITION, ctx("en", broken)).subject
    )


def test_languages() -> None:
    assert [language_of(x) for x in ["zh-CN", "zh_Hans", "KO", "ko-KR", "fr", "", None]] == [
        "zh", "zh", "ko", "ko", "en", "en", "en",
    ]  # fmt: skip
    assert (
        render("remind", REMIND, ctx("fr")).subject == render("remind", REMIND, ctx("en")).subject
    )


def test_link_only_with_a_base_url_and_a_plan() -> None:
    with_url = ctx("en", base_url="https://pf.example.org/")
    assert "https://pf.example.org/plans/7" in render("remind", REMIND, with_url, plan_id=7).body
    assert "http" not in render("remind", REMIND, with_url).body
    assert "http" not in render("remind", REMIND, ctx("en"), plan_id=7).body


def test_times_are_shown_in_the_deployment_zone() -> None:
    assert format_time(AT, "en") == "4 Jan 2027, 08:00 UTC"
    assert format_time(AT, "zh", ZoneInfo("Asia/Shanghai")) == "2027年1月4日 16:00（Asia/Shanghai）"
    assert format_time(AT, "ko", ZoneInfo("Asia/Seoul")) == "2027년 1월 4일 17:00 (Asia/Seoul)"


def test_a_line_break_in_a_title_cannot_add_headers() -> None:
    payload = {**REMIND, "title": "Plan\r\nBcc: someone@evil.example"}
    out = render("remind", payload, ctx("en"))
    assert "\n" not in out.subject and "\r" not in out.subject
    msg = compose(out, sender="pf@example.org", to=Address("", "a", "example.org"),
                  language="en", message_id="<1@example.org>", at=AT)  # fmt: skip
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None


def test_digest(labels: RegistryLabels) -> None:
    items = [
        DigestItem("transition", TRANSITION, 7, AT, "Li Wei"),
        DigestItem("remind", REMIND, 8, AT),
        DigestItem("escalate", {}, None, AT),
    ]
    c = ctx("zh", labels, base_url="https://pf.example.org", recipient_name="王芳")
    out = render_digest(items, c, day=date(2027, 1, 4), more=2)
    assert out.subject == "[planflow] 2027-01-04 每日汇总：共 5 条通知"
    assert out.body.startswith("王芳，您好：")
    assert "• 2027-01-04 08:00 — 计划「Branch A plan」：退回修改" in out.body
    assert "    意见：Item 2 needs a date" in out.body
    assert "https://pf.example.org/plans/7" in out.body and "/plans/8" in out.body
    assert "另有 2 条" in out.body
    one = render_digest(items[:1], ctx("en"), day=date(2027, 1, 4))
    assert one.subject == "[planflow] Daily summary for 2027-01-04: 1 notification"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_mime_round_trip(labels: RegistryLabels, lang: str) -> None:
    out = render("transition", TRANSITION, ctx(lang, labels, recipient_name="김민준"))
    msg = compose(
        out,
        sender="Planflow <pf@example.org>",
        to=Address("김민준", "min", "example.org"),
        language=lang,
        message_id="<planflow.notification.1@example.org>",
        at=AT,
    )
    raw = msg.as_bytes()
    assert raw.isascii()  # headers RFC 2047-encoded, body base64 / quoted-printable
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == out.subject
    assert parsed.get_content() == out.body
    assert parsed["To"].addresses[0].display_name == "김민준"
    assert parsed["Content-Language"] == lang
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"] == "<planflow.notification.1@example.org>"
    assert parsed.get_content_charset() == "utf-8"


def test_rendering_and_settings_are_pure() -> None:
    """No database, ORM or web framework behind the words (the project's purity rule)."""
    root = Path(__file__).resolve().parent.parent / "src" / "planflow" / "integrations" / "mail"
    forbidden = ("sqlalchemy", "sqlmodel", "psycopg", "flask", "smtplib", "socket")
    offenders = []
    for name in ("messages.py", "texts.py", "settings.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [("." * node.level) + (node.module or "")]
            else:
                continue
            offenders += [
                f"{name} imports {m}"
                for m in modules
                if m.startswith(forbidden) or "storage" in m or "definitions" in m
            ]
    assert offenders == []


@pytest.mark.parametrize(
    ("lang", "away", "still"),
    [
        ("en", "Overdue and escalated above you: “Branch A plan”", "You may still act on it."),
        ("zh", "已超期并上报至上级：计划「Branch A plan」", "您仍可继续办理。"),
        ("ko", "기한 초과로 상급 단위에 보고됨: 계획 ‘Branch A plan’", "계속 직접 처리할"),
    ],
)
def test_escalated_away_from_you_says_so(
    labels: RegistryLabels, lang: str, away: str, still: str
) -> None:
    m = render("escalated_away", ESCALATE, ctx(lang, labels))
    assert m.subject == f"[planflow] {away}"
    assert still in m.body and "Federation (fed)" in m.body
    assert m.subject != render("escalate", ESCALATE, ctx(lang, labels)).subject


HANDOVER = {
    **REMIND,
    "note": {"code": "transferred", "params": {"by": "reviewer", "to": "reviewer2"}},
}


@pytest.mark.parametrize(
    ("kind", "subjects"),
    [
        ("transfer", ("A task was handed over", "任务已转交", "업무가 이관되었습니다")),
        ("add_approver",
         ("You are asked to approve", "请您审批（加签）", "결재 요청(결재자 추가)")),
        ("cc", ("Copied to you", "抄送给您", "참조로 공유됨")),
        ("countersign", ("Your turn to approve", "轮到您审批", "결재 차례입니다")),
    ],
)  # fmt: skip
def test_handover_notices_have_their_own_subject_in_each_language(
    labels: RegistryLabels, kind: str, subjects: tuple[str, str, str]
) -> None:
    for lang, subject in zip(LANGUAGES, subjects, strict=True):
        m = render(kind, HANDOVER, ctx(lang, labels))
        assert m.subject.startswith(f"[planflow] {subject}"), (lang, m.subject)
        assert "Branch A plan" in m.subject
        generic = TEXTS[lang]["generic.lead"].format(title="Branch A plan", kind=kind)
        assert generic not in m.body, (lang, m.body)
    # The note says who handed it to whom, in the reader's language.
    assert "reviewer2" in render("transfer", HANDOVER, ctx("en", labels)).body


@pytest.mark.parametrize(
    ("lang", "subject", "lead"),
    [
        ("en", "Inspection visit date set: “Branch A plan”", "is set for 2027-02-14"),
        ("zh", "检查验收日期已确定：计划「Branch A plan」", "日期定为 2027-02-14"),
        ("ko", "점검 방문일 확정: 계획 ‘Branch A plan’", "2027-02-14(으)로 정해졌습니다"),
    ],
)
def test_the_visit_date_set_for_the_branch(
    labels: RegistryLabels, lang: str, subject: str, lead: str
) -> None:
    payload = {**REMIND, "visit_date": "2027-02-14", "previous": None}
    m = render("visit_planned", payload, ctx(lang, labels))
    assert m.subject == f"[planflow] {subject}"
    assert lead in m.body


@pytest.mark.parametrize(
    ("lang", "subject"),
    [
        ("en", "Ready to submit: “Branch A plan”"),
        ("zh", "可以提交：计划「Branch A plan」"),
        ("ko", "제출 준비 완료: 계획 ‘Branch A plan’"),
    ],
)
def test_the_draft_ready_notice_to_the_chair(
    labels: RegistryLabels, lang: str, subject: str
) -> None:
    m = render("draft_ready", {**REMIND, "state": "draft", "items": 3}, ctx(lang, labels))
    assert m.subject == f"[planflow] {subject}"
    assert TEXTS[lang]["draft_ready.lead"].format(title="Branch A plan") in m.body
