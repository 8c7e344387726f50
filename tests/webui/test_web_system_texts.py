"""No English system text for Chinese and Korean readers of a rectified plan.

A plan goes through inspection, rectification and a second inspection. The
texts the system wrote on its way (the rectification points, by code in the
record) must reach the unit's chair in their own language on the plan page,
the timeline, the notification list and in the e-mails; in English they read
as before. Refusals shown on the plan page are translated by code too.

``test_no_english_system_text_reaches_a_reader_of_a_rectified_plan`` is the
done-when of issue 15, strictly: with every name people typed in Chinese, a
plan goes through inspection, rectification (reminded, then late and
escalated at the top) and acceptance, and no English word at all reaches a
zh or ko reader on the plan page, the timeline, the notifications, the
inspection sheet, the e-mails the outbox sends or the daily digest.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest
from databases import SQLITE_ONLY, in_languages
from flask import Flask
from sqlmodel import select
from webui_support import Plans, WebClient, signed_in, text

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.core.inspection.scoring import CriterionScore
from planflow.integrations.mail.labels import RegistryLabels
from planflow.integrations.mail.messages import (
    DigestItem,
    MailContext,
    render,
    render_digest,
)
from planflow.integrations.mail.outbox import Outbox
from planflow.integrations.mail.settings import SmtpSettings
from planflow.scheduling.deadline_processor import DeadlineProcessor
from planflow.storage.org_cache import bump_generation
from planflow.storage.tables import Unit, User

CODES = ("A1", "A2", "B1", "B2", "C1", "D1", "D2", "E1", "E2")
POINTS = (10, 10, 10, 10, 20, 10, 10, 10, 10)

#: What the system writes in English: none of it may reach a zh or ko reader.
ENGLISH = (
    "Rectify by",
    "mandatory criterion failed",
    "target missed",
    "scored 6 of 10",
    "inspector:",
    "is not enough",
    "you submitted this plan",
    "the inspection did not pass",
)
#: What the chair must read instead, per language.
#: A point names its criterion as the sheet does (code and text), not by the bare code.
EXPECTED = {
    "zh": (
        "请于2027年2月3日前完成整改",
        "B2 劳动合同签订率：必备项未达标",
        "未达到目标：签订率不少于 95%（实测 80）",
    ),
    "ko": (
        "2027년 2월 3일까지 시정하십시오",
        "B2 근로계약 체결률: 필수 항목 미충족",
        "목표 미달: 체결률 95% 이상 (측정값 80)",
    ),
    "en": (
        "Rectify by 2027-02-03",
        "B2 Labour contracts signed: mandatory criterion failed; "
        "target missed: contracts signed at least 95% (measured 80)",
        "E2 Activists among staff: scored 6 of 10; inspector: few activists",
    ),
}


def _rectified_plan(plans: Plans, pf: Planflow) -> int:
    """Inspected once (B2 and E2 fall short), rectified, inspected again and accepted."""
    plan_id = plans.under_review("branch_a", title="Work plan 2027")
    plans.fire(plan_id, ("approve", "reviewer"), ("schedule_inspection", "officer"))
    plans.fire(plan_id, ("inspect", "inspector"))
    scores = [CriterionScore(c, inspector_score=p) for c, p in zip(CODES, POINTS, strict=True)]
    scores[3] = CriterionScore("B2", inspector_score=10, measured=80)  # target 95%
    scores[8] = CriterionScore("E2", inspector_score=6, inspector_note="few activists")
    pf.inspections.record_scores(plan_id, scores, actor="inspector")
    pf.inspections.finish(plan_id, actor="inspector")
    assert plans.state(plan_id) == "rectification_required"
    plans.fire(plan_id, ("rectified", "chair_a"), ("inspect", "inspector"))
    full = [CriterionScore(c, inspector_score=p) for c, p in zip(CODES, POINTS, strict=True)]
    pf.inspections.record_scores(plan_id, full, actor="inspector")
    pf.inspections.finish(plan_id, actor="inspector")
    assert plans.state(plan_id) == "accepted"
    return plan_id


def _mails(pf: Planflow, username: str, lang: str) -> list[str]:
    """The e-mails of ``username``'s notifications, as the outbox renders them."""
    ctx = MailContext(language=lang, labels=RegistryLabels(pf.registry))
    found = pf.inbox.notifications(username)
    assert found
    out = []
    for n in found:
        mail = render(n.kind, n.payload, ctx, plan_id=n.plan_id)
        out.append(mail.subject + "\n" + mail.body)
    return out


def _pages(app: Flask, plan_id: int, lang: str) -> dict[str, str]:
    chair: WebClient = signed_in(app, "chair_a")
    chair.post_form("/auth/language", {"language": lang})
    return {
        "timeline": text(chair.get(f"/plans/{plan_id}/timeline")),
        "notifications": text(chair.get("/notifications/")),
    }


# The records are written and read back on both databases (in Chinese on
# PostgreSQL); the other languages are words, the same on both (tests/databases.py).
@in_languages("lang", ["zh", "ko", "en"])
def test_a_rectified_plan_speaks_the_readers_language(
    app: Flask, plans: Plans, pf: Planflow, lang: str
) -> None:
    plan_id = _rectified_plan(plans, pf)
    # The record keeps the English (for the command line) and the note (for everyone).
    record = next(r for r in pf.audit_trail(plan_id) if r.action == "require_rectification")
    assert record.comment is not None and record.comment.startswith("Rectify by 2027-02-03")
    assert dict(record.detail)["note"]["code"] == "rectify_by"

    pages = _pages(app, plan_id, lang)
    mails = [m for m in _mails(pf, "chair_a", lang) if EXPECTED[lang][0] in m]
    assert mails, "the rectification e-mail carries the points"
    for where, said in [*pages.items(), *(("mail", m) for m in mails)]:
        for expected in EXPECTED[lang]:
            assert expected.replace(">", "&gt;") in said or expected in said, (where, expected)
        if lang != "en":
            for english in ENGLISH:
                assert english not in said, (where, english)


@in_languages("lang", ["zh", "ko"])  # as above
def test_the_plan_page_shows_the_rectification_in_the_readers_language(
    app: Flask, plans: Plans, pf: Planflow, lang: str
) -> None:
    plan_id = plans.under_review("branch_a", title="Work plan 2027")
    plans.fire(plan_id, ("approve", "reviewer"), ("schedule_inspection", "officer"))
    plans.fire(plan_id, ("inspect", "inspector"))
    scores = [CriterionScore(c, inspector_score=p) for c, p in zip(CODES, POINTS, strict=True)]
    scores[3] = CriterionScore("B2", inspector_score=10, measured=80)
    scores[8] = CriterionScore("E2", inspector_score=6, inspector_note="few activists")
    pf.inspections.record_scores(plan_id, scores, actor="inspector")
    pf.inspections.finish(plan_id, actor="inspector")
    chair = signed_in(app, "chair_a")
    chair.post_form("/auth/language", {"language": lang})
    page = text(chair.get(f"/plans/{plan_id}"))
    for expected in EXPECTED[lang]:
        assert expected.replace(">", "&gt;") in page, expected
    for english in ENGLISH:
        assert english not in page, english


@SQLITE_ONLY  # words of a value it makes itself: no database is read
def test_old_records_keep_their_english_comment(plans: Plans, pf: Planflow, app: Flask) -> None:
    """A record from before notes has only the English comment: it is shown as it is."""
    from planflow_web.codes import payload_text, record_text

    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert record_text("Rectify by 2027-02-03: A2: x", "{}", None) == (
            "Rectify by 2027-02-03: A2: x"
        )
        payload: dict[str, Any] = {"comment": "Rectify by 2027-02-03: A2: x"}
        assert payload_text(payload, None) == "Rectify by 2027-02-03: A2: x"


@SQLITE_ONLY  # words of a value it makes itself: no database is read
@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "Overdue: nobody above to escalate it to"), ("zh", "已超期：上级无人可接收上报"),
     ("ko", "기한 초과: 상위 보고를 받을 상급 담당자 없음")],
)  # fmt: skip
def test_an_escalation_with_nobody_above_is_not_called_escalated_to_you(
    app: Flask, lang: str, said: str
) -> None:
    """At the top of the tree the task stays with its holder: the notification list
    says so, not "Escalated to you" (which a real escalation still reads)."""
    from planflow_web.i18n import kind_label

    at_top = {"note": {"code": "escalation_at_top", "params": {"role": "reviewer"}}}
    with app.test_request_context(headers={"Accept-Language": lang}):
        app.preprocess_request()
        assert kind_label("escalate", at_top) == said
        assert kind_label("escalate", {"level": 2}) != said


@SQLITE_ONLY  # words of errors it makes itself: no database is read
def test_library_errors_are_described_by_code(app: Flask) -> None:
    from planflow.errors import GuardFailed, Refusal, ValidationError
    from planflow_web.errors import describe

    refused = GuardFailed("submit", [Refusal("items_without_due", {"count": 2})])
    empty = ValidationError("a comment cannot be empty", code="comment_empty")
    with app.test_request_context(headers={"Accept-Language": "ko"}):
        app.preprocess_request()
        assert "기한(날짜 또는 월)이 없는 항목이 2개 있습니다" in describe(refused)
        assert describe(empty) == "의견은 비워 둘 수 없습니다."
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        app.preprocess_request()
        assert describe(empty) == "意见不能为空。"
        # A code the catalogue does not know: the library's English, not nothing.
        odd = ValidationError("the moon is full", code="moon_full")
        assert describe(odd) == "the moon is full"


@SQLITE_ONLY  # words of errors it makes itself: no database is read
@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("wrong_state", {"what": "finish", "state": "accepted", "allowed": ["inspected"]}),
        ("work_closed", {"action": "report_progress", "state": "draft", "allowed": []}),
        ("content_locked", {"state": "accepted"}),
        ("unknown_status", {"status": "odd", "allowed": ["done"]}),
        ("measured_not_number", {}),
        ("invalid_scores", {"criteria": ["A1"]}),
        ("unknown_language", {"languages": ["en", "zh", "ko"]}),
    ],
)
def test_refusals_a_changed_page_meets_are_described_by_code(
    app: Flask, code: str, params: dict[str, Any]
) -> None:
    from planflow.errors import ValidationError
    from planflow_web.errors import describe

    error = ValidationError("an English sentence for the log", code=code, params=params)
    with app.test_request_context(headers={"Accept-Language": "ko"}):
        app.preprocess_request()
        said = describe(error)
    assert said != str(error) and not _WORD.search(said), said


# -- the done-when of issue 15, strictly: no English word at all ------------------------------

#: Chinese names for everything people typed, so that any English word left on a page
#: or in an e-mail was written by the system.
UNIT_NAMES = {
    "fed": "全国总工会",
    "union": "市总工会",
    "branch_a": "第一分会",
    "branch_b": "第二分会",
}
#: ASCII words a zh or ko reader may see: the product's name, the language switcher's own
#: name for English, the zone of the times in e-mails and the file format of an export.
#: Names and file kinds that Chinese and Korean software writes in Latin letters too.
ALLOWED = {"planflow", "English", "UTC", "CSV", "Excel", "Word", "docx", "xlsx"}
_WORD = re.compile(r"[A-Za-z]{3,}")
_URL = re.compile(r"https?://\S+")


class Captured:
    """A mail transport that keeps the messages."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)

    def close(self) -> None:
        pass


class Visible(HTMLParser):
    """What a reader sees of a page: its text and the words of title, alt and aria-label."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("title", "alt", "aria-label", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    reader = Visible()
    reader.feed(html)
    return " ".join(" ".join(reader.parts).split())


def english_words(said: str) -> set[str]:
    """The English words in ``said``, leaving out links and the units' codes (``branch_a``)."""
    said = _URL.sub(" ", said)
    for code in UNIT_NAMES:
        said = re.sub(rf"\b{code}\b", " ", said)
    return {w for w in _WORD.findall(said) if w not in ALLOWED}


def _in_chinese(pf: Planflow, lang: str) -> None:
    """Every unit and person gets a Chinese name (what people typed); everyone reads ``lang``."""
    with pf.session() as s:
        for unit in s.exec(select(Unit)):
            unit.name = UNIT_NAMES[unit.code]
            s.add(unit)
        for n, user in enumerate(s.exec(select(User).order_by(User.id)), 1):
            user.display_name = f"用户{n}号"
            user.language = lang
            s.add(user)
        bump_generation(s)


def _rectified_through_every_channel(plans: Plans, pf: Planflow, clock: FixedClock) -> int:
    """A plan in Chinese fails its inspection; its chair is reminded to rectify it."""
    drafter, chair = "drafter_a", "chair_a"
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title="2027年职工之家建设计划", actor=drafter
    )
    content = PlanContent(2027).add_section("会员发展", key="s1")
    content = content.add_item("s1", "发展新会员五十名", due=3, key="i1")
    content = content.add_item("s1", "开展职工培训", due=6, key="i2")
    pf.content.set_content(plan_id, content, actor=drafter, expected_version=None)
    plans.fire(plan_id, ("submit", chair), ("start_review", "reviewer"), ("approve", "reviewer"))
    plans.fire(plan_id, ("schedule_inspection", "officer"), ("inspect", "inspector"))
    scores = [CriterionScore(c, inspector_score=p) for c, p in zip(CODES, POINTS, strict=True)]
    scores[3] = CriterionScore("B2", inspector_score=10, measured=80)  # target 95%
    scores[8] = CriterionScore("E2", inspector_score=6, inspector_note="积极分子偏少")
    pf.inspections.record_scores(plan_id, scores, actor="inspector")
    pf.inspections.finish(plan_id, actor="inspector")
    assert plans.state(plan_id) == "rectification_required"
    # Rectify by 3 February: the chair is reminded on 29 January.
    clock.advance(timedelta(days=27))
    assert _deadlines(pf) == 1
    return plan_id


def _deadlines(pf: Planflow) -> int:
    """Run the deadline processor until it has nothing left; how many timers it handled."""
    handled = 0
    while done := DeadlineProcessor(pf.service, "test").run().applied:
        handled += done
    return handled


def _finish(plans: Plans, pf: Planflow, clock: FixedClock, plan_id: int) -> None:
    """Rectified; the second inspection is late (reminded late, escalated); accepted."""
    plans.fire(plan_id, ("rectified", "chair_a"))
    clock.advance(timedelta(days=31))
    assert _deadlines(pf) >= 2
    plans.fire(plan_id, ("inspect", "inspector"))
    full = [CriterionScore(c, inspector_score=p) for c, p in zip(CODES, POINTS, strict=True)]
    pf.inspections.record_scores(plan_id, full, actor="inspector")
    pf.inspections.finish(plan_id, actor="inspector")
    assert plans.state(plan_id) == "accepted"


def _pages_of(client: WebClient, plan_id: int, *, officer: bool = False) -> dict[str, str]:
    urls = {
        "plan page": f"/plans/{plan_id}",
        "timeline": f"/plans/{plan_id}/timeline",
        "notifications": "/notifications/",
        "inspection sheet": f"/inspections/plan/{plan_id}",
        "my work": "/",
        "plans": "/plans/",
    }
    if officer:
        urls |= {"inspection calendar": "/inspections/2027/2", "overview": "/overview/"}
    out = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        out[name] = visible(text(response))
    return out


def _sent_mails(pf: Planflow, clock: FixedClock, lang: str) -> dict[str, list[str]]:
    """Every notification as the outbox sends it, and each reader's digest, by username."""
    captured = Captured()
    settings = SmtpSettings("mail.invalid", "planflow@example.org", base_url="https://pf.example")
    box = Outbox(pf.db, clock, settings, pf.registry, "test", transport=captured)
    while box.run_once().sent:
        pass
    mails: dict[str, list[str]] = {}
    for message in captured.messages:
        body = message.get_body(("plain",))
        assert body is not None
        username = message["To"].addresses[0].username
        said = f"{message['Subject']}\n{body.get_content()}"
        mails.setdefault(username, []).append(said)
    labels = RegistryLabels(pf.registry)
    for username in ("chair_a", "inspector"):
        found = pf.inbox.notifications(username)
        ctx = MailContext(language=lang, labels=labels, recipient_name="读者")
        items = [DigestItem(n.kind, n.payload, n.plan_id, n.created_at) for n in found]
        digest = render_digest(items, ctx, day=clock.now().date())
        mails[username].append(f"{digest.subject}\n{digest.body}")
    return mails


# The whole journey on both databases in Chinese; in Korean, its words on SQLite.
@in_languages("lang", ["zh", "ko"])
def test_no_english_system_text_reaches_a_reader_of_a_rectified_plan(
    app: Flask, plans: Plans, pf: Planflow, clock: FixedClock, lang: str
) -> None:
    """The done-when of issue 15: plan page, timeline, notifications, e-mails, all in zh/ko."""
    _in_chinese(pf, lang)
    plan_id = _rectified_through_every_channel(plans, pf, clock)
    readers = {name: signed_in(app, name) for name in ("chair_a", "inspector", "officer")}
    for client in readers.values():
        client.post_form("/auth/language", {"language": lang})
    seen: dict[str, str] = {}
    for name, client in readers.items():
        for where, said in _pages_of(client, plan_id, officer=name == "officer").items():
            seen[f"{name}, {where}, while rectifying"] = said
    _finish(plans, pf, clock, plan_id)
    for name, client in readers.items():
        for where, said in _pages_of(client, plan_id, officer=name == "officer").items():
            seen[f"{name}, {where}, accepted"] = said
    for name, mails in _sent_mails(pf, clock, lang).items():
        for n, said in enumerate(mails):
            seen[f"{name}, e-mail {n}"] = said

    # Every channel was used: transitions, a reminder, a late reminder, an escalation
    # (and the chair heard the draft was ready to submit).
    kinds = {n.kind for who in ("chair_a", "inspector") for n in pf.inbox.notifications(who)}
    assert kinds == {"transition", "remind", "escalate", "draft_ready"}
    actions = [r.action for r in pf.audit_trail(plan_id)]
    assert {"remind", "escalation_at_top", "require_rectification", "accept"} <= set(actions)
    # What the system wrote on this plan's trail is there, in the reader's language ...
    chair = seen["chair_a, timeline, accepted"]
    for expected in EXPECTED[lang]:
        assert expected in chair, expected
    assert any(EXPECTED[lang][0] in said for where, said in seen.items() if "e-mail" in where)
    # ... and nobody reads a word of English anywhere.
    leaks = {where: english_words(said) for where, said in seen.items()}
    assert {where: words for where, words in leaks.items() if words} == {}
