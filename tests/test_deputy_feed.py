"""A deputy's calendar feed (委托): the tasks of the person away are marked as theirs.

The deputy's own feed lists the open tasks of the people they stand in for,
like "My work"; each such event says "on behalf of <name>" in its summary and
its description, in the feed owner's language, and keeps the task's UID (the
same task in the delegator's feed is the same event). Parsed back with
icalendar, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import Org
from icalendar import Calendar
from test_delegations import TODAY, in_review

from planflow.app import Planflow
from planflow.integrations.ics import to_ics


def vevents(pf: Planflow, secret: str) -> dict[str, dict[str, str]]:
    body = to_ics(pf.feeds.feed(secret), pf.clock.now())
    return {
        str(e["UID"]): {"summary": str(e["SUMMARY"]), "description": str(e.get("DESCRIPTION", ""))}
        for e in Calendar.from_ical(body).walk("VEVENT")
    }


@pytest.mark.parametrize(
    ("language", "summary", "description"),
    [
        (
            "en",
            "Due: Under review – Plan (on behalf of Reviewer)",
            "You act on behalf of Reviewer, as their deputy.",
        ),
        ("zh", "截止：审核中 – Plan（代Reviewer办理）", "您作为代理人代Reviewer办理。"),
        ("ko", "마감: 검토 중 – Plan (Reviewer 대리)", "Reviewer 님의 대리인으로 처리합니다."),
    ],
)
def test_the_deputys_feed_marks_the_task_on_behalf_of_the_person_away(
    pf: Planflow, org: Org, language: str, summary: str, description: str
) -> None:
    plan_id = in_review(pf)
    uid = f"plan-{plan_id}-task-under_review@planflow"
    pf.accounts.set_language(pf.user_id("drafter_b"), language)
    deputy = pf.feeds.create("drafter_b").secret
    own = pf.feeds.create("reviewer").secret
    assert uid not in vevents(pf, deputy)  # no one's deputy yet

    pf.delegations.add("reviewer", "drafter_b", TODAY, TODAY + timedelta(days=6))
    event = vevents(pf, deputy)[uid]
    assert event == {"summary": summary, "description": description}
    # The person away's own feed: the same event (same UID), not marked.
    mine = vevents(pf, own)[uid]
    assert "behalf" not in mine["summary"] and mine["description"] == ""

    # The task done, it leaves the deputy's feed.
    pf.fire(plan_id, "approve", "drafter_b")
    assert uid not in vevents(pf, deputy)


def test_a_deputy_holding_the_role_sees_their_own_task_unmarked(pf: Planflow, org: Org) -> None:
    plan_id = in_review(pf)
    pf.delegations.add("reviewer", "reviewer2", TODAY, TODAY + timedelta(days=6))
    event = vevents(pf, pf.feeds.create("reviewer2").secret)[
        f"plan-{plan_id}-task-under_review@planflow"
    ]
    # reviewer2 may act on it in their own right: it is theirs, as on "My work".
    assert event["summary"] == "Due: Under review – Plan" and event["description"] == ""
