"""No input gives a 500: odd values in every form and query of the UI.

The app runs with TESTING on, so an unhandled exception fails the test
instead of becoming a 500 page. Each test goes through all its values in one
app and database (on each of the two) and reports every value that failed.
"""

from __future__ import annotations

from flask import Flask
from webui_support import AuthActions, Plans, WebClient, new_client

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


def test_no_form_input_breaks_a_page(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    # One app and database for every value (a test each cost a fresh database and
    # app); each value still meets a plan of its own, just submitted.
    auth.login("reviewer")
    token = client.csrf_token()
    failures: list[tuple[str, str, int | str]] = []
    for value in NASTY:
        plan_id = plans.submitted()
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
            if response.status_code >= 500:
                failures.append((value, path, response.status_code))
            if "<script>alert(1)</script>" in response.get_data(as_text=True):
                failures.append((value, path, "unescaped script"))
        for path in ["/plans/", "/notifications/", f"/plans/{plan_id}", "/"]:
            query = {"state": value, "year": value, "page": value, "before": value, "unread": value}
            status = client.get(path, query_string=query).status_code
            if status >= 500:
                failures.append((value, path, status))
    assert not failures


def test_no_sign_in_input_breaks_it(app: Flask) -> None:
    failures: list[tuple[str, int]] = []
    for n, value in enumerate(NASTY):
        # A browser of its own (and address) for each value, as a test each had.
        client = new_client(app, address=f"198.51.100.{n + 1}")
        token = client.csrf_token()
        response = client.post(
            "/auth/login",
            data={"username": value, "password": value, "csrf_token": token},
            query_string={"next": value},
        )
        if response.status_code not in (401, 422):
            failures.append((value, response.status_code))
    assert not failures


def test_create_form_survives_odd_input(client: WebClient, auth: AuthActions) -> None:
    auth.login("drafter_a")
    token = client.csrf_token()
    for value in NASTY:
        data = {"workflow": value, "unit": value, "year": value, "title": value}
        response = client.post("/plans/new", data=data | {"csrf_token": token})
        assert response.status_code == 422, value


def test_invalid_utf8_in_forms(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    auth.login("reviewer")
    token = client.csrf_token()
    failures: list[tuple[str, str, int]] = []
    for raw in ["%ff%fe", "%ED%A0%80", "%C0%80"]:
        plan_id = plans.submitted()
        body = f"csrf_token={token}&body={raw}&comment={raw}&action=start_review&expected_version=1"
        for path in [f"/plans/{plan_id}/comments", f"/plans/{plan_id}/act"]:
            response = client.post(
                path, data=body, content_type="application/x-www-form-urlencoded"
            )
            if response.status_code >= 500:
                failures.append((raw, path, response.status_code))
        status = client.get(f"/plans/{plan_id}?state={raw}").status_code
        if status != 200:
            failures.append((raw, "plan page", status))
    assert not failures
