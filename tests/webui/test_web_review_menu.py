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


def test_a_deputy_without_a_review_role_gets_the_queue_only_while_it_holds_work(
    app: Flask, pf: Planflow, plans: Plans
) -> None:
    """A drafter standing in for a reviewer away (委托): no menu entry while the
    reviewer has nothing open, the entry and the task in the queue while they do,
    none again once it is done. Standing in for a drafter adds no queue: that
    work is in "My work"."""
    deputy = signed_in(app, "drafter_b")
    pf.delegations.add("reviewer", "drafter_b", "2027-01-04", "2027-01-10")
    assert not pf.has_review_queue("drafter_b")  # the reviewer has nothing open yet
    assert QUEUE_LINK not in text(deputy.get("/"))

    plan_id = plans.under_review(title="Reviewed by the deputy")
    assert pf.has_review_queue("drafter_b")
    for path in ("/", "/plans/"):
        assert QUEUE_LINK in text(deputy.get(path)), path
    queue = text(deputy.get("/reviews/"))
    assert 'id="for-others"' in queue and "Reviewed by the deputy" in queue

    plans.fire(plan_id, ("approve", "drafter_b"))
    last = pf.audit_trail(plan_id)[-1]
    assert (last.actor, last.on_behalf_of) == ("drafter_b", "reviewer")
    assert not pf.has_review_queue("drafter_b")
    assert QUEUE_LINK not in text(deputy.get("/"))

    # Standing in for a drafter whose returned plan waits: "My work", not the queue.
    returned = plans.under_review(title="Sent back")
    plans.fire(returned, ("return_for_revision", "reviewer", "Add dates."))
    pf.delegations.add("drafter_a", "chair_b", "2027-01-04", "2027-01-10")
    assert not pf.has_review_queue("chair_b")
    chair_b = signed_in(app, "chair_b")
    home = text(chair_b.get("/"))
    assert QUEUE_LINK not in home and "Sent back" in home
