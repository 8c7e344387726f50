"""No input gives a 500: odd values in every form and query of the UI.

The app runs with TESTING on, so an unhandled exception fails the test
instead of becoming a 500 page.
"""

from __future__ import annotations

import pytest
from webui_support import AuthActions, Plans, WebClient

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "9" * 40,
    "-1",
    "0",
    "1e309",
    "NaN",
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%(x)s {{7*7}}",
    "ü漢字한국어",
]
FIELDS = [
    "action",
    "expected_version",
    "comment",
    "body",
    "notification",
    "language",
    "next",
    "workflow",
    "unit",
    "year",
    "title",
    "current",
    "new",
    "confirm",
]


@pytest.mark.parametrize("value", NASTY)
def test_no_form_input_breaks_a_page(
    client: WebClient, auth: AuthActions, plans: Plans, value: str
) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    token = client.csrf_token()
    posts = [
        f"/plans/{plan_id}/act",
        f"/plans/{plan_id}/comments",
        "/notifications/read",
        "/auth/language",
        "/auth/password",
    ]
    for path in posts:
        data = {name: value for name in FIELDS} | {"csrf_token": token}
        response = client.post(path, data=data)
        assert response.status_code < 500, (path, response.status_code)
        html = response.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
    for path in ["/plans/", "/notifications/", f"/plans/{plan_id}", "/"]:
        query = {"state": value, "year": value, "page": value, "before": value, "unread": value}
        assert client.get(path, query_string=query).status_code < 500


@pytest.mark.parametrize("value", NASTY)
def test_no_sign_in_input_breaks_it(client: WebClient, value: str) -> None:
    token = client.csrf_token()
    response = client.post(
        "/auth/login",
        data={"username": value, "password": value, "csrf_token": token},
        query_string={"next": value},
    )
    assert response.status_code in (401, 422)


def test_create_form_survives_odd_input(client: WebClient, auth: AuthActions) -> None:
    auth.login("drafter_a")
    token = client.csrf_token()
    for value in NASTY:
        data = {"workflow": value, "unit": value, "year": value, "title": value}
        response = client.post("/plans/new", data=data | {"csrf_token": token})
        assert response.status_code == 422, value


@pytest.mark.parametrize("raw", ["%ff%fe", "%ED%A0%80", "%C0%80"])
def test_invalid_utf8_in_forms(
    client: WebClient, auth: AuthActions, plans: Plans, raw: str
) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    token = client.csrf_token()
    body = f"csrf_token={token}&body={raw}&comment={raw}&action=start_review&expected_version=1"
    for path in [f"/plans/{plan_id}/comments", f"/plans/{plan_id}/act"]:
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500
    assert client.get(f"/plans/{plan_id}?state={raw}").status_code == 200
