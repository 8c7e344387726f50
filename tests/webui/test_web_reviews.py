"""The review queue: what waits for a reviewer in their part of the tree, and in what order."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from stored import stored_plan
from webui_support import AuthActions, Plans, WebClient, signed_in, text

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.scheduling.deadline_processor import DeadlineProcessor


def section(html: str, heading_id: str) -> str:
    """The part of the page under one heading (up to the next section)."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="/plans/\d+">([^<]+)</a>', html)


def test_anonymous_is_sent_to_sign_in(client: WebClient) -> None:
    response = client.get("/reviews/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_the_reviewer_sees_what_waits_for_them(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plans.submitted(title="Plan of branch A")
    plans.under_review("branch_b", title="Plan of branch B")
    plans.create(title="A draft nobody reviews yet")
    auth.login("reviewer")
    page = text(client.get("/reviews/"))
    mine = section(page, "mine-h")
    assert sorted(titles(mine)) == ["Plan of branch A", "Plan of branch B"]
    assert "reviewer at Union" in mine
    assert "Under review" in mine and "Submitted" in mine
    assert "Branch A" in mine and "Branch B" in mine
    assert "A draft nobody reviews yet" not in page
    assert "Overdue" not in page
    # The plans list links to the queue.
    assert 'href="/reviews/"' in text(client.get("/plans/"))


def test_someone_without_reviews_sees_an_empty_queue(app: Flask, plans: Plans) -> None:
    plan_id = plans.under_review(title="Reviewed plan")
    plans.fire(plan_id, ("return_for_revision", "reviewer", "Add due dates."))
    plans.submitted("branch_b", title="Plan of branch B")
    # The returned plan waits for branch A's drafter: own-unit work, not a review.
    for user in ["drafter_a", "chair_a", "chair_b"]:
        page = text(signed_in(app, user).get("/reviews/"))
        assert "No plan is waiting for your review." in page
        assert titles(page) == []
        assert 'id="others-h"' not in page


def test_the_queue_shows_only_the_users_part_of_the_tree(app: Flask, plans: Plans) -> None:
    plans.submitted(title="Submitted by A")
    page = text(signed_in(app, "member1").get("/reviews/"))  # committee at the union
    assert titles(section(page, "mine-h")) == []
    # A committee member oversees the union's subtree: the plan waits for someone else.
    assert titles(section(page, "others-h")) == ["Submitted by A"]


def test_a_committee_member_sees_committee_reviews(app: Flask, plans: Plans) -> None:
    plan_id = plans.create(workflow="committee_plan", title="Committee plan")
    plans.fire(plan_id, ("submit", "chair_a"))
    page = text(signed_in(app, "member2").get("/reviews/"))
    mine = section(page, "mine-h")
    assert titles(mine) == ["Committee plan"]
    assert "committee member at Union" in mine


def test_escalated_first_then_overdue_then_oldest(
    app: Flask, plans: Plans, pf: Planflow, clock: FixedClock
) -> None:
    first = plans.submitted(title="Oldest")  # Monday 4 January, due 11 January
    clock.advance(timedelta(days=2))
    plans.submitted("branch_b", title="Newer")  # due 13 January
    clock.advance(timedelta(days=3))
    third = plans.submitted(title="Newest")  # Saturday 9 January, due 15 January
    reviewer = signed_in(app, "reviewer")
    assert titles(section(text(reviewer.get("/reviews/")), "mine-h")) == [
        "Oldest",
        "Newer",
        "Newest",
    ]
    # 13 January at noon: the oldest two are overdue and escalated to the federation.
    clock.advance(timedelta(days=4, hours=4))
    DeadlineProcessor(pf.service, "test").run()
    assert stored_plan(pf, first).task_level == 1
    assert stored_plan(pf, third).task_level == 0
    page = text(reviewer.get("/reviews/"))
    mine = section(page, "mine-h")
    assert titles(mine) == ["Oldest", "Newer", "Newest"]
    assert mine.count("Overdue") == 2
    assert mine.count("Escalated (level 1)") == 2
    assert "escalated to Federation" in mine
    # The federation's reviewer now has the escalated plans as their own task.
    fed = text(signed_in(app, "fed_reviewer").get("/reviews/"))
    assert titles(section(fed, "mine-h")) == ["Oldest", "Newer"]
    assert section(fed, "mine-h").count("escalated to you") == 2
    assert titles(section(fed, "others-h")) == ["Newest"]


def test_an_escalated_plan_comes_before_an_older_one(
    app: Flask, plans: Plans, pf: Planflow, clock: FixedClock
) -> None:
    older = plans.under_review(title="Under review, older")
    clock.advance(timedelta(days=1))
    plans.submitted("branch_b", title="Submitted later")
    # Submitted plans are due in 5 working days, reviews in 10: on 13 January the
    # later plan is escalated while the older one is still in time.
    clock.advance(timedelta(days=8))
    DeadlineProcessor(pf.service, "test").run()
    assert stored_plan(pf, older).task_level == 0
    page = text(signed_in(app, "reviewer").get("/reviews/"))
    assert titles(section(page, "mine-h")) == ["Submitted later", "Under review, older"]


def test_the_queue_in_korean(app: Flask, plans: Plans) -> None:
    plans.submitted(title="Plan for review")
    reviewer = signed_in(app, "reviewer")
    reviewer.post_form("/auth/language", {"language": "ko"})
    page = text(reviewer.get("/reviews/"))
    assert "검토 대기열" in page and "제출됨" in page
    assert "2027. 1." in page


@pytest.mark.parametrize("query", [{"page": "-1"}, {"state": "\x00"}, {"x": "9" * 40}])
def test_odd_queries_are_ignored(
    client: WebClient, auth: AuthActions, query: dict[str, str]
) -> None:
    auth.login("reviewer")
    assert client.get("/reviews/", query_string=query).status_code == 200


def test_long_queues_come_in_pages_of_50_and_each_list_keeps_its_page(
    app: Flask, plans: Plans, clock: FixedClock
) -> None:
    for n in range(55):
        plans.submitted(title=f"Plan {n:02d}")
        clock.advance(timedelta(minutes=1))
    reviewer = signed_in(app, "reviewer")
    first = section(text(reviewer.get("/reviews/")), "mine-h")
    assert "(55)" in first
    assert titles(first) == [f"Plan {n:02d}" for n in range(50)]
    assert "1–50 of 55" in first
    assert 'href="/reviews/?mine=2&amp;others=1"' in first
    second = section(text(reviewer.get("/reviews/?mine=2&others=1")), "mine-h")
    assert titles(second) == [f"Plan {n:02d}" for n in range(50, 55)]
    assert "51–55 of 55" in second and "Next page" not in second
    # A page past the end (the queue got shorter meanwhile) shows the last page.
    past = reviewer.get("/reviews/?mine=99")
    assert past.status_code == 200
    assert titles(section(text(past), "mine-h")) == [f"Plan {n:02d}" for n in range(50, 55)]


def test_the_queue_follows_a_change_of_roles_at_once(
    app: Flask, pf: Planflow, plans: Plans
) -> None:
    """The queue's statements are kept per set of roles held: new roles, new lists."""
    plans.submitted(title="Plan of branch A")
    officer = signed_in(app, "officer")

    def lists() -> tuple[list[str], list[str]]:
        page = text(officer.get("/reviews/"))
        return titles(section(page, "mine-h")), titles(section(page, "others-h"))

    assert lists() == ([], ["Plan of branch A"])
    with pf.session() as s:
        pf.org_repo.assign_role(s, "officer", "reviewer", "union")
    assert lists() == (["Plan of branch A"], [])
    with pf.session() as s:
        pf.org_repo.revoke_role(s, "officer", "reviewer", "union")
    assert lists() == ([], ["Plan of branch A"])
