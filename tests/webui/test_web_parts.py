"""A file part where text is expected, or a JSON body, never gives a 500.

Every POST route of the app is sent, for each of its form's usual field
names, a multipart *file* part instead of text, and a JSON body with numbers
and lists: the answer is a 4xx with a message (or the page again), never an
exception. The app runs with TESTING on, so an exception fails the test.
"""

from __future__ import annotations

import io
import re

from flask import Flask
from webui_support import AuthActions, Plans, WebClient, text

from planflow.app import Planflow

FIELDS = [
    "username", "password", "comment", "body", "action", "expected_version", "title",
    "workflow", "unit", "year", "language", "current", "new", "confirm", "notification",
    "name", "expected_name", "code", "parent", "role", "user", "display_name", "email",
    "item", "status", "report", "measured", "day", "visit_date",
]  # fmt: skip


def post_routes(app: Flask, plan_id: int) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        path = re.sub(
            r"<(?:[^:<>]+:)?([^<>]+)>",
            lambda m: str(plan_id) if "id" in m.group(1) else "branch_a",
            rule.rule,
        )
        paths.append(path)
    return sorted(paths)


def test_file_parts_and_json_bodies_on_every_post_route(
    app: Flask, pf: Planflow, client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.submitted()
    # The officer also administers: the admin forms are reached too.
    pf.org.assign_role("officer", "admin", "fed")
    routes = post_routes(app, plan_id)
    assert len(routes) > 20  # the walk found the app's forms
    for username in ("reviewer", "officer"):
        auth.login(username)
        token = client.csrf_token()
        for path in routes:
            files = {name: (io.BytesIO(b"%PDF-1.7 junk"), "x.pdf") for name in FIELDS}
            response = client.post(
                path,
                data={"csrf_token": token, **files},
                content_type="multipart/form-data",
            )
            assert response.status_code < 500, (path, response.status_code)
            response = client.post(
                path,
                json={"csrf_token": token, **{name: [1, {"a": 2}] for name in FIELDS}},
            )
            assert response.status_code < 500, (path, response.status_code)


def test_sign_in_with_a_file_part_is_refused_with_a_message(client: WebClient) -> None:
    token = client.csrf_token()
    response = client.post(
        "/auth/login",
        data={
            "csrf_token": token,
            "username": (io.BytesIO(b"reviewer"), "name.txt"),
            "password": "correct horse battery",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code in (400, 422)
    assert "takes text" in text(response)


def test_a_comment_sent_as_a_file_is_refused_and_writes_nothing(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    before = plans.version(plan_id)
    response = client.post(
        f"/plans/{plan_id}/comments",
        data={"csrf_token": client.csrf_token(), "body": (io.BytesIO(b"hello"), "c.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "takes text" in text(response)
    assert plans.version(plan_id) == before
