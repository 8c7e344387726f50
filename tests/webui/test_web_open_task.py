"""The review queue's "Review" button: a POST that opens the plan and starts its review
(``on_open:``); a GET of the plan page changes nothing."""

from __future__ import annotations

import re

from flask import Flask
from webui_support import Plans, signed_in, text

from planflow.app import Planflow


def test_the_review_button_starts_the_review_and_opens_the_plan(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.submitted(title="Branch A plan")
    reviewer = signed_in(app, "reviewer")
    page = text(reviewer.get("/reviews/"))
    match = re.search(rf'formaction="/reviews/open/{plan_id}" name="version" value="(\d+)"', page)
    assert match, page
    text(reviewer.get(f"/plans/{plan_id}"))
    assert plans.state(plan_id) == "submitted"  # reading the plan changes nothing
    response = reviewer.post_form(f"/reviews/open/{plan_id}", {"version": match.group(1)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/plans/{plan_id}")
    assert plans.state(plan_id) == "under_review"
    page = text(reviewer.get(f"/plans/{plan_id}"))
    assert "You are now reviewing “Branch A plan”." in page
    # Again (a second tab, say): nothing more happens.
    response = reviewer.post_form(f"/reviews/open/{plan_id}", {"version": match.group(1)})
    assert response.status_code == 302 and plans.state(plan_id) == "under_review"


def test_bad_requests_change_nothing(app: Flask, plans: Plans) -> None:
    plan_id = plans.submitted()
    reviewer = signed_in(app, "reviewer")
    assert reviewer.get(f"/reviews/open/{plan_id}").status_code == 405
    assert reviewer.post(f"/reviews/open/{plan_id}", data={}).status_code == 400  # no CSRF
    for garbage in ("x" * 50, "-1", "99999999999", ""):
        response = reviewer.post_form(f"/reviews/open/{plan_id}", {"version": garbage})
        assert response.status_code == 302  # the page opens; nothing is started blindly
    assert plans.state(plan_id) == "submitted"
    version = str(plans.version(plan_id))
    chair_b = signed_in(app, "chair_b")
    assert chair_b.post_form(f"/reviews/open/{plan_id}", {"version": version}).status_code == 404
    assert reviewer.post_form("/reviews/open/999999", {"version": "1"}).status_code == 404
    assert plans.state(plan_id) == "submitted"


def test_the_review_starts_with_words_in_the_readers_language(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    """The page says which plan is now under the reviewer's review, in zh and ko too."""
    said = {
        "zh": "您已开始审核计划「分会计划」。",
        "ko": "계획 ‘분회 계획’ 검토를 시작했습니다.",
    }
    for lang, words in said.items():
        plan_id = plans.submitted(title={"zh": "分会计划", "ko": "분회 계획"}[lang])
        reviewer = signed_in(app, "reviewer")
        reviewer.post_form("/auth/language", {"language": lang})
        version = str(plans.version(plan_id))
        opened = reviewer.post_form(
            f"/reviews/open/{plan_id}", {"version": version}, follow_redirects=True
        )
        page = text(opened)
        assert words in page, lang
        assert "You are now reviewing" not in page
        assert plans.state(plan_id) == "under_review"
