"""Recall, abandon and urge on the plan page (issue 17), in en/zh/ko, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from test_web_plans import version_on_page
from webui_support import AuthActions, Plans, WebClient, signed_in, text

from planflow.app import Planflow
from planflow.clock import FixedClock


def act(client: WebClient, plan_id: int, action: str, version: int, comment: str = "") -> str:
    response = client.post_form(
        f"/plans/{plan_id}/act",
        {"action": action, "expected_version": str(version), "comment": comment},
    )
    assert response.status_code == 302, text(response)
    return text(client.get(response.headers["Location"]))


def test_recall_through_the_page_and_the_reviewer_is_told(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.submitted()
    auth.login("chair_a")
    page = text(client.get(f"/plans/{plan_id}"))
    assert re.search(r'value="recall">Recall<', page)
    page = act(client, plan_id, "recall", version_on_page(page))
    assert "Done: Recall. The plan is now: Draft." in page
    assert plans.state(plan_id) == "draft"
    reviewer = signed_in(app, "reviewer")
    inbox = text(reviewer.get("/notifications/"))
    assert "Recall: Draft" in inbox


def test_recall_too_late_is_disabled_and_says_who_and_when(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("chair_a")
    page = text(client.get(f"/plans/{plan_id}"))
    assert re.search(r'value="recall" disabled', page)
    assert "It is too late to recall the plan: Reviewer has already acted on it" in page
    assert "Start review" in page
    # Sent anyway (an old page): refused, nothing changes.
    version = plans.version(plan_id)
    refused = client.post_form(
        f"/plans/{plan_id}/act", {"action": "recall", "expected_version": str(version)}
    )
    assert refused.status_code == 422
    assert "too late to recall" in text(refused)
    assert plans.state(plan_id) == "under_review" and plans.version(plan_id) == version


def test_abandon_is_labelled_as_such_in_every_language(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.create()
    auth.login("chair_a")
    assert ">Abandon<" in text(client.get(f"/plans/{plan_id}"))
    client.post_form("/auth/language", {"language": "zh"})
    zh = text(client.get(f"/plans/{plan_id}"))
    assert ">作废<" in zh and ">撤回<" not in zh
    client.post_form("/auth/language", {"language": "ko"})
    assert ">폐기<" in text(client.get(f"/plans/{plan_id}"))
    client.post_form("/auth/language", {"language": "en"})
    page = act(client, plan_id, "abandon", plans.version(plan_id), "Merged.")
    assert "The plan is now: Abandoned." in page


def test_urge_once_then_the_button_says_when_again(
    app: Flask, pf: Planflow, clock: FixedClock, client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.submitted()
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}"))
    assert "Sends a reminder now to the 2 people the plan is waiting for." in page
    done = client.post_form(f"/plans/{plan_id}/urge")
    assert done.status_code == 302
    page = text(client.get(done.headers["Location"]))
    assert "Reminder sent to Reviewer, Reviewer2." in page
    assert re.search(r'<button type="submit" class="secondary" disabled[^>]*>Urge<', page)
    assert "you can urge again from" in page
    version = plans.version(plan_id)
    again = client.post_form(f"/plans/{plan_id}/urge")
    assert again.status_code == 422 and "you can urge again from" in text(again)
    assert plans.version(plan_id) == version
    reviewer = signed_in(app, "reviewer")
    reviewer.post_form("/auth/language", {"language": "zh"})
    assert "催办" in text(reviewer.get("/notifications/"))
    clock.advance(timedelta(hours=24))
    assert client.post_form(f"/plans/{plan_id}/urge").status_code == 302


def test_urge_is_offered_only_to_the_plans_own_side(app: Flask, plans: Plans) -> None:
    plan_id = plans.submitted()
    reviewer = signed_in(app, "reviewer")
    assert ">Urge<" not in text(reviewer.get(f"/plans/{plan_id}"))
    refused = reviewer.post_form(f"/plans/{plan_id}/urge")
    assert refused.status_code == 403
    stranger = signed_in(app, "drafter_b")
    assert stranger.post_form(f"/plans/{plan_id}/urge").status_code == 404
    assert stranger.post_form("/plans/999999/urge").status_code == 404
