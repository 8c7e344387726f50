"""Each action in its own confirmed step; return to a chosen state; bulk from the queue.

On the plan page no action fires at once: its button opens a step with the
reason (required for a return) and a Confirm button; after it the page says
what happened and offers the next plan of the queue. The review queue takes
a selection to a confirmation page, then lists each plan done or refused.
Both databases.
"""

from __future__ import annotations

import re

from flask import Flask
from webui_support import AuthActions, Plans, WebClient, signed_in, text


def test_approve_goes_through_a_confirmation_then_offers_the_next_plan(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    first, second = plans.under_review(), plans.under_review()
    auth.login("reviewer")
    page = text(client.get(f"/plans/{first}"))
    assert 'name="comment"' not in page.split('id="content-h"')[0]  # no shared comment box
    step = client.get(f"/plans/{first}/step/approve?expected_version={plans.version(first)}")
    assert step.status_code == 200 and "Please confirm: Approve." in text(step)
    assert plans.state(first) == "under_review"  # opening the step changes nothing
    done = client.post_form(
        f"/plans/{first}/step/approve", {"expected_version": str(plans.version(first))}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("?done=1")
    after = text(client.get(done.headers["Location"]))
    assert "Done: Approve. The plan is now: Approved." in after
    assert re.search(rf'href="/plans/{second}">Next in queue<', after)


def test_an_action_the_workflow_does_not_know_is_not_found(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    """/plans/N/step/frobnicate used to show the page of "return to a chosen step"
    with a live Confirm button (found by a new user's walk)."""
    plan_id = plans.under_review()
    auth.login("reviewer")
    version = plans.version(plan_id)
    for action in ("frobnicate", "bogus"):
        page = client.get(f"/plans/{plan_id}/step/{action}?expected_version={version}")
        assert page.status_code == 404 and "Please confirm" not in text(page)
        sent = client.post_form(
            f"/plans/{plan_id}/step/{action}", {"expected_version": str(version)}
        )
        assert sent.status_code == 404
    assert plans.state(plan_id) == "under_review"
    assert client.get(f"/plans/{plan_id}/step/approve").status_code == 200


def test_the_return_step_asks_the_reason_and_where_to(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    step = text(client.get(f"/plans/{plan_id}/step/return_for_revision"))
    for value in ('value=""', 'value="draft"', 'value="submitted"'):
        assert f'type="radio" name="target" {value}' in step
    version = str(plans.version(plan_id))
    url = f"/plans/{plan_id}/step/return_for_revision"
    missing = client.post_form(url, {"expected_version": version, "target": "draft"})
    assert missing.status_code == 422 and "A comment giving the reason is required." in text(
        missing
    )
    # A target the definition does not allow (an old page, a crafted form): refused,
    # worded in each language, nothing written.
    wordings = set()
    for lang in ("en", "zh", "ko"):
        client.post_form("/auth/language", {"language": lang})
        wrong = client.post_form(
            url, {"expected_version": version, "target": "approved", "comment": "x"}
        )
        assert wrong.status_code == 422
        found = re.search(r'<div class="alert" role="alert"><p>(.*?)</p>', text(wrong))
        assert found is not None
        wordings.add(found.group(1))
    assert len(wordings) == 3 and plans.state(plan_id) == "under_review"
    client.post_form("/auth/language", {"language": "en"})
    done = client.post_form(
        url, {"expected_version": version, "target": "draft", "comment": "Add the budget."}
    )
    assert done.status_code == 302 and plans.state(plan_id) == "draft"
    chair = signed_in(app, "chair_a")
    assert "Add the budget." in text(chair.get("/notifications/"))


def test_bulk_from_the_queue_confirms_then_lists_each_plan(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    fresh, stale = plans.under_review(), plans.under_review()
    auth.login("reviewer")
    queue = text(client.get("/reviews/"))
    items = re.findall(r'name="plan" value="(\d+@\d+)"', queue)
    assert {i.split("@")[0] for i in items} >= {str(fresh), str(stale)}
    picked = [i for i in items if i.split("@")[0] in (str(fresh), str(stale))]
    confirm = client.post_form("/reviews/bulk", {"action": "approve", "plan": picked})
    assert confirm.status_code == 200 and 'name="confirmed" value="1"' in text(confirm)
    assert plans.state(fresh) == plans.state(stale) == "under_review"  # nothing yet
    plans.pf.content.add_comment(stale, "Meanwhile.", actor="reviewer2")
    done = client.post_form(
        "/reviews/bulk", {"action": "approve", "plan": picked, "confirmed": "1", "comment": "OK"}
    )
    page = text(done)
    assert done.status_code == 200 and "Result" in page
    assert plans.state(fresh) == "approved" and plans.state(stale) == "under_review"
    assert "Approved" in page and "Someone else changed this plan" in page
    empty = client.post_form("/reviews/bulk", {"action": "approve"})
    assert empty.status_code == 422
    bad = client.post_form("/reviews/bulk", {"action": "approve", "plan": ["1@x"]})
    assert bad.status_code == 422


def test_a_notice_says_who_did_what_and_opening_it_marks_it_read(app: Flask, plans: Plans) -> None:
    plan_id = plans.under_review()
    plans.pf.return_to(plan_id, "draft", "reviewer", "Add the budget.")
    chair = signed_in(app, "chair_a")
    page = text(chair.get("/notifications/"))
    assert "Reviewer returned the plan to: Draft" in page and "Add the budget." in page
    found = re.search(r'href="(/notifications/(\d+)/open\?plan=\d+)"', page)
    assert found is not None
    opened = chair.get(found.group(1))
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/plans/{plan_id}")
    (entry,) = [n for n in plans.pf.inbox.notifications("chair_a") if n.id == int(found.group(2))]
    assert entry.read_at is not None
    assert chair.get(f"/notifications/{int(found.group(2)) + 999}/open").status_code == 404


def test_bulk_return_to_a_chosen_state_from_the_queue(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    """The return's confirmation offers the earlier states every selected plan may go
    back to (``allows: return_to``); each plan goes there through its own return."""
    first, second = plans.under_review(), plans.under_review("branch_b")
    auth.login("reviewer")
    items = re.findall(r'name="plan" value="(\d+@\d+)"', text(client.get("/reviews/")))
    picked = [i for i in items if i.split("@")[0] in (str(first), str(second))]
    confirm = text(client.post_form("/reviews/bulk", {"action": "return", "plan": picked}))
    offered = re.findall(r'name="return_to" value="(\w*)"', confirm)
    assert offered == ["", "draft", "submitted"]
    assert plans.state(first) == plans.state(second) == "under_review"
    done = client.post_form(
        "/reviews/bulk",
        {
            "action": "return",
            "plan": picked,
            "confirmed": "1",
            "comment": "Start again from the draft.",
            "return_to": "draft",
        },
    )
    assert done.status_code == 200
    assert plans.state(first) == plans.state(second) == "draft"
    trail = plans.pf.audit_trail(first)[-1]
    assert (trail.to_state, trail.comment) == ("draft", "Start again from the draft.")


def test_bulk_return_to_a_state_not_allowed_is_refused_per_plan(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    items = re.findall(r'name="plan" value="(\d+@\d+)"', text(client.get("/reviews/")))
    picked = [i for i in items if i.split("@")[0] == str(plan_id)]
    for target in ("approved", "nowhere"):
        done = client.post_form(
            "/reviews/bulk",
            {"action": "return", "plan": picked, "confirmed": "1", "comment": "No.",
             "return_to": target},
        )  # fmt: skip
        assert done.status_code == 200, target
        assert "This action was refused: The plan cannot be returned to" in text(done), target
        assert plans.state(plan_id) == "under_review"


def test_bulk_return_to_no_state_at_all_is_422_naming_the_field(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    items = re.findall(r'name="plan" value="(\d+@\d+)"', text(client.get("/reviews/")))
    picked = [i for i in items if i.split("@")[0] == str(plan_id)]
    for target in ("x" * 200, "Draft!", "../draft"):
        done = client.post_form(
            "/reviews/bulk",
            {"action": "return", "plan": picked, "confirmed": "1", "comment": "No.",
             "return_to": target},
        )  # fmt: skip
        assert done.status_code == 422, target
        assert "Return to: Choose one of the states offered" in text(done), target
        assert plans.state(plan_id) == "under_review"
