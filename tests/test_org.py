"""Tests of the organisation in storage: ``planflow.storage.org_repo`` on both databases.

Validation of units and users (with messages a person understands), look-ups
that fail with ``NotFound``, cycle-free moves, Argon2id passwords, session
revocation, and the organisation generation that every process's ``OrgCache``
follows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import WORKFLOWS, Org
from sqlalchemy import select
from sqlmodel import Session
from stored import stored_plan

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.errors import NotFound, ValidationError
from planflow.storage import org_cache
from planflow.storage.org_cache import OrgCache
from planflow.storage.passwords import hash_password, verify_password
from planflow.storage.tables import OrgGeneration, RoleAssignment, User

ROLES = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin", "committee")


# -- helpers --------------------------------------------------------------------------


def generation(pf: Planflow) -> int:
    with Session(pf.db.engine) as s:
        rows = s.exec(select(OrgGeneration.generation)).all()  # type: ignore[call-overload]
    assert len(rows) == 1
    return int(rows[0][0])


def user(pf: Planflow, username: str) -> User:
    with pf.session() as s:
        found = pf.org_repo.user_by_name(s, username)
        s.expunge(found)
        return found


def invalid(pf: Planflow, action: Callable[[Session], Any]) -> str:
    """Run ``action`` in a session; it must raise ValidationError. Returns the message."""
    with pytest.raises(ValidationError) as caught, pf.session() as s:
        action(s)
    return str(caught.value)


def not_found(pf: Planflow, action: Callable[[Session], Any]) -> NotFound:
    with pytest.raises(NotFound) as caught, pf.session() as s:
        action(s)
    return caught.value


# -- units ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["a", "7", "branch_1.x-2", "X" * 64])
def test_unit_codes_accepted(pf: Planflow, code: str) -> None:
    with pf.session() as s:
        unit = pf.org_repo.add_unit(s, code, "  A unit  ", None)
        assert (unit.code, unit.name, unit.parent_id) == (code, "A unit", None)
        assert unit.id is not None


@pytest.mark.parametrize(
    "code", ["", "bad code", "-lead", ".lead", "_lead", "x" * 65, "a/b", "分会", "tab\tx"]
)
def test_unit_codes_refused(pf: Planflow, code: str) -> None:
    message = invalid(pf, lambda s: pf.org_repo.add_unit(s, code, "Name", None))
    assert message == f"unit code {code!r} must be 1-64 letters, digits, '_', '.' or '-'"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "a unit needs a name of 1-300 characters"),
        ("   ", "a unit needs a name of 1-300 characters"),
        ("x" * 301, "name can have at most 300 characters (it has 301)"),
        ("Union \u202e1", "name must not contain the bidirectional control U+202E (character 7)"),
    ],
)
def test_unit_names_refused(pf: Planflow, name: str, said: str) -> None:
    message = invalid(pf, lambda s: pf.org_repo.add_unit(s, "ok", name, None))
    assert message == said


def test_unit_problems_are_reported_together(pf: Planflow) -> None:
    message = invalid(pf, lambda s: pf.org_repo.add_unit(s, "bad code", "", None))
    assert message.split("; ") == [
        "unit code 'bad code' must be 1-64 letters, digits, '_', '.' or '-'",
        "a unit needs a name of 1-300 characters",
    ]


def test_duplicate_unit_is_refused(pf: Planflow, org: Org) -> None:
    message = invalid(pf, lambda s: pf.org_repo.add_unit(s, "union", "Another", "fed"))
    assert message == "a unit with code 'union' already exists"


def test_unknown_units(pf: Planflow, org: Org) -> None:
    error = not_found(pf, lambda s: pf.org_repo.add_unit(s, "x", "X", "nowhere"))
    assert (str(error), error.kind, error.ident) == ("unknown unit: 'nowhere'", "unit", "nowhere")
    assert str(not_found(pf, lambda s: pf.org_repo.unit_by_code(s, "nowhere"))) == (
        "unknown unit: 'nowhere'"
    )
    assert "'nowhere'" in str(not_found(pf, lambda s: pf.org_repo.move_unit(s, "nowhere", None)))
    assert "'nowhere'" in str(not_found(pf, lambda s: pf.org_repo.move_unit(s, "union", "nowhere")))


# -- moving units ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "new_parent"),
    [("union", "union"), ("union", "branch_a"), ("fed", "branch_b"), ("fed", "union")],
    ids=["itself", "child", "grandchild", "root-under-child"],
)
def test_move_unit_refuses_cycles(pf: Planflow, org: Org, code: str, new_parent: str) -> None:
    before = generation(pf)
    message = invalid(pf, lambda s: pf.org_repo.move_unit(s, code, new_parent))
    assert message == f"unit {code!r} cannot be moved below itself"
    assert generation(pf) == before  # nothing changed
    snap = pf.org_snapshot()
    assert snap.parent(org.union) == org.fed and snap.parent(org.fed) is None


def test_move_unit(pf: Planflow, org: Org) -> None:
    with pf.session() as s:
        pf.org_repo.add_unit(s, "group", "Group", "branch_a")
        pf.org_repo.move_unit(s, "branch_a", "fed")  # takes its subtree along
    snap = pf.org_snapshot()
    group = pf.unit_id("group")
    assert snap.ancestors(group) == [org.branch_a, org.fed]
    assert sorted(snap.subtree(org.union)) == sorted([org.union, org.branch_b])
    with pf.session() as s:
        pf.org_repo.move_unit(s, "branch_b", None)  # to the top
        pf.org_repo.move_unit(s, "branch_b", "branch_a")  # siblings: not a cycle
    assert pf.org_snapshot().ancestors(org.branch_b) == [org.branch_a, org.fed]


# -- users ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["a", "first.last-2_x", "someone@example.org", "u" * 80])
def test_usernames_accepted(pf: Planflow, username: str) -> None:
    with pf.session() as s:
        added = pf.org_repo.add_user(s, username, " Someone ")
        assert (added.username, added.display_name, added.email) == (username, "Someone", "")
        assert (added.language, added.active, added.session_version) == ("en", True, 1)
        assert added.password_hash is None


@pytest.mark.parametrize("username", ["", "bad name", ".lead", "-lead", "u" * 81, "名字", "a/b"])
def test_usernames_refused(pf: Planflow, username: str) -> None:
    message = invalid(pf, lambda s: pf.org_repo.add_user(s, username, "Someone"))
    expected = f"username {username!r} must be 1-80 letters, digits, '_', '.', '@' or '-'"
    assert message == expected


@pytest.mark.parametrize(
    "email", ["nope", "example.org", "x" * 315 + "@a.org", "a@b", "x@", "@", "a b@c.org"]
)
def test_emails_refused(pf: Planflow, email: str) -> None:
    message = invalid(pf, lambda s: pf.org_repo.add_user(s, "someone", "Someone", email=email))
    assert message == f"{email!r} is not an e-mail address"


@pytest.mark.parametrize("email", ["", "a@b.c", "Kim.Min-ji+plans@example.co.kr", "김@노조.kr"])
def test_emails_accepted(pf: Planflow, email: str) -> None:
    with pf.session() as s:
        assert pf.org_repo.add_user(s, "someone", "Someone", email=email).email == email


@pytest.mark.parametrize("language", ["en", "zh", "ko"])
def test_languages_accepted(pf: Planflow, language: str) -> None:
    with pf.session() as s:
        assert pf.org_repo.add_user(s, "someone", "Someone", language=language).language == language


@pytest.mark.parametrize("language", ["fr", "EN", "", "zh-CN"])
def test_languages_refused(pf: Planflow, language: str) -> None:
    message = invalid(pf, lambda s: pf.org_repo.add_user(s, "someone", "X", language=language))
    assert message == "language must be one of en, zh, ko"


def test_user_problems_are_reported_together(pf: Planflow) -> None:
    message = invalid(
        pf, lambda s: pf.org_repo.add_user(s, "bad name", " ", email="nope", language="fr")
    )
    assert message.split("; ") == [
        "username 'bad name' must be 1-80 letters, digits, '_', '.', '@' or '-'",
        "a display name is required",
        "'nope' is not an e-mail address",
        "language must be one of en, zh, ko",
    ]


def test_duplicate_user_is_refused(pf: Planflow, org: Org) -> None:
    message = invalid(pf, lambda s: pf.org_repo.add_user(s, "reviewer", "Someone else"))
    assert message == "a user named 'reviewer' already exists"


def test_unknown_users(pf: Planflow, org: Org) -> None:
    calls: list[Callable[[Session], Any]] = [
        lambda s: pf.org_repo.user_by_name(s, "ghost"),
        lambda s: pf.org_repo.set_active(s, "ghost", False),
        lambda s: pf.org_repo.set_password(s, "ghost", "long enough"),
        lambda s: pf.org_repo.assign_role(s, "ghost", "reviewer", "union"),
        lambda s: pf.org_repo.revoke_role(s, "ghost", "reviewer", "union"),
    ]
    for call in calls:
        error = not_found(pf, call)
        assert (str(error), error.kind) == ("unknown user: 'ghost'", "user")


# -- roles ----------------------------------------------------------------------------


def test_assign_role_validates_and_is_idempotent(pf: Planflow, org: Org) -> None:
    message = invalid(pf, lambda s: pf.org_repo.assign_role(s, "reviewer", "wizard", "union"))
    assert message == (
        "unknown role 'wizard'; known roles: drafter, submitter, reviewer, inspector, officer, "
        "admin"
    )
    assert "unknown unit: 'nowhere'" in str(
        not_found(pf, lambda s: pf.org_repo.assign_role(s, "reviewer", "officer", "nowhere"))
    )
    with pf.session() as s:
        first = pf.org_repo.assign_role(s, "drafter_a", "officer", "union").id
    before = generation(pf)
    with pf.session() as s:
        again = pf.org_repo.assign_role(s, "drafter_a", "officer", "union").id
    assert again == first
    assert generation(pf) == before  # nothing changed, nothing bumped


def test_revoke_role(pf: Planflow, org: Org) -> None:
    error = not_found(pf, lambda s: pf.org_repo.revoke_role(s, "reviewer", "officer", "union"))
    assert str(error) == "unknown role assignment: 'reviewer officer at union'"
    with pf.session() as s:
        pf.org_repo.revoke_role(s, "reviewer", "reviewer", "union")
    assert pf.user_id("reviewer") not in pf.org_snapshot().holders("reviewer", org.union)
    reviewer = pf.user_id("reviewer")
    with Session(pf.db.engine) as s:
        query = select(RoleAssignment.role).where(RoleAssignment.user_id == reviewer)
        assert s.exec(query).all() == []  # type: ignore[call-overload]


# -- passwords and sessions -----------------------------------------------------------


def test_password_hash_is_argon2id_with_the_owasp_parameters() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hash_password("correct horse") != hashed  # salted
    assert verify_password(hashed, "correct horse") is True
    assert verify_password(hashed, "wrong horse") is False
    assert verify_password(hashed, "") is False


@pytest.mark.parametrize("stored", [None, "", "not-a-hash", "$argon2id$broken"])
def test_verify_password_without_a_usable_hash_is_false(stored: str | None) -> None:
    assert verify_password(stored, "whatever123") is False


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 8 characters"):
        hash_password("1234567")
    with pytest.raises(ValidationError, match="at least 8 characters"):
        hash_password("")
    assert verify_password(hash_password("12345678"), "12345678")
    assert verify_password(hash_password("密码密码密码密码"), "密码密码密码密码")


def test_add_user_with_a_password(pf: Planflow) -> None:
    with pf.session() as s:
        pf.org_repo.add_user(s, "alice", "Alice", password="alice's secret")
    assert verify_password(user(pf, "alice").password_hash, "alice's secret")
    message = invalid(pf, lambda s: pf.org_repo.add_user(s, "bob", "Bob", password="short"))
    assert "at least 8 characters" in message
    assert str(not_found(pf, lambda s: pf.org_repo.user_by_name(s, "bob"))) == "unknown user: 'bob'"


def test_set_password_bumps_session_version(pf: Planflow, org: Org) -> None:
    assert user(pf, "reviewer").session_version == 1
    with pf.session() as s:
        pf.org_repo.set_password(s, "reviewer", "first password")
    with pf.session() as s:
        pf.org_repo.set_password(s, "reviewer", "second password")
    after = user(pf, "reviewer")
    assert after.session_version == 3
    assert verify_password(after.password_hash, "second password")
    assert not verify_password(after.password_hash, "first password")
    invalid(pf, lambda s: pf.org_repo.set_password(s, "reviewer", "short"))
    assert user(pf, "reviewer").session_version == 3  # refused: nothing changed


def test_set_active_bumps_session_version(pf: Planflow, org: Org) -> None:
    with pf.session() as s:
        pf.org_repo.set_active(s, "reviewer", False)
    assert (user(pf, "reviewer").active, user(pf, "reviewer").session_version) == (False, 2)
    assert pf.user_id("reviewer") not in pf.org_snapshot().active_users
    with pf.session() as s:
        pf.org_repo.set_active(s, "reviewer", True)
    assert user(pf, "reviewer").session_version == 3
    assert pf.user_id("reviewer") in pf.org_snapshot().holders("reviewer", org.union)


# -- the organisation generation ------------------------------------------------------

MUTATIONS: dict[str, Callable[[Planflow, Session], Any]] = {
    "add_unit": lambda pf, s: pf.org_repo.add_unit(s, "branch_c", "Branch C", "union"),
    "move_unit": lambda pf, s: pf.org_repo.move_unit(s, "branch_b", "fed"),
    "add_user": lambda pf, s: pf.org_repo.add_user(s, "newcomer", "Newcomer"),
    "deactivate": lambda pf, s: pf.org_repo.set_active(s, "reviewer2", False),
    "activate": lambda pf, s: pf.org_repo.set_active(s, "reviewer2", True),
    "assign_role": lambda pf, s: pf.org_repo.assign_role(s, "drafter_a", "officer", "union"),
    "revoke_role": lambda pf, s: pf.org_repo.revoke_role(s, "reviewer", "reviewer", "union"),
}


@pytest.mark.parametrize("mutation", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_every_org_mutation_bumps_the_generation(
    pf: Planflow, org: Org, mutation: Callable[[Planflow, Session], Any]
) -> None:
    before = generation(pf)
    with pf.session() as s:
        mutation(pf, s)
    assert generation(pf) == before + 1
    assert pf.org_snapshot().generation == before + 1


def test_the_org_fixture_bumped_once_per_change(pf: Planflow, org: Org) -> None:
    # 4 units + 12 users + 12 role assignments, from the seeded generation 1.
    assert generation(pf) == 1 + 4 + 12 + 12


def test_a_refused_mutation_does_not_bump(pf: Planflow, org: Org) -> None:
    before = generation(pf)
    invalid(pf, lambda s: pf.org_repo.add_unit(s, "union", "Duplicate", None))
    not_found(pf, lambda s: pf.org_repo.assign_role(s, "ghost", "reviewer", "union"))
    with pf.session() as s:  # reads do not bump either
        pf.org_repo.unit_by_code(s, "union")
        pf.org_repo.user_by_name(s, "reviewer")
    assert generation(pf) == before


def test_generation_row_is_recreated_if_missing(pf: Planflow) -> None:
    with pf.session() as s:
        s.exec(OrgGeneration.__table__.delete())  # type: ignore[attr-defined, call-overload]
    with pf.session() as s:
        pf.org_repo.add_unit(s, "fed", "Federation", None)
    assert generation(pf) == 2


class CountingLoads:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = org_cache.load_snapshot

        def load(conn: Any, gen: int) -> Any:
            self.count += 1
            return real(conn, gen)

        monkeypatch.setattr(org_cache, "load_snapshot", load)


def test_org_cache_reloads_only_when_the_generation_moves(
    pf: Planflow, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = CountingLoads(monkeypatch)
    cache = OrgCache()
    g = generation(pf)
    first = cache.get(pf.db, g)
    assert (first.generation, loads.count) == (g, 1)
    assert cache.get(pf.db, g) is first
    assert cache.get(pf.db, g - 1) is first  # an older generation is served too
    assert loads.count == 1
    with pf.session() as s:
        pf.org_repo.add_unit(s, "branch_c", "Branch C", "union")
    assert cache.get(pf.db, g) is first  # the caller saw g: still good enough
    assert loads.count == 1
    moved = cache.get(pf.db, g + 1)
    assert loads.count == 2
    assert moved.generation == g + 1
    assert "branch_c" in moved.unit_ids
    assert "branch_c" not in first.unit_ids
    assert cache.get(pf.db, g + 1) is moved and loads.count == 2
    cache.clear()
    assert cache.get(pf.db, g + 1) is not moved and loads.count == 3


def test_org_cache_without_a_generation_always_loads(
    pf: Planflow, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = CountingLoads(monkeypatch)
    cache = OrgCache()
    cache.get(pf.db)
    cache.get(pf.db)
    assert loads.count == 2


def content() -> PlanContent:
    return PlanContent.from_dict(
        {"sections": [{"title": "Work", "items": [{"text": "Inspection", "due": 4}]}]}, year=2027
    )


def test_another_process_sees_org_changes_on_its_next_transition(
    pf: Planflow, org: Org, database_url: str, clock: Any
) -> None:
    """Two Planflow instances stand for two processes; only the generation connects them."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    pf.content.set_content(plan_id, content(), actor="drafter_a", expected_version=None)
    pf.fire(plan_id, "submit", "chair_a")
    assert [a.trigger for a in pf.available_actions(plan_id, "reviewer")] == ["start_review"]

    other = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
    try:
        with other.session() as s:
            other.org_repo.add_user(s, "newrev", "New Reviewer")
            other.org_repo.assign_role(s, "newrev", "reviewer", "union", known_roles=ROLES)
            other.org_repo.set_active(s, "reviewer", False)
    finally:
        other.close()

    assert [a.trigger for a in pf.available_actions(plan_id, "newrev")] == ["start_review"]
    with pytest.raises(NotFound):  # deactivated, they hold no role: the plan is not theirs to see
        pf.available_actions(plan_id, "reviewer")
    with pytest.raises(NotFound):  # and acting on it answers the same
        pf.fire(plan_id, "start_review", "reviewer")
    assert pf.fire(plan_id, "start_review", "newrev").to_state == "under_review"
    task = stored_plan(pf, plan_id)
    assert (task.task_role, task.task_unit_id) == ("reviewer", org.union)
