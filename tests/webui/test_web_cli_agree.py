"""The web UI and the command line ask the library the same questions.

``planflow plans list --as USER`` lists exactly the plans USER sees on the
plans page, and ``planflow tasks USER`` the tasks on their dashboard: both
clients call ``Planflow.plans`` and ``Planflow.tasks`` with the username.
A unit moved on the admin page or with ``planflow units move`` takes its
plans' open tasks along alike: both move it through ``Planflow``'s one path.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from stored import stored_plan
from test_web_admin_support import ROLES, add_admins
from webui_support import Plans, signed_in, text

from planflow.app import Planflow
from planflow.cli import main

LINKED = re.compile(r'href="/plans/(\d+)"')


def cli_plan_ids(capsys: pytest.CaptureFixture[str], *argv: str) -> set[int]:
    capsys.readouterr()
    assert main(["plans", "list", *argv]) == 0
    out = capsys.readouterr().out
    return {int(line.split()[0]) for line in out.splitlines() if line[:6].strip().isdigit()}


def world(plans: Plans) -> dict[str, int]:
    """Drafts, submitted and reviewed plans of both branches, and a returned one."""
    made = {
        "draft_a": plans.create("branch_a"),
        "draft_b": plans.create("branch_b"),
        "sent_a": plans.submitted("branch_a"),
        "sent_b": plans.submitted("branch_b"),
        "review_a": plans.under_review("branch_a"),
    }
    returned = plans.under_review("branch_b")
    plans.fire(returned, ("return_for_revision", "reviewer", "Add targets"))
    made["returned_b"] = returned
    return made


@pytest.mark.parametrize(
    "user", ["drafter_a", "chair_b", "reviewer", "fed_reviewer", "inspector", "member1"]
)
def test_plans_list_as_a_user_is_their_plans_page(
    app: Flask,
    plans: Plans,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    user: str,
) -> None:
    made = world(plans)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    page = text(signed_in(app, user).get("/plans/"))
    on_page = {int(i) for i in LINKED.findall(page)}
    assert cli_plan_ids(capsys, "--as", user) == on_page
    assert cli_plan_ids(capsys) == set(made.values())  # without --as: every plan
    if user == "drafter_a":
        assert on_page == {made["draft_a"], made["sent_a"], made["review_a"]}


def test_tasks_agree_with_the_dashboard(
    app: Flask,
    plans: Plans,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = world(plans)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    seen = {}
    for user in ("reviewer", "drafter_b", "drafter_a", "fed_reviewer"):
        capsys.readouterr()
        assert main(["tasks", user]) == 0
        lines = capsys.readouterr().out.splitlines()
        listed = {int(line.split()[0]) for line in lines if line.split()[0].isdigit()}
        dashboard = text(signed_in(app, user).get("/"))
        mine = dashboard.split('id="tasks-h"', 1)[1].split('id="recent-h"', 1)[0]
        assert listed == {int(i) for i in LINKED.findall(mine)}, user
        seen[user] = listed
    assert seen["reviewer"] == {made["sent_a"], made["sent_b"], made["review_a"]}
    assert seen["drafter_b"] == {made["returned_b"]}
    assert seen["drafter_a"] == seen["fed_reviewer"] == set()


def test_a_move_on_the_admin_page_and_on_the_command_line_route_tasks_alike(
    app: Flask,
    plans: Plans,
    pf: Planflow,
    password_hash: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_admins(pf, password_hash)
    with pf.session() as s:
        pf.org_repo.add_user(s, "reviewer_u2", "Reviewer U2")
        pf.org_repo.assign_role(s, "reviewer_u2", "reviewer", "union2", known_roles=ROLES)
    on_web = plans.under_review("branch_b")
    on_cli = plans.under_review("branch_a")
    web = signed_in(app, "fed_admin")
    assert web.post_form("/admin/units/branch_b/move", {"parent": "union2"}).status_code == 302
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    capsys.readouterr()
    assert main(["units", "move", "branch_a", "--parent", "union2", "--as", "fed_admin"]) == 0
    assert f"(plans {on_cli})" in capsys.readouterr().out

    def outcome(plan_id: int) -> tuple[object, ...]:
        plan = stored_plan(pf, plan_id)
        last = pf.audit_trail(plan_id)[-1]
        told = {n.plan_id for n in pf.inbox.notifications("reviewer_u2") if n.kind == "reroute"}
        return (
            plan.task_role,
            plan.task_unit_id,
            plan.task_level,
            plan.timer_kind,
            last.action,
            last.actor,
            dict(last.detail),
            plan_id in told,
        )

    assert outcome(on_web) == outcome(on_cli)
    assert outcome(on_cli)[:2] == ("reviewer", pf.unit_id("union2"))
    assert outcome(on_cli)[4:] == (
        "reroute_task",
        "fed_admin",
        {"from_unit": "union", "to_unit": "union2", "reason": "unit moved"},
        True,
    )
