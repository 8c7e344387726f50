"""Plans in the browser: who sees what, acting, commenting, creating, the timeline."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from stored import stored_plan
from webui_support import CSRF_RE, AuthActions, Plans, WebClient, signed_in, text
from werkzeug.test import TestResponse

from planflow.app import Planflow


def version_on_page(html: str) -> int:
    match = re.search(r'name="expected_version" value="(\d+)"', html)
    assert match, "no action form on the page"
    return int(match.group(1))


# -- who sees what ----------------------------------------------------------------------


def test_own_unit_sees_its_draft(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plan_id = plans.create(title="Draft of branch A")
    auth.login("drafter_a")
    assert "Draft of branch A" in text(client.get("/plans/"))
    page = client.get(f"/plans/{plan_id}")
    assert page.status_code == 200
    assert "Item number 1" in text(page)


@pytest.mark.parametrize("user", ["chair_b", "drafter_b", "reviewer", "fed_reviewer", "officer"])
def test_a_draft_is_hidden_from_everyone_else(app: Flask, plans: Plans, user: str) -> None:
    plan_id = plans.create(title="Secret draft")
    browser = signed_in(app, user)
    assert "Secret draft" not in text(browser.get("/plans/"))
    assert "Secret draft" not in text(browser.get("/"))
    for path in [f"/plans/{plan_id}", f"/plans/{plan_id}/timeline"]:
        assert browser.get(path).status_code == 404
    response = browser.post_form(
        f"/plans/{plan_id}/act", {"action": "submit", "expected_version": "1"}
    )
    assert response.status_code == 404
    response = browser.post_form(f"/plans/{plan_id}/comments", {"body": "hello"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("user", "sees"),
    [
        ("chair_a", True),
        ("reviewer", True),  # union, the parent
        ("fed_reviewer", True),  # federation, above
        ("inspector", True),
        ("officer", True),
        ("member1", True),  # a definition's role (committee) at the union
        ("chair_b", False),  # a sibling branch
        ("drafter_b", False),
    ],
)
def test_a_submitted_plan_is_seen_up_the_tree_only(
    app: Flask, plans: Plans, user: str, sees: bool
) -> None:
    plan_id = plans.submitted(title="Submitted plan A")
    browser = signed_in(app, user)
    assert ("Submitted plan A" in text(browser.get("/plans/"))) is sees
    assert browser.get(f"/plans/{plan_id}").status_code == (200 if sees else 404)


def test_guessing_an_id_looks_like_a_missing_plan(app: Flask, plans: Plans) -> None:
    foreign = plans.submitted("branch_b")
    browser = signed_in(app, "chair_a")
    hidden, missing = browser.get(f"/plans/{foreign}"), browser.get("/plans/9999")
    assert hidden.status_code == missing.status_code == 404

    # The pages differ only in the address asked for and the signed CSRF token
    # (which carries a timestamp, so it changes when the second does).
    def page(response: TestResponse, path: str) -> str:
        return CSRF_RE.sub("", text(response).replace(path, ""))

    assert page(hidden, f"/plans/{foreign}") == page(missing, "/plans/9999")


def test_list_filters_and_bad_filters(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plans.submitted(title="Submitted one")
    plans.create(title="Still a draft")
    auth.login("chair_a")
    page = text(client.get("/plans/", query_string={"state": "draft"}))
    assert "Still a draft" in page and "Submitted one" not in page
    page = text(client.get("/plans/", query_string={"year": "2026"}))
    assert "No plans to show." in page
    for query in [{"state": "x\x00"}, {"year": "abc"}, {"page": "-5"}, {"page": "99999999999"}]:
        response = client.get("/plans/", query_string=query)
        assert response.status_code == 200


# -- the plan page and its actions --------------------------------------------------------


def test_plan_page_shows_content_actions_and_task(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    page = text(client.get(f"/plans/{plan_id}"))
    assert "Item number 2" in page and "1.2" in page
    assert 'value="start_review"' in page
    assert "Submitted" in page
    assert "reviewer at Union" in page
    assert version_on_page(page) == plans.version(plan_id)


def test_blocked_actions_say_why(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plan_id = plans.create(items=0)
    auth.login("chair_a")
    page = text(client.get(f"/plans/{plan_id}"))
    assert re.search(r'value="submit" disabled', page)
    assert "The plan has no items yet." in page


def test_submit_through_the_page(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plan_id = plans.create()
    auth.login("chair_a")
    version = version_on_page(text(client.get(f"/plans/{plan_id}")))
    response = client.post_form(
        f"/plans/{plan_id}/act", {"action": "submit", "expected_version": str(version)}
    )
    assert response.status_code == 302
    assert plans.state(plan_id) == "submitted"
    page = text(client.get(response.headers["Location"]))
    assert "Done: Submit. The plan is now: Submitted." in page


def test_returning_needs_a_reason_and_the_branch_sees_it(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    version = plans.version(plan_id)
    refused = client.post_form(
        f"/plans/{plan_id}/act",
        {"action": "return_for_revision", "expected_version": str(version), "comment": "  "},
    )
    assert refused.status_code == 422
    assert "A comment giving the reason is required." in text(refused)
    assert plans.state(plan_id) == "under_review"
    done = client.post_form(
        f"/plans/{plan_id}/act",
        {
            "action": "return_for_revision",
            "expected_version": str(version),
            "comment": "Item 1.2 needs a target.",
        },
    )
    assert done.status_code == 302
    assert plans.state(plan_id) == "returned"
    branch = signed_in(app, "drafter_a")
    page = text(branch.get(f"/plans/{plan_id}"))
    assert "Latest decision" in page and "Item 1.2 needs a target." in page


def test_a_stale_page_is_refused_and_keeps_the_comment(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    seen = version_on_page(text(client.get(f"/plans/{plan_id}")))
    # Meanwhile a colleague returns it.
    plans.fire(plan_id, ("return_for_revision", "reviewer2", "Faster than you."))
    response = client.post_form(
        f"/plans/{plan_id}/act",
        {"action": "approve", "expected_version": str(seen), "comment": "Looks good: well done"},
    )
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this plan" in page
    assert "Looks good: well done" in page  # nothing typed is lost
    assert "Returned for revision" in page  # the plan as it is now
    assert plans.state(plan_id) == "returned"


def test_stale_page_form_carries_the_new_version(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    seen = plans.version(plan_id)
    plans.pf.services.content.add_comment(plan_id, plans.pf.user_id("reviewer2"), "A note")
    response = client.post_form(
        f"/plans/{plan_id}/act", {"action": "start_review", "expected_version": str(seen)}
    )
    assert response.status_code == 409
    assert version_on_page(text(response)) == plans.version(plan_id)


def test_action_the_user_may_not_take(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plan_id = plans.create()
    auth.login("drafter_a")  # drafters draft; the chair submits
    response = client.post_form(
        f"/plans/{plan_id}/act",
        {"action": "submit", "expected_version": str(plans.version(plan_id)), "comment": "mine"},
    )
    assert response.status_code == 403
    assert "it needs the role of submitter" in text(response)
    assert "mine" in text(response)
    assert plans.state(plan_id) == "draft"


@pytest.mark.parametrize(
    "form",
    [
        {"action": "fly_away", "expected_version": "{v}"},
        {"action": "approve; drop table", "expected_version": "{v}"},
        {"action": "", "expected_version": "{v}"},
        {"action": "submit"},
        {"action": "submit", "expected_version": "abc"},
        {"action": "submit", "expected_version": "99999999999999"},
        {"action": "submit", "expected_version": "{v}", "comment": "bad\x00byte"},
        {"action": "submit", "expected_version": "{v}", "comment": "x" * 4001},
    ],
)
def test_bad_action_forms_are_refused(
    client: WebClient, auth: AuthActions, plans: Plans, form: dict[str, str]
) -> None:
    plan_id = plans.create()
    auth.login("chair_a")
    version = str(plans.version(plan_id))
    data = {k: v.replace("{v}", version) for k, v in form.items()}
    response = client.post_form(f"/plans/{plan_id}/act", data)
    assert response.status_code == 422
    assert plans.state(plan_id) == "draft"


def test_committee_approval_shows_who_approved_so_far(app: Flask, plans: Plans) -> None:
    plan_id = plans.submitted(workflow="committee_plan")
    first = signed_in(app, "member1")
    response = first.post_form(
        f"/plans/{plan_id}/act",
        {"action": "approve", "expected_version": str(plans.version(plan_id))},
    )
    assert response.status_code == 302
    page = text(first.get(response.headers["Location"]))
    assert "Your approval was recorded: 1 of 2." in page
    second = signed_in(app, "member2")
    page = text(second.get(f"/plans/{plan_id}"))
    assert "1 of 2 needed: Member1" in page
    second.post_form(
        f"/plans/{plan_id}/act",
        {"action": "approve", "expected_version": str(plans.version(plan_id))},
    )
    assert plans.state(plan_id) == "approved"


def test_changes_since_the_previous_submission(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    plans.fire(plan_id, ("return_for_revision", "reviewer", "Add a third item"))
    plans.set_items(plan_id, ["Item number 1", "Item number 2 changed", "A new item"], "drafter_a")
    plans.fire(plan_id, ("resubmit", "chair_a"))
    auth.login("reviewer")
    page = text(client.get(f"/plans/{plan_id}"))
    assert "Changes since the previous submission" in page
    assert "A new item" in page
    assert "Item number 2 → Item number 2 changed" in page


# -- comments ---------------------------------------------------------------------------


def test_commenting(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    response = client.post_form(f"/plans/{plan_id}/comments", {"body": "Please check 1.2"})
    assert response.status_code == 302
    page = text(client.get(f"/plans/{plan_id}"))
    assert "Please check 1.2" in page and "Reviewer" in page


@pytest.mark.parametrize("body", ["", "   ", "a\x00b", "x" * 4001])
def test_bad_comments_are_refused_and_kept(
    client: WebClient, auth: AuthActions, plans: Plans, body: str
) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    response = client.post_form(f"/plans/{plan_id}/comments", {"body": body})
    assert response.status_code == 422
    assert 'class="error"' in text(response)
    assert plans.pf.content.comments(plan_id) == []


# -- the timeline -----------------------------------------------------------------------


def test_timeline_says_who_did_what_when(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    plans.fire(plan_id, ("return_for_revision", "reviewer", "Needs targets"))
    pf.fire(plan_id, "resubmit", "chair_a", on_behalf_of="drafter_a")
    auth.login("chair_a")
    page = text(client.get(f"/plans/{plan_id}/timeline"))
    assert "Created the plan" in page
    assert "Edited the content" in page
    assert "Submit</strong>: Draft → Submitted" in page
    assert "Return for revision</strong>: Under review → Returned for revision" in page
    assert "Needs targets" in page
    assert "Reviewer" in page
    assert "Chair A on behalf of Drafter A" in page
    assert "Resubmit</strong>: Returned for revision → Submitted" in page
    assert "Jan 4, 2027" in page


def test_timeline_in_chinese(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plan_id = plans.under_review()
    auth.login("chair_a")
    client.post_form("/auth/language", {"language": "zh"})
    page = text(client.get(f"/plans/{plan_id}/timeline"))
    assert "已提交" in page and "审核中" in page


# -- creating ---------------------------------------------------------------------------


def test_create_a_plan(client: WebClient, auth: AuthActions, pf: Planflow) -> None:
    auth.login("drafter_a")
    form_page = text(client.get("/plans/new"))
    assert "Branch A" in form_page and "Branch B" not in form_page
    unit = re.search(r'<option value="(\d+)">Branch A', form_page)
    assert unit
    response = client.post_form(
        "/plans/new",
        {"workflow": "annual_plan", "unit": unit.group(1), "year": "2027", "title": "Our plan"},
    )
    assert response.status_code == 302
    plan_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert stored_plan(pf, plan_id).title == "Our plan"
    assert "The plan was created." in text(client.get(response.headers["Location"]))


def test_only_creators_may_open_the_form(app: Flask) -> None:
    assert signed_in(app, "reviewer").get("/plans/new").status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"year": "1999"}, "between 2000 and 2100"),
        ({"year": "next year"}, "Give the year as a number"),
        ({"title": ""}, "This field is required."),
        ({"title": "x" * 301}, "At most 300 characters"),
        ({"workflow": "no_such_flow"}, "Choose one of the options."),
        ({"unit": "{other}"}, "Choose one of the options."),
        ({"unit": "abc"}, "Choose one of the options."),
    ],
)
def test_create_form_is_validated_and_keeps_input(
    client: WebClient, auth: AuthActions, org: object, change: dict[str, str], message: str
) -> None:
    auth.login("drafter_a")
    unit = str(org.branch_a)  # type: ignore[attr-defined]
    other = str(org.branch_b)  # type: ignore[attr-defined]
    form = {"workflow": "annual_plan", "unit": unit, "year": "2027", "title": "Kept title"}
    form.update({k: v.replace("{other}", other) for k, v in change.items()})
    response = client.post_form("/plans/new", form)
    assert response.status_code == 422
    page = text(response)
    assert message in page, page
    if "title" not in change:
        assert 'value="Kept title"' in page


def test_new_plan_button_only_for_creators(app: Flask) -> None:
    assert "/plans/new" in text(signed_in(app, "drafter_a").get("/plans/"))
    assert "/plans/new" not in text(signed_in(app, "reviewer").get("/plans/"))


def test_language_switch_on_a_refused_form_returns_to_a_page(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    refused = text(
        client.post_form(
            f"/plans/{plan_id}/act",
            {"action": "return_for_revision", "expected_version": str(plans.version(plan_id))},
        )
    )
    match = re.search(r'name="next" value="([^"]*)"', refused)
    assert match and match.group(1) == ""  # /act answers only POST: go to the dashboard
    comment_page = text(client.post_form(f"/plans/{plan_id}/comments", {"body": ""}))
    match = re.search(r'name="next" value="([^"]*)"', comment_page)
    assert match and match.group(1) == ""
