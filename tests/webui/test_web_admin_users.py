"""The people pages: the list, creating people, their details, sessions and roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import Connection, insert, update
from test_web_admin_support import ROLES, Admins
from webui_support import PASSWORD, AuthActions, Plans, WebClient, new_client, signed_in, text

from planflow.app import Planflow
from planflow.storage.tables import OrgGeneration, RoleAssignment, User


def usernames(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', html)


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


# -- the list -------------------------------------------------------------------------------


def test_the_list_shows_people_with_their_roles(app: Flask, admins: Admins) -> None:
    page = text(signed_in(app, "union_admin").get("/admin/users/"))
    names = usernames(page)
    assert names == sorted(names)
    assert {"drafter_a", "chair_b", "reviewer", "member1", "union_admin"} <= set(names)
    assert "fed_reviewer" not in names and "drafter_c" not in names
    # A unit by its name, as a person knows it; its code beside it, for the admin.
    assert 'reviewer at Union 工会 <code class="unit-code">union</code>' in page
    assert "11 people found" in page


def new_generation(conn: Connection) -> None:
    """People or roles written around the library: move the organisation's generation,
    as the library's own writes do, or a process that holds the organisation already
    (``pf``) would not see them."""
    table = OrgGeneration.__table__  # type: ignore[attr-defined]
    conn.execute(update(table).values(generation=table.c.generation + 1))


def test_a_thousand_people_page_and_search_quickly(
    app: Flask, admins: Admins, pf: Planflow
) -> None:
    now = datetime(2027, 1, 4, tzinfo=UTC)
    branch = pf.unit_id("branch_a")
    with pf.db.write() as conn:
        conn.execute(
            insert(User.__table__),  # type: ignore[attr-defined]
            [
                {"username": f"member{n:04d}", "display_name": f"Member Nr {n}",
                 "email": f"m{n}@example.org", "language": "en", "active": True,
                 "session_version": 1, "email_preference": "off", "created_at": now}
                for n in range(1000)
            ],
        )  # fmt: skip
        new_generation(conn)
    first_id, last_id = (pf.user_id(f"member{n:04d}") for n in (0, 999))
    with pf.db.write() as conn:
        conn.execute(
            insert(RoleAssignment.__table__),  # type: ignore[attr-defined]
            [{"user_id": uid, "unit_id": branch, "role": "drafter", "created_at": now}
             for uid in range(first_id, last_id + 1)],
        )  # fmt: skip
        new_generation(conn)
    client = signed_in(app, "union_admin")
    first = text(client.get("/admin/users/"))
    assert "1011 people found" in first
    assert len(usernames(first)) == 50
    page = text(client.get("/admin/users/?page=3"))
    assert usernames(page)[0] == "member0096"  # after chair_a, chair_b, drafter_a, drafter_b
    assert "Previous page" in page and "Next page" in page
    last = text(client.get("/admin/users/?page=21"))
    assert len(usernames(last)) == 11 and "Next page" not in last
    found = text(client.get("/admin/users/?q=NR 77"))
    assert sorted(usernames(found)) == ["member0077", *(f"member{n:04d}" for n in range(770, 780))]
    # The other union's admin sees none of them.
    assert "member0001" not in text(signed_in(app, "union2_admin").get("/admin/users/?q=member"))


@pytest.mark.parametrize("search", ["%", "_", "\\", "drafter_", "%_a"])
def test_search_wildcards_are_literal(app: Flask, admins: Admins, search: str) -> None:
    page = text(signed_in(app, "fed_admin").get("/admin/users/", query_string={"q": search}))
    expected = {
        "%": [],
        "_": ["chair_a", "chair_b", "drafter_a", "drafter_b", "drafter_c", "fed_admin",
              "fed_reviewer", "union2_admin", "union_admin"],
        "\\": [],
        "drafter_": ["drafter_a", "drafter_b", "drafter_c"],
        "%_a": [],
    }[search]  # fmt: skip
    assert sorted(usernames(page)) == expected


def test_a_search_with_a_control_character_says_so(app: Flask, admins: Admins) -> None:
    page = text(signed_in(app, "fed_admin").get("/admin/users/?q=a%00b"))
    assert "The search contains a character that cannot be searched for." in page


# -- creating people -------------------------------------------------------------------------


def test_create_a_person_who_can_then_sign_in(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "union_admin")
    page = text(client.get("/admin/users/new"))
    # A union admin's new people need a role at one of its units; nothing is pre-chosen.
    assert 'name="role"><option value="">Choose…</option>' in page
    assert "union2" not in page
    response = client.post_form(
        "/admin/users/new",
        {
            "username": "li.wei",
            "display_name": " Li Wei 李伟 ",
            "email": "li.wei@example.org",
            "language": "zh",
            "password": "a long password",
            "role": "drafter",
            "unit": "branch_b",
        },
    )
    assert response.status_code == 302
    user = admins.user("li.wei")
    assert (user.display_name, user.email, user.language) == (
        "Li Wei 李伟",
        "li.wei@example.org",
        "zh",
    )
    assert admins.roles("li.wei") == {("drafter", "branch_b")}
    assert "li.wei was added." in text(client.get(response.headers["Location"]))
    newcomer = new_client(app)
    assert AuthActions(newcomer).login("li.wei", "a long password").status_code == 302


VALID = {
    "username": "new.person",
    "display_name": "New Person",
    "email": "new@example.org",
    "language": "ko",
    "password": "",
    "role": "drafter",
    "unit": "branch_a",
}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "drafter_a"}, "username", "This user name is taken"),
        ({"username": "Drafter_A"}, "username", "This user name is taken"),
        ({"username": "drafter_c"}, "username", "This user name is taken"),
        ({"username": "has space"}, "username", "Use 1 to 80 letters"),
        ({"username": ""}, "username", "This field is required."),
        ({"email": "not-an-address"}, "email", "Give an e-mail address such as"),
        ({"email": "a@b"}, "email", "Give an e-mail address such as"),
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"display_name": "x" * 201}, "display_name", "At most 200 characters"),
        ({"password": "short"}, "password", "Between 8 and 256 characters"),
        ({"role": "", "unit": ""}, "role", "Give the new person a role at one of the units"),
        ({"role": ""}, "role", "Give both a role and a unit, or neither."),
        ({"role": "emperor"}, "role", "Choose one of the options."),
        ({"unit": "branch_c"}, "unit", "Choose one of the options."),
        ({"unit": ""}, "unit", "Give both a role and a unit, or neither."),
        ({"language": "fr"}, "language", "Choose one of the options."),
    ],
)
def test_a_bad_new_person_is_refused_with_what_was_typed_kept(
    app: Flask, admins: Admins, pf: Planflow, change: dict[str, str], field: str, message: str
) -> None:
    client = signed_in(app, "union_admin")
    before = pf.counts()["users"]
    response = client.post_form("/admin/users/new", VALID | change)
    assert response.status_code == 422
    page = text(response)
    error = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert error is not None and message in error.group(1)
    for name in ("display_name", "email"):
        value = (VALID | change)[name]
        if value and len(value) < 100:
            assert f'value="{value}"' in page
    if "language" not in change:
        assert '<option selected value="ko">' in page
    assert pf.counts()["users"] == before


def test_a_top_admin_may_create_someone_without_a_role(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "fed_admin")
    assert "(none for now)" in text(client.get("/admin/users/new"))
    data = VALID | {"role": "", "unit": ""}
    assert client.post_form("/admin/users/new", data).status_code == 302
    assert admins.roles("new.person") == set()
    # Someone without a role is seen by admins of the whole organisation only.
    assert "new.person" not in text(signed_in(app, "union_admin").get("/admin/users/"))


# -- details -------------------------------------------------------------------------------


def test_change_a_persons_details(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "union_admin")
    uid = admins.user_id("chair_a")
    page = text(client.get(f"/admin/users/{uid}"))
    stamp = re.search(r'name="stamp" type="hidden" value="([0-9a-f]+)"', page)
    assert stamp is not None
    data = {"display_name": "Chair Ahn", "email": "", "language": "ko", "stamp": stamp.group(1)}
    response = client.post_form(f"/admin/users/{uid}/profile", data)
    assert response.status_code == 302
    user = admins.user("chair_a")
    assert (user.display_name, user.email, user.language) == ("Chair Ahn", "", "ko")


def test_a_stale_details_change_says_so_and_loses_nothing(app: Flask, admins: Admins) -> None:
    uid = admins.user_id("chair_a")
    mine, theirs = signed_in(app, "union_admin"), signed_in(app, "fed_admin")
    stamp = re.search(r'name="stamp" type="hidden" value="([0-9a-f]+)"',
                      text(mine.get(f"/admin/users/{uid}")))  # fmt: skip
    assert stamp is not None
    base = {"email": "chair@example.org", "language": "en", "stamp": stamp.group(1)}
    theirs_change = base | {"display_name": "Theirs"}
    assert theirs.post_form(f"/admin/users/{uid}/profile", theirs_change).status_code == 302
    response = mine.post_form(f"/admin/users/{uid}/profile", base | {"display_name": "Mine"})
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this person&#39;s details while you were editing." in page
    assert "Now: Theirs, chair@example.org." in page
    assert 'value="Mine"' in page
    assert admins.user("chair_a").display_name == "Theirs"
    fresh = re.search(r'name="stamp" type="hidden" value="([0-9a-f]+)"', page)
    assert fresh is not None and fresh.group(1) != stamp.group(1)
    again = base | {"display_name": "Mine", "stamp": fresh.group(1)}
    assert mine.post_form(f"/admin/users/{uid}/profile", again).status_code == 302
    assert admins.user("chair_a").display_name == "Mine"


def test_an_account_with_roles_elsewhere_is_not_the_union_admins(
    app: Flask, admins: Admins, pf: Planflow
) -> None:
    with pf.session() as s:
        pf.org_repo.assign_role(s, "officer", "inspector", "fed", known_roles=ROLES)
    uid = admins.user_id("officer")
    client = signed_in(app, "union_admin")
    page = text(client.get(f"/admin/users/{uid}"))
    assert "also holds roles outside the units you manage" in page
    assert "outside your units" in page  # the fed role has no button
    assert 'action="/admin/users/' + str(uid) + '/profile"' not in page
    for path in ["/profile", "/deactivate", "/password"]:
        data = {"display_name": "X", "new": PASSWORD, "confirm": PASSWORD}
        response = client.post_form(f"/admin/users/{uid}{path}", data)
        assert response.status_code in (403, 422), path
    assert client.post_form(f"/admin/users/{uid}/deactivate").status_code == 403
    assert admins.user("officer").active
    # Roles at the union admin's own units are still theirs to give.
    give = {"role": "reviewer", "unit": "branch_a"}
    assert client.post_form(f"/admin/users/{uid}/roles", give).status_code == 302
    assert ("reviewer", "branch_a") in admins.roles("officer")
    # And the fed role cannot be taken by the union admin.
    take = {"role": "inspector", "unit": "fed"}
    assert client.post_form(f"/admin/users/{uid}/roles/revoke", take).status_code == 404
    assert ("inspector", "fed") in admins.roles("officer")


# -- sessions --------------------------------------------------------------------------------


def test_deactivating_ends_their_sessions(app: Flask, admins: Admins) -> None:
    victim = signed_in(app, "drafter_a")
    assert victim.get("/").status_code == 200
    client = signed_in(app, "union_admin")
    uid = admins.user_id("drafter_a")
    response = client.post_form(f"/admin/users/{uid}/deactivate")
    assert response.status_code == 302
    assert "deactivated and signed out everywhere" in text(client.get(f"/admin/users/{uid}"))
    # Their next request finds them signed out, and they cannot sign in again.
    after = victim.get("/")
    assert after.status_code == 302 and "/auth/login" in after.headers["Location"]
    assert AuthActions(new_client(app)).login("drafter_a").status_code == 401
    assert not admins.user("drafter_a").active
    assert client.post_form(f"/admin/users/{uid}/activate").status_code == 302
    assert AuthActions(new_client(app)).login("drafter_a").status_code == 302


def test_a_new_password_ends_their_sessions(app: Flask, admins: Admins) -> None:
    victim = signed_in(app, "chair_b")
    client = signed_in(app, "union_admin")
    uid = admins.user_id("chair_b")
    bad = {"new": "new password 1", "confirm": "new password 2"}
    response = client.post_form(f"/admin/users/{uid}/password", bad)
    assert response.status_code == 422
    assert "The two new passwords differ." in text(response)
    assert victim.get("/").status_code == 200
    good = {"new": "new password 1", "confirm": "new password 1"}
    assert client.post_form(f"/admin/users/{uid}/password", good).status_code == 302
    assert victim.get("/").status_code == 302
    assert AuthActions(new_client(app)).login("chair_b").status_code == 401
    assert AuthActions(new_client(app)).login("chair_b", "new password 1").status_code == 302


def test_an_admin_cannot_lock_themselves_out(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "fed_admin")
    uid = admins.user_id("fed_admin")
    page = text(client.get(f"/admin/users/{uid}"))
    assert "This is you." in page and "/deactivate" not in page
    response = client.post_form(f"/admin/users/{uid}/deactivate")
    assert response.status_code == 403
    assert "You cannot deactivate your own account." in text(response)
    password = {"new": "new password 1", "confirm": "new password 1"}
    response = client.post_form(f"/admin/users/{uid}/password", password)
    assert response.status_code == 403
    assert "Change your own password on your password page." in text(response)
    response = client.post_form(
        f"/admin/users/{uid}/roles/revoke", {"role": "admin", "unit": "fed"}
    )
    assert response.status_code == 403
    assert "You cannot take away your own administrator role" in text(response)
    assert client.get("/admin/").status_code == 200


# -- roles -------------------------------------------------------------------------------------


def test_giving_and_taking_a_role_changes_what_they_see(
    app: Flask, admins: Admins, plans: Plans
) -> None:
    plans.submitted("branch_b", title="Plan waiting for review")
    newcomer = signed_in(app, "member3")  # committee at the union: oversees, not the reviewer
    assert "Plan waiting for review" not in section(text(newcomer.get("/reviews/")), "mine-h")
    client = signed_in(app, "union_admin")
    uid = admins.user_id("member3")
    page = text(client.get(f"/admin/users/{uid}"))
    assert 'name="role" required><option value="">Choose…</option>' in page
    response = client.post_form(f"/admin/users/{uid}/roles", {"role": "reviewer", "unit": "union"})
    assert response.status_code == 302
    assert "Role given: reviewer at Union 工会 (union)." in text(client.get(f"/admin/users/{uid}"))
    assert "Plan waiting for review" in section(text(newcomer.get("/reviews/")), "mine-h")
    again = client.post_form(f"/admin/users/{uid}/roles", {"role": "reviewer", "unit": "union"})
    assert again.status_code == 302
    assert "already holds reviewer at Union 工会 (union)" in text(client.get(f"/admin/users/{uid}"))
    take = {"role": "reviewer", "unit": "union"}
    assert client.post_form(f"/admin/users/{uid}/roles/revoke", take).status_code == 302
    taken = "Role taken away: reviewer at Union 工会 (union)."
    assert taken in text(client.get(f"/admin/users/{uid}"))
    assert "Plan waiting for review" not in section(text(newcomer.get("/reviews/")), "mine-h")
    assert client.post_form(f"/admin/users/{uid}/roles/revoke", take).status_code == 302
    held = "no longer held reviewer at Union 工会 (union)"
    assert held in text(client.get(f"/admin/users/{uid}"))


def test_an_unchosen_role_is_refused(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "union_admin")
    uid = admins.user_id("member3")
    response = client.post_form(f"/admin/users/{uid}/roles", {"role": "", "unit": ""})
    assert response.status_code == 422
    assert text(response).count("Choose one of the options.") >= 2


def test_taking_the_last_role_in_the_admins_units(app: Flask, admins: Admins) -> None:
    client = signed_in(app, "union_admin")
    uid = admins.user_id("drafter_a")
    take = {"role": "drafter", "unit": "branch_a"}
    response = client.post_form(f"/admin/users/{uid}/roles/revoke", take)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users/"
    assert "drafter_a holds no role in your units any more." in text(client.get("/admin/users/"))
    assert client.get(f"/admin/users/{uid}").status_code == 404
    assert admins.roles("drafter_a") == set()


def test_the_admin_pages_in_chinese_and_korean(
    client: WebClient, auth: AuthActions, admins: Admins
) -> None:
    auth.login("fed_admin")
    client.post_form("/auth/language", {"language": "zh"})
    page = text(client.get("/admin/users/"))
    assert "系统管理" in page and "组织架构" in page and "找到 16 人" in page
    assert "Union 工会的审核人" in page
    client.post_form("/auth/language", {"language": "ko"})
    tree = text(client.get("/admin/units/"))
    assert "단위 추가" in tree and "하위 단위 2개" in tree
    workflow = text(client.get("/admin/workflows/annual_plan/5"))
    assert "바로 위 단위의 검토자" in workflow
