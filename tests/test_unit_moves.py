"""One path for a move: the library, the command line and the admin pages alike.

A unit moved with ``Planflow.org.move_unit``, ``planflow units move`` or an
admin's ``OrgAdmin.move_unit`` (the web page's call) takes the open tasks of
its plans along, in the same transaction (``planflow.services.unit_moves``):
a plan under review whose reviewer is found ``at: parent`` waits for the new
parent's reviewer afterwards, with a ``reroute_task`` record on its trail and
the new reviewer told. Either the move and every re-routing are saved, or
nothing is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import CliRun, Org
from stored import stored_plan
from test_admin import ROLES, add_reviewer, submitted, told

from planflow import UnitMoved, UnitRef
from planflow.app import Planflow
from planflow.errors import NotFound, PermissionDenied, ValidationError
from planflow.services.admin_directory import AdminRefused
from planflow.storage import audit_repo


@pytest.fixture
def union2(pf: Planflow, org: Org) -> None:
    """A second union with its own reviewer, and an admin of everything."""
    with pf.session() as s:
        pf.org_repo.add_unit(s, "union2", "Union Two", "fed")
        pf.org_repo.add_user(s, "fed_admin", "Fed Admin")
        pf.org_repo.assign_role(s, "fed_admin", "admin", "fed", known_roles=ROLES)
        pf.org_repo.add_user(s, "union_admin", "Union Admin")
        pf.org_repo.assign_role(s, "union_admin", "admin", "union", known_roles=ROLES)
    add_reviewer(pf, "reviewer_2", "union2")


Mover = Callable[[Planflow, CliRun, str, str, str], None]


def by_library(pf: Planflow, _cli: CliRun, _url: str, code: str, parent: str) -> None:
    moved = pf.org.move_unit(code, parent)
    assert isinstance(moved, UnitMoved)


def by_library_as_admin(pf: Planflow, _cli: CliRun, _url: str, code: str, parent: str) -> None:
    pf.org.move_unit(code, parent, actor="fed_admin")


def by_cli(pf: Planflow, cli: CliRun, url: str, code: str, parent: str) -> None:
    code_, out, err = cli("--database-url", url, "units", "move", code, "--parent", parent)
    assert code_ == 0, err
    assert out.splitlines()[0] == f"unit {code} moved under {parent}"


def by_cli_as_admin(pf: Planflow, cli: CliRun, url: str, code: str, parent: str) -> None:
    argv = ("units", "move", code, "--parent", parent, "--as", "fed_admin")
    code_, _out, err = cli("--database-url", url, *argv)
    assert code_ == 0, err


def by_web_path(pf: Planflow, _cli: CliRun, _url: str, code: str, parent: str) -> None:
    # What the admin page's POST /admin/units/<code>/move calls.
    pf.org_admin().move_unit(pf.user_id("fed_admin"), code, parent)


MOVERS: dict[str, tuple[Mover, str | None]] = {
    "library": (by_library, None),
    "library-as-admin": (by_library_as_admin, "fed_admin"),
    "cli": (by_cli, None),
    "cli-as-admin": (by_cli_as_admin, "fed_admin"),
    "web-path": (by_web_path, "fed_admin"),
}


@pytest.mark.parametrize("how", list(MOVERS))
def test_every_client_takes_the_waiting_plan_to_the_new_parent(
    pf: Planflow, union2: None, cli: CliRun, database_url: str, how: str
) -> None:
    move, actor = MOVERS[how]
    plan_id = submitted(pf)  # waits for a reviewer at the parent of branch_a: union
    review = pf.fire(submitted(pf), "start_review", "reviewer").plan_id  # under review
    elsewhere = submitted(pf, "b")
    before = {p: stored_plan(pf, p) for p in (plan_id, review, elsewhere)}
    assert {before[p].task_unit_id for p in before} == {pf.unit_id("union")}

    move(pf, cli, database_url, "branch_a", "union2")

    assert pf.org_snapshot().parent(pf.unit_id("branch_a")) == pf.unit_id("union2")
    for pid in (plan_id, review):
        plan = stored_plan(pf, pid)
        assert (plan.task_role, plan.task_unit_id) == ("reviewer", pf.unit_id("union2"))
        assert plan.version == before[pid].version + 1
        assert plan.task_since == before[pid].task_since  # the same task, elsewhere
        assert plan.task_due_at == before[pid].task_due_at
        record = pf.audit_trail(pid)[-1]
        assert (record.action, record.actor) == ("reroute_task", actor)
        assert dict(record.detail) == {
            "from_unit": "union",
            "to_unit": "union2",
            "reason": "unit moved",
        }
        assert set(told(pf, pid)) == {"reviewer_2"}
    assert stored_plan(pf, elsewhere).version == before[elsewhere].version  # not in the subtree
    assert {t.plan_id for t in pf.inbox.tasks("reviewer_2")} == {plan_id, review}
    assert [t.plan_id for t in pf.inbox.tasks("reviewer")] == [elsewhere]
    assert audit_repo.verify(pf.db).ok
    # The new union's reviewer acts; to the old one the plan is no longer theirs to see.
    with pytest.raises(NotFound):
        pf.fire(review, "approve", "reviewer")
    assert pf.fire(review, "approve", "reviewer_2").to_state == "approved"


def test_the_library_says_what_moved_and_what_followed(pf: Planflow, union2: None) -> None:
    plan_id = submitted(pf)
    draft = pf.create_plan(unit_code="branch_a", year=2027, title="Draft", actor="drafter_a")
    moved = pf.org.move_unit("branch_a", "union2")
    assert moved == UnitMoved(
        UnitRef("branch_a", "Branch A 분회"), UnitRef("union2", "Union Two"), (plan_id,), 0
    )
    assert stored_plan(pf, draft).version == 1  # no task: nothing to route
    # The same move again finds nothing left: no new version, record or notice.
    again = pf.org.move_unit("branch_a", "union2")
    assert (again.rerouted, again.unchanged) == ((), 1)
    assert sum(r.action == "reroute_task" for r in pf.audit_trail(plan_id)) == 1
    assert len(told(pf, plan_id)) == 1
    # To the top: the plan's reviewer is found at the parent, and there is none.
    top = pf.org.move_unit("branch_a", None)
    assert (top.parent, top.rerouted) == (None, (plan_id,))
    assert stored_plan(pf, plan_id).task_unit_id is None  # shown as unassigned
    assert audit_repo.verify(pf.db).ok


def test_the_command_line_names_the_plans_that_followed(
    pf: Planflow, union2: None, cli: CliRun, database_url: str
) -> None:
    plan_id = submitted(pf)
    code, out, err = cli(
        "--database-url", database_url, "units", "move", "branch_a", "--parent", "union2"
    )
    assert code == 0, err
    assert out == (
        "unit branch_a moved under union2\n"
        f"open tasks routed again by the new tree: 1 (plans {plan_id})\n"
    )
    code, out, _ = cli(
        "--database-url", database_url, "units", "move", "branch_a", "--parent", "union2"
    )
    assert (code, out) == (0, "unit branch_a moved under union2\n")


def test_a_move_that_fails_half_way_saves_nothing(
    pf: Planflow, union2: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = submitted(pf), submitted(pf)
    versions = {p: stored_plan(pf, p).version for p in (first, second)}
    service = pf.service
    change_in = service.change_in
    done: list[int] = []

    def failing(tx: Any, row: Any, *args: Any, **kwargs: Any) -> Any:
        if done:
            raise RuntimeError("the machine fell over")
        done.append(row.id)
        return change_in(tx, row, *args, **kwargs)

    monkeypatch.setattr(service, "change_in", failing)
    with pytest.raises(RuntimeError):
        pf.org.move_unit("branch_a", "union2")
    monkeypatch.undo()
    assert done == [first]  # the first was re-routed in the transaction, then rolled back
    assert pf.org_snapshot().parent(pf.unit_id("branch_a")) == pf.unit_id("union")
    for plan_id, version in versions.items():
        plan = stored_plan(pf, plan_id)
        assert (plan.version, plan.task_unit_id) == (version, pf.unit_id("union"))
        assert pf.audit_trail(plan_id)[-1].action == "submit"
        assert told(pf, plan_id) == {}
    assert audit_repo.verify(pf.db).ok
    # And once it can, it all goes through.
    assert pf.org.move_unit("branch_a", "union2").rerouted == (first, second)


def test_a_move_to_the_same_parent_finishes_what_an_older_move_left(
    pf: Planflow, union2: None
) -> None:
    plan_id = submitted(pf)
    with pf.session() as s:  # the bare storage step, as moves were before: tasks stay behind
        pf.org_repo.move_unit(s, "branch_a", "union2")
    assert stored_plan(pf, plan_id).task_unit_id == pf.unit_id("union")
    assert pf.org.move_unit("branch_a", "union2").rerouted == (plan_id,)
    assert stored_plan(pf, plan_id).task_unit_id == pf.unit_id("union2")


def test_refused_moves_change_nothing(
    pf: Planflow, union2: None, cli: CliRun, database_url: str
) -> None:
    plan_id = submitted(pf)
    version = stored_plan(pf, plan_id).version
    with pytest.raises(ValidationError, match="below itself"):
        pf.org.move_unit("union", "branch_a")
    with pytest.raises(NotFound):
        pf.org.move_unit("branch_a", "nowhere")
    # As an administrator: only within their units, never to the top.
    with pytest.raises(NotFound):
        pf.org.move_unit("branch_a", "union2", actor="union_admin")
    with pytest.raises(AdminRefused) as refused:
        pf.org.move_unit("branch_a", None, actor="fed_admin")
    assert refused.value.reason == "required"
    with pytest.raises(PermissionDenied):
        pf.org.move_unit("branch_a", "union2", actor="reviewer")
    code, _out, err = cli(
        "--database-url",
        database_url,
        "units",
        "move",
        "branch_a",
        "--parent",
        "union2",
        "--as",
        "reviewer",
    )
    assert code == 1 and "only an administrator may change the organisation" in err
    assert pf.org_snapshot().parent(pf.unit_id("branch_a")) == pf.unit_id("union")
    assert stored_plan(pf, plan_id).version == version
