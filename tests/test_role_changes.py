"""A role given or taken away re-routes the open tasks it decides, in the same transaction
(issue 19, item 10's follow-up; ``planflow.services.role_changes``), on both databases.

annual_plan's inspector is looked up ``at: nearest_above``: for a plan of
branch_a, the nearest unit above with an inspector. The ``org`` fixture has
one at fed; an inspector given at union takes the task over, and taking it
away sends it back to fed.
"""

from __future__ import annotations

from conftest import CliRun, Org
from stored import stored_plan
from test_admin import told

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.storage import audit_repo, org_audit


def scheduled(pf: Planflow) -> int:
    """A plan of branch_a waiting for its inspection (the inspector's task)."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    content = PlanContent(2027).add_section("Members", key="s1").add_item("s1", "Congress", due=4)
    pf.content.set_content(plan_id, content, actor="drafter_a", expected_version=None)
    for action, actor in [
        ("submit", "chair_a"),
        ("start_review", "reviewer"),
        ("approve", "reviewer"),
        ("schedule_inspection", "officer"),
    ]:
        pf.fire(plan_id, action, actor)
    return plan_id


def org_actions(pf: Planflow) -> list[str]:
    with pf.db.read() as conn:
        return [r.action for r in org_audit.records(conn)]


def test_a_role_given_and_taken_away_moves_the_open_task(
    pf: Planflow, org: Org, cli: CliRun, database_url: str
) -> None:
    plan_id = scheduled(pf)
    before = stored_plan(pf, plan_id)
    assert (before.task_role, before.task_unit_id) == ("inspector", org.fed)
    pf.org.add_user("union_inspector", "Union Inspector")
    pf.org.add_user("boss", "The Boss")
    pf.org.assign_role("boss", "admin", "fed")
    actions = org_actions(pf)

    # Given (the library, as the system): the task moves to union, audited, the holder told.
    pf.org.assign_role("union_inspector", "inspector", "union")
    plan = stored_plan(pf, plan_id)
    assert (plan.task_unit_id, plan.version) == (org.union, before.version + 1)
    assert (plan.task_since, plan.task_due_at) == (before.task_since, before.task_due_at)
    record = pf.audit_trail(plan_id)[-1]
    assert (record.action, record.actor) == ("reroute_task", None)
    assert dict(record.detail) == {"from_unit": "fed", "to_unit": "union", "reason": "role granted"}
    assert set(told(pf, plan_id)) == {"union_inspector"}
    assert org_actions(pf) == [*actions, "role_granted"]  # one admin action, not two

    # Taken away (the admin pages' path): back to fed, the re-routing is the admin's.
    admin = pf.org_admin()
    boss, inspector = pf.user_id("boss"), pf.user_id("union_inspector")
    assert admin.revoke_role(boss, inspector, "inspector", "union")
    plan = stored_plan(pf, plan_id)
    assert plan.task_unit_id == org.fed
    record = pf.audit_trail(plan_id)[-1]
    assert (record.action, record.actor) == ("reroute_task", "boss")
    assert record.detail["reason"] == "role revoked"

    # The command line gives roles on the same path.
    code, _out, err = cli(
        "--database-url", database_url, "roles", "assign", "union_inspector", "inspector", "union"
    )
    assert code == 0, err
    assert stored_plan(pf, plan_id).task_unit_id == org.union
    assert org_actions(pf)[-3:] == ["role_granted", "role_revoked", "role_granted"]
    assert audit_repo.verify(pf.db).ok


def test_a_role_that_decides_no_task_moves_nothing(pf: Planflow, org: Org) -> None:
    plan_id = scheduled(pf)
    version = stored_plan(pf, plan_id).version
    pf.org.add_user("extra", "Extra")
    pf.org.assign_role("extra", "reviewer", "union")  # not the inspector's role
    pf.org.assign_role("extra", "inspector", "fed")  # a second inspector where the task is
    assert stored_plan(pf, plan_id).version == version
    pf.org.revoke_role("extra", "inspector", "fed")  # the first one still holds it there
    assert stored_plan(pf, plan_id).version == version
