"""The admin area: who may enter, the organisation tree, and the audit check."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import Flask
from sqlalchemy import text as sql
from stored import stored_plan
from test_web_admin_support import ROLES, Admins, admin_urls, call
from webui_support import AuthActions, Plans, WebClient, new_client, signed_in, text

import planflow_web.admin
from planflow.app import Planflow

# -- who may enter ------------------------------------------------------------------------


def test_every_admin_route_is_listed(app: Flask, admins: Admins) -> None:
    urls = admin_urls(app, admins)
    # The guard covers routes added later too; this only checks the list is not empty.
    assert ("GET", "/admin/units/") in urls and ("POST", "/admin/audit") in urls
    assert len(urls) >= 18


def test_anonymous_is_sent_to_sign_in(app: Flask, admins: Admins) -> None:
    client = new_client(app)
    for method, url in admin_urls(app, admins):
        response = client.get(url) if method == "GET" else client.post_form(url)
        assert response.status_code == 302, (method, url)
        assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["drafter_a", "reviewer", "fed_reviewer", "inspector"])
def test_non_admins_get_403_on_every_admin_route(app: Flask, admins: Admins, username: str) -> None:
    client = signed_in(app, username)
    for method, url in admin_urls(app, admins):
        assert call(client, method, url, {"name": "X", "code": "x1"}) == 403, (method, url)
    page = text(client.get("/admin/"))
    assert "This page is for administrators." in page
    # Nothing changed.
    assert admins.parent_code("branch_a") == "union"


def test_admins_enter_and_see_their_menu(app: Flask, admins: Admins) -> None:
    assert 'href="/admin/"' in text(signed_in(app, "union_admin").get("/"))
    assert 'href="/admin/"' not in text(signed_in(app, "reviewer").get("/"))
    fed = text(signed_in(app, "fed_admin").get("/admin/"))
    assert "You manage the whole organisation." in fed
    assert 'href="/admin/audit"' in fed
    union = signed_in(app, "union_admin")
    page = text(union.get("/admin/"))
    assert "You manage these units and everything below them:" in page
    assert "Union 工会 (union)" in page
    assert 'href="/admin/audit"' not in page
    assert union.get("/admin/audit").status_code == 403
    assert union.post_form("/admin/audit").status_code == 403
    assert union.get("/admin/audit/export.csv").status_code == 403


def test_a_union_admin_cannot_touch_another_union(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "union_admin")
    outside = admins.user_id("drafter_c")
    above = admins.user_id("fed_reviewer")
    for code in ["union2", "branch_c", "fed", "no-such-unit", "bad code!"]:
        assert client.get(f"/admin/units/{code}").status_code == 404, code
        assert client.post_form(f"/admin/units/{code}/rename", {"name": "X"}).status_code == 404
        assert client.post_form(f"/admin/units/{code}/move", {"parent": "union"}).status_code == 404
    for user_id in [outside, above, 999_999]:
        base = f"/admin/users/{user_id}"
        assert client.get(base).status_code == 404
        for path in ["/profile", "/deactivate", "/activate", "/password", "/roles"]:
            assert client.post_form(base + path, {"role": "drafter"}).status_code == 404, path
        revoke = {"role": "drafter", "unit": "branch_c"}
        assert client.post_form(base + "/roles/revoke", revoke).status_code == 404
    # Someone of its own tree cannot be given a role in another union, nor lose one there.
    own = admins.user_id("drafter_a")
    give = {"role": "drafter", "unit": "branch_c"}
    assert client.post_form(f"/admin/users/{own}/roles", give).status_code == 422
    add = {"code": "x9", "name": "X", "parent": "union2"}
    assert client.post_form("/admin/units/", add).status_code == 422
    assert admins.roles("drafter_c") == {("drafter", "branch_c")}
    assert admins.parent_code("union2") == "fed"
    tree = text(client.get("/admin/units/"))
    assert "branch_a" in tree and "union2" not in tree and "Federation" not in tree
    people = text(client.get("/admin/users/"))
    assert "drafter_a" in people and "drafter_c" not in people and "fed_reviewer" not in people


# -- the organisation tree ----------------------------------------------------------------


def test_the_tree_shows_units_with_people_and_roles(app: Flask, admins: Admins) -> None:
    page = text(signed_in(app, "fed_admin").get("/admin/units/"))
    assert "<details open>" in page and "<summary>" in page
    assert page.index("Federation") < page.index("Union 工会") < page.index("Branch A 분회")
    # union: reviewer, reviewer2, officer, member1-3, union_admin: 7 people, 7 roles.
    union = page[page.index('id="unit-union"') : page.index('id="unit-branch_a"')]
    assert "7 people" in union and "7 roles" in union
    branch_b = page[page.index('id="unit-branch_b"') :]
    assert "2 people" in branch_b
    assert 'id="unit-union2"' in page


def test_an_admin_of_a_unit_and_of_one_above_it_sees_it_once(
    app: Flask, admins: Admins, pf: Planflow
) -> None:
    with pf.session() as s:
        pf.org_repo.assign_role(s, "fed_admin", "admin", "union", known_roles=ROLES)
    page = text(signed_in(app, "fed_admin").get("/admin/units/"))
    assert page.count('id="unit-union"') == 1 and page.count('id="unit-branch_a"') == 1
    options = text(signed_in(app, "fed_admin").get("/admin/units/branch_a"))
    assert options.count('value="union"') == 1


def test_add_a_unit(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "union_admin")
    form = text(client.get("/admin/units/?parent=branch_a"))
    assert '<option selected value="branch_a">' in form
    # A union admin may not add a unit at the top level: it is not among the choices.
    assert '<option value="">' not in form
    response = client.post_form(
        "/admin/units/", {"code": "branch_a.1", "name": "Group 1 第一组", "parent": "branch_a"}
    )
    assert response.status_code == 302
    assert admins.parent_code("branch_a.1") == "branch_a"
    page = text(client.get(response.headers["Location"]))
    assert "Unit branch_a.1 was added." in page and "Group 1 第一组" in page


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("branch_a", "A unit with this code already exists."),
        ("BRANCH_A", "A unit with this code already exists."),
        ("union2", "A unit with this code already exists."),
        ("has space", "Use 1 to 64 letters, digits"),
        ("-dash", "Use 1 to 64 letters, digits"),
        ("x" * 65, "Use 1 to 64 letters, digits"),
        ("", "This field is required."),
    ],
)
def test_a_bad_or_taken_code_is_refused_and_the_form_kept(
    app: Flask, admins: Admins, code: str, message: str
) -> None:
    client = signed_in(app, "union_admin")
    response = client.post_form(
        "/admin/units/", {"code": code, "name": "Typed name", "parent": "branch_b"}
    )
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'value="Typed name"' in page
    assert '<option selected value="branch_b">' in page
    assert admins.pf.counts()["units"] == 6


@pytest.mark.parametrize("admin", ["union_admin", "fed_admin"])
def test_units_are_added_below_one_the_admin_manages(
    app: Flask, admins: Admins, admin: str
) -> None:
    client = signed_in(app, admin)
    assert '<option value="">' not in text(client.get("/admin/units/"))
    response = client.post_form("/admin/units/", {"code": "top2", "name": "Top", "parent": ""})
    assert response.status_code == 422
    assert "Choose one of the options." in text(response)
    assert admins.pf.counts()["units"] == 6


def test_rename_a_unit(app: Flask, admins: Admins, pf: Planflow) -> None:
    client = signed_in(app, "union_admin")
    page = text(client.get("/admin/units/branch_a"))
    assert 'name="expected_name" type="hidden" value="Branch A 분회"' in page
    response = client.post_form(
        "/admin/units/branch_a/rename", {"name": " New name ", "expected_name": "Branch A 분회"}
    )
    assert response.status_code == 302
    assert pf.org_snapshot().unit(pf.unit_id("branch_a")).name == "New name"
    assert "The unit was renamed." in text(client.get("/admin/units/branch_a"))


def test_a_stale_rename_says_so_and_keeps_the_typed_name(
    app: Flask, admins: Admins, pf: Planflow
) -> None:
    client = signed_in(app, "union_admin")
    # Someone else renamed the unit after this admin opened the page.
    other = signed_in(app, "fed_admin")
    other.post_form(
        "/admin/units/branch_a/rename", {"name": "Their name", "expected_name": "Branch A 분회"}
    )
    response = client.post_form(
        "/admin/units/branch_a/rename", {"name": "My name", "expected_name": "Branch A 분회"}
    )
    assert response.status_code == 409
    page = text(response)
    assert "Someone else renamed this unit to “Their name”" in page
    assert 'value="My name"' in page
    assert 'name="expected_name" type="hidden" value="Their name"' in page
    assert pf.org_snapshot().unit(pf.unit_id("branch_a")).name == "Their name"
    # Saving again, knowingly, replaces it.
    again = client.post_form(
        "/admin/units/branch_a/rename", {"name": "My name", "expected_name": "Their name"}
    )
    assert again.status_code == 302
    assert pf.org_snapshot().unit(pf.unit_id("branch_a")).name == "My name"


def test_move_a_unit_and_what_people_see_follows(
    app: Flask, admins: Admins, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.under_review("branch_b", title="Plan of branch B")
    plans.fire(plan_id, ("approve", "reviewer"))  # approved: no open task, seen by oversight
    reviewer = signed_in(app, "reviewer")
    assert "Plan of branch B" in text(reviewer.get("/plans/"))
    client = signed_in(app, "fed_admin")
    page = text(client.get("/admin/units/branch_b"))
    assert '<option selected value="union">' in page
    response = client.post_form("/admin/units/branch_b/move", {"parent": "union2"})
    assert response.status_code == 302
    assert admins.parent_code("branch_b") == "union2"
    assert "The unit was moved." in text(client.get("/admin/units/branch_b"))
    # The org cache saw it: branch B is no longer in the union reviewer's part of the tree.
    assert "Plan of branch B" not in text(reviewer.get("/plans/"))
    assert reviewer.get(f"/plans/{plan_id}").status_code == 404
    # ... nor in the union admin's.
    union = signed_in(app, "union_admin")
    assert union.get("/admin/units/branch_b").status_code == 404
    assert signed_in(app, "union2_admin").get("/admin/units/branch_b").status_code == 200


def test_a_move_sends_waiting_plans_by_the_new_tree(
    app: Flask, admins: Admins, plans: Plans, pf: Planflow, password_hash: str
) -> None:
    with pf.session() as s:
        user = pf.org_repo.add_user(s, "reviewer_u2", "Reviewer U2")
        user.password_hash = password_hash
        pf.org_repo.assign_role(s, "reviewer_u2", "reviewer", "union2", known_roles=ROLES)
    plan_id = plans.submitted("branch_b", title="Waiting plan of branch B")
    hint = "Plans waiting for someone are sent at once to whoever the new tree puts in charge"
    client = signed_in(app, "fed_admin")
    assert hint in text(client.get("/admin/units/branch_b"))
    response = client.post_form("/admin/units/branch_b/move", {"parent": "union2"})
    assert response.status_code == 302
    page = text(client.get("/admin/units/branch_b"))
    assert "1 waiting plan now waits at its new place in the tree." in page
    assert stored_plan(pf, plan_id).task_unit_id == pf.unit_id("union2")
    assert pf.audit_trail(plan_id)[-1].action == "reroute_task"
    # The new union's reviewer has it on their dashboard, and was told.
    reviewer = signed_in(app, "reviewer_u2")
    assert "Waiting plan of branch B" in text(reviewer.get("/"))
    assert "Task moved to you" in text(reviewer.get("/notifications/"))
    # Saving the same move again finds nothing left to send on.
    again = client.post_form("/admin/units/branch_b/move", {"parent": "union2"})
    assert again.status_code == 302
    assert "waiting plan" not in text(client.get("/admin/units/branch_b"))
    assert pf.audit_trail(plan_id)[-1].action == "reroute_task"
    assert sum(r.action == "reroute_task" for r in pf.audit_trail(plan_id)) == 1


@pytest.mark.parametrize(
    ("admin", "code", "parent"),
    [
        ("union_admin", "union", "branch_a"),
        ("fed_admin", "fed", "branch_c"),
        ("fed_admin", "union", "union"),
    ],
)
def test_a_unit_cannot_move_below_itself(
    app: Flask, admins: Admins, admin: str, code: str, parent: str
) -> None:
    client = signed_in(app, admin)
    page = text(client.get(f"/admin/units/{code}"))
    # The form does not offer the unit's own subtree...
    assert f'<option value="{parent}">' not in page
    # ...and the library refuses it when sent anyway.
    response = client.post_form(f"/admin/units/{code}/move", {"parent": parent})
    assert response.status_code == 422
    assert "A unit cannot be moved under itself or under a unit below it." in text(response)
    assert admins.parent_code("branch_a") == "union"
    assert admins.parent_code("union") == "fed"


def test_a_unit_moves_only_below_one_the_admin_manages(app: Flask, admins: Admins) -> None:
    union = signed_in(app, "union_admin")
    for parent in ["", "union2", "fed", "nowhere"]:
        response = union.post_form("/admin/units/branch_a/move", {"parent": parent})
        assert response.status_code == 422, parent
        assert "Choose one of the options." in text(response)
    assert admins.parent_code("branch_a") == "union"
    # The union admin's own top unit has nowhere to go in their part of the tree.
    page = text(union.get("/admin/units/union"))
    assert "There is no other unit you manage to move it under." in page
    top = text(signed_in(app, "fed_admin").get("/admin/units/fed"))
    assert "There is no other unit you manage to move it under." in top


# -- the audit trail ------------------------------------------------------------------------


def test_the_audit_page_checks_on_a_button(
    app: Flask, admins: Admins, plans: Plans, pf: Planflow
) -> None:
    plans.under_review()
    plans.submitted("branch_b")
    client = signed_in(app, "fed_admin")
    page = text(client.get("/admin/audit"))
    assert "Check now" in page and "intact" not in page
    result = text(client.post_form("/admin/audit"))
    records = pf.counts()["audit_records"]
    assert records >= 5
    assert "The audit trail is intact." in result
    assert f"{records} records of 2 plans and 0 checkpoints" in result


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE audit_record SET comment = 'rewritten' WHERE plan_id = :p AND seq = 2",
         "The record was changed after it was written."),
        ("DELETE FROM audit_record WHERE plan_id = :p AND seq = 2",
         "Records before this one were deleted."),
    ],
)  # fmt: skip
def test_the_audit_page_names_the_tampered_record(
    app: Flask, admins: Admins, plans: Plans, pf: Planflow, statement: str, expected: str
) -> None:
    plans.submitted("branch_b")
    plan_id = plans.under_review()
    with pf.db.engine.begin() as conn:
        conn.execute(sql(statement), {"p": plan_id})
    page = text(signed_in(app, "fed_admin").post_form("/admin/audit"))
    assert "The audit trail was tampered with." in page
    first = page[page.index('<li class="first">') :]
    name = f"Plan {plan_id}, record {2 if 'UPDATE' in statement else 3}"
    assert name in first[:400]
    assert expected in first[:600]


def test_the_trail_exports_as_csv_and_json_lines(
    app: Flask, admins: Admins, plans: Plans, pf: Planflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans.under_review()
    plans.under_review("branch_b")
    records = pf.counts()["audit_records"]
    monkeypatch.setattr(planflow_web.admin, "EXPORT_BATCH", 3)  # several batches, one CSV header
    client = signed_in(app, "fed_admin")
    response = client.get("/admin/audit/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert len(rows) == records
    assert {r["seq"] for r in rows} >= {"1", "2", "3"}
    lines = text(client.get("/admin/audit/export.jsonl")).splitlines()
    assert len(lines) == records
    assert all(len(json.loads(line)["hash"]) == 64 for line in lines)
    assert client.get("/admin/audit/export.xml").status_code == 404


def test_an_empty_trail_exports_a_header(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "fed_admin")
    assert text(client.get("/admin/audit/export.csv")).startswith("plan_id,seq,")
    assert text(client.get("/admin/audit/export.jsonl")) == ""


def test_the_csv_trail_cannot_start_a_formula(app: Flask, admins: Admins, plans: Plans) -> None:
    plan_id = plans.submitted()
    plans.fire(plan_id, ("start_review", "reviewer"), ("return_for_revision", "reviewer", "=1+1"))
    rows = list(
        csv.DictReader(
            io.StringIO(text(signed_in(app, "fed_admin").get("/admin/audit/export.csv")))
        )
    )
    assert [r["comment"] for r in rows if r["comment"]] == ["'=1+1"]


# -- forms refuse what they must ---------------------------------------------------------------


def test_posts_without_a_csrf_token_are_refused(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "fed_admin")
    for method, url in admin_urls(app, admins):
        if method == "POST":
            response = client.post_form(url, {"name": "X", "parent": "fed"}, csrf=False)
            assert response.status_code == 400, url
            assert "This form has expired" in text(response)
    assert admins.parent_code("branch_a") == "union"


NASTY = [
    *["", " ", "\x00", "a\x00b", "9" * 40, "-1", "1e309", "x" * 5000],
    *["<script>x</script>", "%(x)s {{7*7}}", "ü漢字한국어"],
]
FIELDS = [
    *["code", "name", "parent", "expected_name", "username", "display_name", "email"],
    *["language", "password", "role", "unit", "stamp", "new", "confirm", "q", "page"],
    *["url", "kind", "events", "secret", "allow_private"],
]


@pytest.mark.parametrize("value", NASTY)
def test_garbage_never_gives_a_500(
    client: WebClient, auth: AuthActions, app: Flask, admins: Admins, value: str
) -> None:
    auth.login("fed_admin")
    token = client.csrf_token()
    for method, url in admin_urls(app, admins):
        if method == "POST":
            data = dict.fromkeys(FIELDS, value) | {"csrf_token": token}
            response = client.post(url, data=data)
        else:
            response = client.get(url, query_string=dict.fromkeys(FIELDS, value))
        assert response.status_code < 500, (url, response.status_code)
        assert "<script>x</script>" not in text(response)
    for url in [f"/admin/units/{value}", f"/admin/workflows/{value}/1", "/admin/users/0"]:
        assert client.get(url).status_code < 500


def test_each_audit_finding_is_explained_by_its_code(app: Flask) -> None:
    from planflow.core.audit_chain import ChainProblem
    from planflow_web.admin import explain

    codes = [
        "altered",
        "broken_link",
        "records_missing",
        "duplicate_seq",
        "head_mismatch",
        "orphan_records",
        "trail_missing",
        "anchored_missing",
        "anchored_altered",
        "checkpoint_unlinked",
        "checkpoint_altered",
        "checkpoint_heads_altered",
    ]
    # Every code in one app (a rendering only: a test each cost a database and an app).
    untranslated = []
    for code in codes:
        problem = ChainProblem(1, 2, "English for the log", code)
        with app.test_request_context(headers={"Accept-Language": "zh"}):
            app.preprocess_request()
            said = explain(problem)
        if said == problem.message or said.isascii():
            untranslated.append((code, said))
    assert not untranslated
