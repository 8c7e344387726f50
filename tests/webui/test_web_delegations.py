"""The out-of-office page (委托): name a deputy, the deputy acts "on behalf of", bad
input kept and named, the admin's page; on SQLite and PostgreSQL."""

from __future__ import annotations

from io import BytesIO

from flask import Flask
from webui_support import AuthActions, Plans, WebClient, signed_in, text

from planflow.app import Planflow

TODAY, WEEK = "2027-01-04", "2027-01-10"  # the suite's clock (conftest's T0)


def form(deputy: str = "officer", starts_on: str = TODAY, ends_on: str = WEEK) -> dict[str, str]:
    return {
        "deputy": deputy,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "workflow": "",
        "role": "",
        "reason": "Annual leave",
    }


def test_a_deputy_is_named_and_acts_on_behalf_on_the_plan_page(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review()
    auth.login("reviewer")
    page = text(client.get("/settings/delegations/"))
    assert "Out of office" in page and "No delegations." in page
    done = client.post_form("/settings/delegations/", form())
    assert done.status_code == 302, text(done)
    page = text(client.get(done.headers["Location"]))
    assert "Officer is your deputy from 2027-01-04 to 2027-01-10." in page
    assert "Officer acts for Reviewer" in page and "in force" in page
    deputy = signed_in(app, "officer")
    mine = text(deputy.get("/settings/delegations/"))
    assert "Tasks you can act on for someone away" in mine and f"/plans/{plan_id}" in mine
    plan_page = text(deputy.get(f"/plans/{plan_id}"))
    assert "You are acting on behalf of Reviewer" in plan_page
    assert 'value="approve"' in plan_page
    pf.fire(plan_id, "approve", "officer")
    assert "Officer on behalf of Reviewer" in text(client.get(f"/plans/{plan_id}/timeline"))
    deputy.post_form("/auth/language", {"language": "zh"})
    assert "代" in text(deputy.get("/settings/delegations/"))


def test_bad_input_is_422_on_the_field_and_what_was_typed_stays(
    client: WebClient, auth: AuthActions, pf: Planflow, plans: Plans
) -> None:
    auth.login("reviewer")
    cases = [
        (form(deputy="reviewer"), "You cannot be your own deputy."),
        (form(deputy="ghost"), "There is no user ghost."),
        (form(starts_on="31/12/2027"), "Give the date as YYYY-MM-DD"),
        (form(starts_on=WEEK, ends_on=TODAY), "The last day comes before the first day."),
    ]
    for data, message in cases:
        refused = client.post_form("/settings/delegations/", data)
        assert refused.status_code == 422, (data, text(refused))
        page = text(refused)
        assert message in page, page
        assert 'aria-invalid="true"' in page
        assert f'value="{data["starts_on"]}"' in page  # kept
    assert client.post_form("/settings/delegations/", form()).status_code == 302
    overlap = client.post_form("/settings/delegations/", form(deputy="reviewer2"))
    assert overlap.status_code == 422
    assert "You already have a deputy for these tasks" in text(overlap)
    # A file where text was expected is a clear refusal, not a 500.
    upload = client.post_form(
        "/settings/delegations/",
        {**form(), "deputy": (BytesIO(b"x"), "x.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 422
    assert len(pf.delegations.list("reviewer")) == 1


def test_ending_a_delegation_and_someone_else_s_is_404(
    app: Flask, client: WebClient, auth: AuthActions, pf: Planflow
) -> None:
    made = pf.delegations.add("reviewer", "officer", TODAY, WEEK)
    stranger = signed_in(app, "chair_b")
    assert (
        stranger.post_form("/settings/delegations/end", {"delegation": made.id}).status_code == 404
    )
    assert stranger.post_form("/settings/delegations/end", {"delegation": "x"}).status_code == 400
    auth.login("reviewer")
    done = client.post_form("/settings/delegations/end", {"delegation": made.id})
    assert done.status_code == 302
    assert "The delegation has ended" in text(client.get(done.headers["Location"]))
    assert pf.delegations.list("reviewer")[0].status == "ended"


def test_an_admin_sets_a_delegation_for_someone_away(
    app: Flask, pf: Planflow, client: WebClient, auth: AuthActions
) -> None:
    with pf.session() as s:
        pf.org_repo.assign_role(s, "fed_reviewer", "admin", "union")
    admin = signed_in(app, "fed_reviewer")
    person = text(admin.get(f"/admin/users/{pf.user_id('reviewer')}"))
    assert 'href="/admin/people/reviewer/delegations"' in person
    page = text(admin.get("/admin/people/reviewer/delegations"))
    assert "Deputies of Reviewer" in page
    done = admin.post_form("/admin/people/reviewer/delegations", form())
    assert done.status_code == 302, text(done)
    assert [d.created_by for d in pf.delegations.list("reviewer")] == ["fed_reviewer"]
    auth.login("chair_b")  # no admin: the page does not exist for them
    assert client.get("/admin/people/reviewer/delegations").status_code == 404
