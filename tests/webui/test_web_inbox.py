"""The dashboard (tasks, recent plans) and the notifications inbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from test_api import token
from webui_support import AuthActions, Plans, WebClient, signed_in, text

from planflow.app import Planflow
from planflow.clock import FixedClock


def test_dashboard_lists_my_tasks(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plans.submitted(title="Waiting for review")
    auth.login("reviewer")
    page = text(client.get("/"))
    assert "Waiting for review" in page
    assert "as reviewer" in page
    assert "Branch A 분회 · 2027" in page  # the unit by its name, not its code (branch_a)
    assert "Overdue" not in page


def test_overdue_tasks_are_marked(
    client: WebClient, auth: AuthActions, plans: Plans, clock: FixedClock
) -> None:
    plans.submitted(title="Late plan")
    clock.advance(timedelta(days=30))
    auth.login("reviewer")
    page = text(client.get("/"))
    assert "Late plan" in page
    assert 'class="card overdue"' in page
    assert "Overdue" in page


def test_dashboard_without_tasks(client: WebClient, auth: AuthActions) -> None:
    auth.login("officer")
    page = text(client.get("/"))
    assert "Nothing is waiting for you." in page
    assert "No plans yet." in page


def test_recent_plans_respect_visibility(app: Flask, plans: Plans) -> None:
    plans.create("branch_b", title="Branch B draft")
    plans.submitted(title="Branch A submitted")
    page = text(signed_in(app, "chair_a").get("/"))
    assert "Branch A submitted" in page and "Branch B draft" not in page


def _notification_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="notification" value="(\d+)"', html)]


def test_notifications_read_and_unread(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plans.submitted(title="First plan")
    plans.submitted("branch_b", title="Second plan")
    auth.login("reviewer")
    page = text(client.get("/notifications/"))
    assert "First plan" in page and "Second plan" in page
    assert "Plan changed" in page and "Submit: Submitted" in page
    assert re.search(r'class="count">2<', page)  # unread count in the menu
    client.post_form("/auth/language", {"language": "zh"})
    zh = text(client.get("/notifications/"))
    assert "：提交：已提交" in zh and ": 提交" not in zh  # the colons of Chinese
    client.post_form("/auth/language", {"language": "en"})
    first, second = _notification_ids(page)
    response = client.post_form("/notifications/read", {"notification": str(first)})
    assert response.status_code == 302
    page = text(client.get("/notifications/", query_string={"unread": "1"}))
    assert _notification_ids(page) == [second]
    assert re.search(r'class="count">1<', page)
    client.post_form("/notifications/read")
    page = text(client.get("/notifications/"))
    assert _notification_ids(page) == []
    assert 'class="count"' not in page


def test_someone_elses_notification_is_404(app: Flask, plans: Plans, pf: Planflow) -> None:
    plans.submitted()
    reviewer_notes = pf.inbox.notifications("reviewer")
    assert reviewer_notes
    intruder = signed_in(app, "chair_b")
    response = intruder.post_form(
        "/notifications/read", {"notification": str(reviewer_notes[0].id)}
    )
    assert response.status_code == 404
    assert pf.inbox.unread_count("reviewer") == len(reviewer_notes)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "99999999999999"])
def test_bad_notification_ids_are_400(client: WebClient, auth: AuthActions, value: str) -> None:
    auth.login("reviewer")
    assert client.post_form("/notifications/read", {"notification": value}).status_code == 400


@pytest.mark.parametrize("before", ["abc", "0", "99999999999999", "-1"])
def test_bad_paging_is_ignored(client: WebClient, auth: AuthActions, before: str) -> None:
    auth.login("reviewer")
    assert client.get("/notifications/", query_string={"before": before}).status_code == 200


def test_my_work_lists_a_plan_the_member_voted_on_apart_from_their_tasks(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    """A committee member who voted no longer has the task: "My work" lists the plan
    under "Waiting for others after your part", not among their tasks; the queue
    has it under "Elsewhere in your part of the tree"."""
    plan_id = plans.submitted(workflow="committee_plan", title="Committee plan 2027")
    member = signed_in(app, "member1")
    home = text(member.get("/"))
    assert 'id="followed"' not in home
    assert "Committee plan 2027" in home.split('id="recent-h"')[0]
    pf.fire(plan_id, "approve", "member1")
    home = text(member.get("/"))
    tasks, rest = home.split('id="followed-h"')
    assert f'/plans/{plan_id}"' not in tasks.split('id="tasks-h"')[1]
    followed = rest.split('id="recent-h"')[0]
    assert "Waiting for others after your part" in home and f'/plans/{plan_id}"' in followed
    assert "waiting for committee member" in followed
    assert "Branch A 분회 · 2027" in followed
    queue = text(member.get("/reviews/"))
    assert f'/plans/{plan_id}"' in queue.split('id="others-h"')[1]
    member.post_form("/auth/language", {"language": "zh"})
    assert "您已处理、等待他人处理" in text(member.get("/"))
    # Decided: no longer followed.
    pf.fire(plan_id, "approve", "member2")
    assert 'id="followed"' not in text(member.get("/"))


def test_the_api_lists_the_followed_plans(app: Flask, plans: Plans, pf: Planflow) -> None:
    api = app.test_client()
    plan_id = plans.submitted(workflow="committee_plan")
    headers = token(pf, "member1", "read")
    assert api.get("/api/v1/me/followed", headers=headers).get_json()["items"] == []
    pf.fire(plan_id, "approve", "member1")
    found = api.get("/api/v1/me/followed", headers=headers).get_json()["items"]
    assert [(t["plan_id"], t["role"]) for t in found] == [(plan_id, "committee")]
    mine = api.get("/api/v1/me/tasks", headers=headers).get_json()["items"]
    assert plan_id not in [t["plan_id"] for t in mine]
    assert api.get("/api/v1/me/followed").status_code == 401
