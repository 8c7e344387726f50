"""The menu offers the review queue only to people whose queue can ever hold a plan.

A drafter or a branch chair used to find "Review queue" in the menu and, in
it, "0 waiting for you": their tasks (a returned plan's included) are in
"My work". The rule is the library's (``Planflow.has_review_queue``, built
from the queue's own lists), the menu only asks it.
"""

from __future__ import annotations

from flask import Flask
from webui_support import Plans, signed_in, text

from planflow.app import Planflow

QUEUE_LINK = 'href="/reviews/"'


def test_own_unit_people_have_no_queue_in_the_menu_and_find_a_return_in_my_work(
    app: Flask, pf: Planflow, plans: Plans
) -> None:
    plan_id = plans.under_review(title="Plan sent back")
    plans.fire(plan_id, ("return_for_revision", "reviewer", "Item 2 needs a date."))
    for username in ("drafter_a", "chair_a"):
        assert not pf.has_review_queue(username)
        client = signed_in(app, username)
        for path in ("/", "/plans/", f"/plans/{plan_id}"):
            page = text(client.get(path))
            assert QUEUE_LINK not in page, (username, path)
        # The queue itself still answers (an old bookmark), empty.
        assert client.get("/reviews/").status_code == 200
    # Where the returned plan's task shows: the drafter's "My work".
    my_work = text(signed_in(app, "drafter_a").get("/"))
    assert "Plan sent back" in my_work and "Nothing is waiting for you." not in my_work


def test_reviewers_deciders_and_overseers_keep_it(app: Flask, pf: Planflow, plans: Plans) -> None:
    plans.submitted(title="Waiting at the union")
    for username in ("reviewer", "fed_reviewer", "member1", "officer", "inspector"):
        assert pf.has_review_queue(username), username
        client = signed_in(app, username)
        assert QUEUE_LINK in text(client.get("/")), username
        assert QUEUE_LINK in text(client.get("/plans/")), username
    assert "Waiting at the union" in text(signed_in(app, "reviewer").get("/reviews/"))
