"""W1, the plan approval lifecycle: planflow against hand-written SQL.

Each step is its own committed transaction that loads the plan fresh by id,
as a web request would. planflow runs the real engine (permissions, guards,
n-of-m bookkeeping), the hash-chained audit, tasks, timers and notifications,
on W1's own definition (``workflows/w1_annual_plan.yaml``: the shipped
annual plan without the scoring-sheet guards, loaded as any definition is);
the floor (``w1_floor``) runs the minimum SQL for the same path, and the
reference (``w1_reference``) the bare ``transitions`` library on that SQL.
The three take turns, a tenth of the plans at a time (``interleave``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bench.common import CONTENT, Scratch, peak_rss_mib, run_child, scratch_database
from bench.w1_floor import Chunks, Runner, hand_written_steps
from bench.w1_paths import expected_steps, path_for
from planflow.app import Planflow
from planflow.storage import audit_repo
from planflow.storage.tables import AuditRecord, Plan

__all__ = ["WORKFLOW", "WORKFLOWS", "Runner", "expected_steps", "interleave", "measure", "path_for"]

YEAR = 2027
BRANCHES = 10
#: W1's definition, in a folder of its own that planflow reads like any ``workflows/``.
WORKFLOWS = Path(__file__).resolve().parent / "workflows"
WORKFLOW = "w1_annual_plan"

#: Who takes each action: the branch's chair, or the one reviewer, officer, inspector.
ACTOR_FOR = {
    "submit": "chair",
    "resubmit": "chair",
    "start_review": "reviewer",
    "approve": "reviewer",
    "return_for_revision": "reviewer",
    "schedule_inspection": "officer",
    "inspect": "inspector",
    "accept": "inspector",
}


# -- planflow ------------------------------------------------------------------


def _setup_org(pf: Planflow) -> dict[str, Any]:
    with pf.session() as s:
        pf.org_repo.add_unit(s, "fed", "Federation", None)
        pf.org_repo.add_unit(s, "union", "Union", "fed")
        for name, role, unit in [
            ("officer", "officer", "fed"),
            ("inspector", "inspector", "fed"),
            ("reviewer", "reviewer", "union"),
        ]:
            pf.org_repo.add_user(s, name, name)
            pf.org_repo.assign_role(s, name, role, unit)
        for b in range(BRANCHES):
            pf.org_repo.add_unit(s, f"b{b}", f"Branch {b}", "union")
            for role in ("drafter", "submitter"):
                pf.org_repo.add_user(s, f"b{b}.{role}", f"{role} {b}")
                pf.org_repo.assign_role(s, f"b{b}.{role}", role, f"b{b}")
    pf.registry.all()  # read the definition files now, not in the timed loop
    ids = pf.user_names()
    by_name = {v: k for k, v in ids.items()}
    return {
        "units": [pf.unit_id(f"b{b}") for b in range(BRANCHES)],
        "drafter": [by_name[f"b{b}.drafter"] for b in range(BRANCHES)],
        "chair": [by_name[f"b{b}.submitter"] for b in range(BRANCHES)],
        "reviewer": by_name["reviewer"],
        "officer": by_name["officer"],
        "inspector": by_name["inspector"],
    }


def planflow_steps(scratch: Scratch, n: int, chunks: Chunks) -> Runner:
    """W1 through planflow's service; yields once set up and after each chunk of plans."""
    pf = Planflow(scratch.url, workflows_dir=WORKFLOWS)
    pf.init()
    ids = _setup_org(pf)
    service = pf.service
    steps = 0
    yield
    for lo, hi in chunks:
        for i in range(lo, hi):
            b = i % BRANCHES
            plan_id = service.create_plan(
                unit_id=ids["units"][b],
                year=YEAR,
                title=f"Plan {i}",
                actor_id=ids["drafter"][b],
                workflow=WORKFLOW,
                content_json=CONTENT,
                item_count=3,
                items_without_due=0,
            )
            steps += 1
            for action in path_for(i):
                who = ACTOR_FOR[action]
                actor = ids[who][b] if who == "chair" else ids[who]
                comment = "Please add targets." if action == "return_for_revision" else None
                service.fire(plan_id, action, actor, comment)
                steps += 1
        yield
    rss = peak_rss_mib()
    with pf.session() as s:
        accepted = s.exec(
            select(func.count()).select_from(Plan).where(Plan.state == "accepted")
        ).one()
        audits = s.exec(select(func.count()).select_from(AuditRecord)).one()
    report = audit_repo.verify(pf.db)
    pf.close()
    problems = []
    if accepted != n:
        problems.append(f"{accepted} of {n} plans accepted")
    if audits != steps:
        problems.append(f"{audits} audit records for {steps} steps")
    if not report.ok:
        problems.append(f"audit chain: {report.first_problem}")
    return {"steps": steps, "peak_rss_mib": rss, "problems": problems}


#: The plans of a run go in this many chunks, each runner taking its turn.
ROUNDS = 10


def interleave(runners: dict[str, Runner]) -> dict[str, dict[str, Any]]:
    """Run the runners chunk by chunk in turn; each result gets its ``seconds``.

    This machine's speed drifts by up to 2x within tens of seconds, so three
    runs one after the other would each meet a different machine. In turns,
    rotating who goes first, they share its ups and downs; only the chunks
    are timed, not set-up or verification.
    """
    for runner in runners.values():
        next(runner)  # set up
    seconds = dict.fromkeys(runners, 0.0)
    names = list(runners)
    for round_ in range(ROUNDS):
        first = round_ % len(names)
        for name in names[first:] + names[:first]:
            started = time.perf_counter()
            next(runners[name])
            seconds[name] += time.perf_counter() - started
    results = {}
    for name, runner in runners.items():
        try:
            next(runner)
        except StopIteration as done:
            results[name] = {**done.value, "seconds": seconds[name]}
        else:
            raise AssertionError(f"{name} has more than {ROUNDS} chunks")
    return results


def measure(n: int, database_url: str | None) -> dict[str, Any]:
    """One W1 measurement: the floor, the bare-library reference and planflow, in one run."""
    from bench.w1_reference import reference_steps

    chunks = [(n * r // ROUNDS, n * (r + 1) // ROUNDS) for r in range(ROUNDS)]
    with scratch_database(database_url, "w1") as scratch:
        results = interleave(
            {
                "floor": hand_written_steps(scratch, n, chunks),
                "reference": reference_steps(scratch, n, chunks),
                "planflow": planflow_steps(scratch, n, chunks),
            }
        )
    floor, reference, ours = results["floor"], results["reference"], results["planflow"]
    sps = ours["steps"] / ours["seconds"]
    floor_sps = floor["steps"] / floor["seconds"]
    reference_sps = reference["steps"] / reference["seconds"]
    problems = floor["problems"] + reference["problems"] + ours["problems"]
    return {
        "workload": "w1",
        "database": scratch.kind,
        "n": n,
        "steps": ours["steps"],
        "expected_steps": expected_steps(n),
        "seconds": round(ours["seconds"], 3),
        "steps_per_second": round(sps, 1),
        "floor_seconds": round(floor["seconds"], 3),
        "floor_steps_per_second": round(floor_sps, 1),
        "ratio_to_floor": round(sps / floor_sps, 3),
        # The bare ``transitions`` library on the same SQL (``w1_reference``).
        "reference_steps_per_second": round(reference_sps, 1),
        "reference_ratio_to_floor": round(reference_sps / floor_sps, 3),
        "peak_rss_mib": round(ours["peak_rss_mib"], 1),
        "verified": not problems and ours["steps"] == expected_steps(n),
        "problems": problems,
    }


def measure_in_child(n: int, database_url: str | None) -> dict[str, Any]:
    return run_child("bench.w1", {"n": n, "database_url": database_url})


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    print(json.dumps(measure(int(args["n"]), args.get("database_url"))))
