"""A unit moves while its plans are reviewed and escalated in other processes (issue 19).

An administrator moves ``branch_a`` back and forth between two unions
(``services.unit_moves``: the move and the re-routing of its plans' open tasks
in one transaction) while two processes start reviews and approve its plans as
every reviewer there is, and a third runs the deadline processor so overdue
tasks escalate (and escalate again after a move re-routed them). Afterwards
every open task is routed by one tree, the final one or, for a transition that
read the tree just before the last move committed (the window
``services.reroute`` names), the one before it: never a task at one tree's unit
escalated along the other's, never a move half applied. Moving the unit to the
parent it already has then leaves every task where the final tree sends it. The
audit trail verifies, and each plan's stored state and version are what its
own trail says. On SQLite (one writer at a time) the same checks must hold too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import Org
from stored import stored_plan
from test_admin import add_reviewer, submitted

from planflow.app import Planflow
from planflow.core.org import OrgSnapshot
from planflow.storage import audit_repo
from planflow.storage.tables import Plan

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("_move_race_worker.py")
PLANS = 24
#: Moves made while the workers act (a pause between them lets the workers in).
MOVES = 8


def consistent(org: OrgSnapshot, pf: Planflow, plan: Plan) -> bool:
    """Is the plan's open task where ``org`` sends it (escalated, if at all, up ``org``)?"""
    spec = pf.service.definitions.spec_for(pf.db, plan.workflow_name, plan.workflow_version)
    task = spec.state(plan.state).task
    if plan.task_role is None or task is None:
        return True
    home = org.resolve(task.assignee, plan.unit_id)
    if plan.task_unit_id != home:
        return False
    escalated = plan.task_escalated_unit_id
    return escalated is None or (home is not None and escalated in org.ancestors(home))


def test_a_unit_move_racing_reviews_and_escalations_leaves_every_task_on_one_tree(
    pf: Planflow, org: Org, database_url: str, tmp_path: Path
) -> None:
    with pf.session() as s:
        pf.org_repo.add_unit(s, "union2", "Union Two", "fed")
    add_reviewer(pf, "reviewer_2", "union2")
    plans = [submitted(pf) for _ in range(PLANS)]
    stop = tmp_path / "stop"
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), database_url, kind, str(stop), json.dumps(plans)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind in ("review", "review", "escalate")
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
    trees: list[OrgSnapshot] = [pf.org_snapshot()]
    moves = Counter[str]()
    for n in range(MOVES):
        moved = pf.org.move_unit("branch_a", "union2" if n % 2 == 0 else "union")
        moves["rerouted"] += len(moved.rerouted)
        trees.append(pf.org_snapshot())
        time.sleep(0.1)
    stop.touch()
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    # The race happened: moves re-routed tasks while the others acted and escalated.
    assert moves["rerouted"] > 0, moves
    assert sum(o.get("start_review", 0) + o.get("approve", 0) for o in outcomes[:2]) > 0
    assert outcomes[2]["effects"] > 0, outcomes

    final, before_last = trees[-1], trees[-2]
    for plan_id in plans:
        plan = stored_plan(pf, plan_id)
        trail = pf.audit_trail(plan_id)
        by_final = consistent(final, pf, plan)
        assert by_final or consistent(before_last, pf, plan), (
            plan_id, plan.state, plan.task_unit_id, plan.task_escalated_unit_id,
        )  # fmt: skip
        # Only a transition racing the last move may have left a task by the tree before
        # it; what a move itself re-routed is by the tree it made, and the record says so.
        last = trail[-1]
        if last.action == "reroute_task":
            assert by_final, (plan_id, last.detail)
            assert last.detail["to_unit"] == final.units[plan.task_unit_id or 0].code
        assert [r.seq for r in trail] == list(range(1, len(trail) + 1))
        assert trail[-1].to_state == plan.state, (plan_id, trail[-1], plan.state)
    report = audit_repo.verify(pf.db)
    assert report.ok, report.problems

    # Moving it where it is finishes what the window left: every task by the final tree.
    pf.org.move_unit("branch_a", final.units[final.parent(pf.unit_id("branch_a")) or 0].code)
    for plan_id in plans:
        plan = stored_plan(pf, plan_id)
        assert consistent(final, pf, plan), (plan_id, plan.state, plan.task_unit_id)
    assert audit_repo.verify(pf.db).ok
