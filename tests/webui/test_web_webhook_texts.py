"""The webhook pages in the admin's language: events and delivery statuses are words.

A new admin reading the page in Chinese or Korean met bare wire names
(``plan.state_changed``) beside the check boxes and English statuses
(``pending``) in the delivery log. Each event now reads as a sentence in the
reader's language with its wire name after it (programmers of the receiver
still need it), and each status as a word; the person's own channel page
words its events the same way.
"""

from __future__ import annotations

import re

from databases import in_languages
from flask import Flask
from test_web_admin_support import Admins
from webui_support import signed_in, text

from planflow.core.webhooks import EVENT_TYPES

HOOK = {
    "unit": "union",
    "kind": "webhook",
    "url": "http://127.0.0.1:9/h",
    "events": ["plan.comment", "task.created"],
    "language": "en",
    "allow_private": "y",
}
#: Per language: the two events' labels and the status of a delivery not sent yet.
WORDED = {
    "zh": ("有人对计划发表了意见 (plan.comment)", "计划等待某人处理 (task.created)", "等待发送"),
    "ko": (
        "누군가 계획에 의견을 남김 (plan.comment)",
        "계획이 누군가의 처리를 기다림 (task.created)",
        "발송 대기",
    ),
    "en": (
        "Someone commented on a plan (plan.comment)",
        "A plan waits for someone (task.created)",
        "waiting to be sent",
    ),
}


def _labels(page: str, field: str) -> list[str]:
    """The words beside each check box of a field, in order."""
    return re.findall(rf'<input[^>]*name="{field}"[^>]*>\s*<label[^>]*>([^<]*)</label>', page)


# The webhook and its delivery are written and read back on both databases (in
# Chinese on PostgreSQL); the other languages are words, the same on both.
@in_languages("language", ["zh", "ko", "en"])
def test_the_admin_reads_events_and_statuses_in_their_language(
    app: Flask, admins: Admins, language: str
) -> None:
    pf = admins.pf
    admin = signed_in(app, "union_admin")
    admin.post_form("/auth/language", {"language": language})
    form = text(admin.get("/admin/webhooks/"))
    labels = _labels(form, "events")
    assert len(labels) == len(EVENT_TYPES)
    for event, label in zip(EVENT_TYPES, labels, strict=True):
        assert label.endswith(f"({event})") and label != f"({event})", label
    assert 'class="checks"' in form  # the boxes stand beside their words, not under them
    comment, created, pending = WORDED[language]
    assert comment in labels and created in labels

    assert admin.post_form("/admin/webhooks/add", HOOK).status_code == 201
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    pf.content.add_comment(plan_id, "hello", actor="drafter_a")
    page = text(admin.get("/admin/webhooks/"))
    hooks = page.split('id="add-h"')[0]
    assert comment in hooks and created in hooks  # the list of webhooks
    log = page.split('id="log-h"')[1]
    assert comment in log  # the delivery log: the event and its status, worded
    assert f"<td>{pending}</td>" in log


def test_a_persons_own_channel_words_its_events(app: Flask, admins: Admins) -> None:
    admins.pf.webhooks.set_user_channels(True)
    reviewer = signed_in(app, "reviewer")
    reviewer.post_form("/auth/language", {"language": "ko"})
    page = text(reviewer.get("/notifications/channel/"))
    labels = _labels(page, "events")
    assert labels and all(re.search(r"[\uac00-\ud7a3].* \([a-z_.]+\)$", label) for label in labels)
    form = {"kind": "webhook", "url": "https://93.184.216.34/hook", "events": ["task.created"],
            "language": "en"}  # fmt: skip
    assert reviewer.post_form("/notifications/channel/add", form).status_code in (201, 302)
    page = text(reviewer.get("/notifications/channel/"))
    assert "계획이 누군가의 처리를 기다림 (task.created)" in page.split('id="add-h"')[0]
