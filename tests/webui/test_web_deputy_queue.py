"""A deputy's tasks on "My work", the review queue and ``GET /api/v1/me/tasks`` /
``/me/review-queue`` (issue 17), marked for the person away; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from flask import Flask
from test_api import token
from webui_support import AuthActions, Plans, WebClient, signed_in, text

from planflow.app import Planflow

TODAY, WEEK = "2027-01-04", "2027-01-10"  # the suite's clock (conftest's T0)


def my_tasks(client: WebClient) -> str:
    """The "My tasks" part of "My work" (the recently changed plans follow it)."""
    return text(client.get("/")).split('id="recent-h"')[0]


def away(pf: Planflow, deputy: str = "officer") -> int:
    return pf.delegations.add("reviewer", deputy, TODAY, WEEK).id


def test_the_deputy_finds_the_task_on_my_work_and_the_queue_in_every_language(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    deputy = signed_in(app, "officer")
    assert f"/plans/{plan_id}" not in my_tasks(deputy)
    assert 'id="for-others"' not in text(deputy.get("/reviews/"))
    away(pf)
    home = my_tasks(deputy)
    assert f"/plans/{plan_id}" in home and "on behalf of Reviewer" in home
    queue = text(deputy.get("/reviews/"))
    assert 'id="for-others"' in queue and "Waiting for people you stand in for" in queue
    assert f"/plans/{plan_id}" in queue and "on behalf of Reviewer" in queue
    assert 'value="approve"' in text(deputy.get(f"/plans/{plan_id}"))  # same actions
    deputy.post_form("/auth/language", {"language": "zh"})
    assert "您代理的人待办的任务" in text(deputy.get("/reviews/"))
    assert "代Reviewer办理" in text(deputy.get("/"))
    deputy.post_form("/auth/language", {"language": "ko"})
    assert "부재자 대신 처리할 대기 업무" in text(deputy.get("/reviews/"))


def test_a_deputy_holding_the_role_sees_the_plan_once_as_theirs(
    app: Flask, auth: AuthActions, client: WebClient, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    away(pf, deputy="reviewer2")
    auth.login("reviewer2")
    home = my_tasks(client)
    assert home.count(f'/plans/{plan_id}"') == 1 and "on behalf of" not in home
    assert 'id="for-others"' not in text(client.get("/reviews/"))


def test_the_api_lists_them_with_on_behalf_of(app: Flask, plans: Plans, pf: Planflow) -> None:
    api = app.test_client()
    plan_id = plans.under_review()
    headers = token(pf, "officer", "read")
    mine: Any = api.get("/api/v1/me/tasks", headers=headers).get_json()["items"]
    assert plan_id not in [t["plan_id"] for t in mine]
    away(pf)
    mine = api.get("/api/v1/me/tasks", headers=headers).get_json()["items"]
    assert [(t["plan_id"], t["on_behalf_of"]) for t in mine if t["plan_id"] == plan_id] == [
        (plan_id, "reviewer")
    ]
    queue = api.get("/api/v1/me/review-queue", headers=headers).get_json()
    assert [(t["plan_id"], t["on_behalf_of"]) for t in queue["for_others"]] == [
        (plan_id, "reviewer")
    ]
    own = api.get("/api/v1/me/tasks", headers=token(pf, "reviewer", "read")).get_json()["items"]
    assert [t["on_behalf_of"] for t in own if t["plan_id"] == plan_id] == [None]
