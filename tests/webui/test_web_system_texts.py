"""No English system text for Chinese and Korean readers of a rectified plan.

A plan goes through inspection, rectification and a second inspection. The
texts the system wrote on its way (the rectification points, by code in the
record) must reach the unit's chair in their own language on the plan page,
the timeline, the notification list and in the e-mails; in English they read
as before. Refusals shown on the plan page are translated by code too.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from webui_support import Plans, WebClient, signed_in, text

from planflow.app import Planflow
from planflow.core.inspection.scoring import CriterionScore
from planflow.integrations.mail.labels import RegistryLabels
from planflow.integrations.mail.messages import MailContext, render

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
EXPECTED = {
    "zh": ("请于2027年2月3日前完成整改", "必备项未达标", "未达到目标：签订率 >= 95%（实测 80）"),
    "ko": (
        "2027년 2월 3일까지 시정하십시오",
        "필수 항목 미충족",
        "목표 미달: 체결률 >= 95% (측정값 80)",
    ),
    "en": (
        "Rectify by 2027-02-03",
        "B2: mandatory criterion failed; target missed: contracts signed >= 95% (measured 80)",
        "E2: scored 6 of 10; inspector: few activists",
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


@pytest.mark.parametrize("lang", ["zh", "ko", "en"])
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


@pytest.mark.parametrize("lang", ["zh", "ko"])
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


def test_old_records_keep_their_english_comment(plans: Plans, pf: Planflow, app: Flask) -> None:
    """A record from before notes has only the English comment: it is shown as it is."""
    from planflow_web.codes import payload_text, record_text

    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert record_text("Rectify by 2027-02-03: A2: x", "{}", None) == (
            "Rectify by 2027-02-03: A2: x"
        )
        payload: dict[str, Any] = {"comment": "Rectify by 2027-02-03: A2: x"}
        assert payload_text(payload, None) == "Rectify by 2027-02-03: A2: x"


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
