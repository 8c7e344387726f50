"""Transfer, add an approver and CC on the plan page (issue 17), on both databases."""

from __future__ import annotations

from flask import Flask
from webui_support import AuthActions, Plans, WebClient, signed_in, text


def test_the_holder_transfers_and_the_page_says_so(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    page = text(client.get(f"/plans/{plan_id}"))
    assert f'action="/plans/{plan_id}/transfer"' in page
    assert '<option value="reviewer2">' in page and '<option value="reviewer">' not in page
    done = client.post_form(f"/plans/{plan_id}/transfer", {"to": "reviewer2", "reason": ""})
    assert done.status_code == 302, text(done)
    page = text(client.get(done.headers["Location"]))
    assert "The task was transferred to Reviewer2." in page
    assert 'value="approve"' not in page  # no longer theirs
    other = signed_in(app, "reviewer2")
    other.post_form("/auth/language", {"language": "zh"})
    assert "任务已转交" in text(other.get("/notifications/"))
    assert 'value="approve"' in text(other.get(f"/plans/{plan_id}"))


def test_refusals_are_worded_and_write_nothing(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    version = plans.version(plan_id)
    auth.login("reviewer")
    refused = client.post_form(f"/plans/{plan_id}/transfer", {"to": "officer"})
    assert refused.status_code == 422
    assert "Officer is not a reviewer where this task waits." in text(refused)
    refused = client.post_form(f"/plans/{plan_id}/add-approver", {"user": "x", "mode": "sideways"})
    assert refused.status_code == 422
    refused = client.post_form(f"/plans/{plan_id}/cc", {"people": "chair_a"})
    assert refused.status_code == 302  # the submitter may be copied: they only read
    assert plans.version(plan_id) == version + 1


def test_a_copied_person_reads_the_plan_and_the_read_is_recorded(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    done = client.post_form(f"/plans/{plan_id}/cc", {"people": "chair_b, fed_reviewer"})
    assert done.status_code == 302, text(done)
    stranger = signed_in(app, "chair_b")
    assert stranger.get(f"/plans/{plan_id}").status_code == 200
    page = text(client.get(f"/plans/{plan_id}"))
    assert "Copied to:" in page and "not read yet" in page  # fed_reviewer has not
    assert page.count("not read yet") == 1
