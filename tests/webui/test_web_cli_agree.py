"""The web UI and the command line ask the library the same questions.

``planflow plans list --as USER`` lists exactly the plans USER sees on the
plans page, and ``planflow tasks USER`` the tasks on their dashboard: both
clients call ``Planflow.plans`` and ``Planflow.tasks`` with the username.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from webui_support import Plans, signed_in, text

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
