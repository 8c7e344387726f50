"""Several OS processes firing conflicting actions on the same plans at once.

The parent sets up plans on the test database (SQLite file or PostgreSQL
schema), then starts ``WORKERS`` processes with the "spawn" context. Each has
its own ``Planflow`` on the same database and plays one task per round; a
shared barrier starts every round in all processes at the same moment
(``tests/_concurrency_worker.py``). The rounds:

* ``PINNED`` annual plans under review: the two reviewers race, in four
  processes, ``approve`` against ``return_for_revision``, each sending the
  version it read before the race as ``expected_version``. Exactly one may
  win; the three losers must get ``StaleVersion`` and write nothing.
* ``UNPINNED`` annual plans: the same race without ``expected_version``. The
  service retries a lost race on fresh state, so the losers must be told the
  action is no longer allowed (``ActionNotAllowed``) - never a lost update.
* ``COMMITTEE`` committee plans under review: three members approve at once
  without ``expected_version`` (and a fourth process repeats one member's
  vote). Two distinct votes make the quorum: the plan must end approved with
  exactly two vote rows, and the duplicate or late votes must be refused.

Afterwards: every version, state and audit trail adds up, the hash chain
verifies, votes are unique per (plan, round, user), no attempt failed with
anything unexpected (such as "database is locked" on SQLite), and every
worker exited cleanly within a time limit.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import Counter, defaultdict

import pytest
from _concurrency_worker import Attempt, Done, Task, run
from conftest import T0, WORKFLOWS, Org
from sqlmodel import select
from stored import stored_plan, stored_records

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.storage import audit_repo
from planflow.storage.tables import ApprovalVote

WORKERS = 4
PINNED = 20
UNPINNED = 4
COMMITTEE = 5
#: The whole race must be over by then (spawned interpreters start in ~1-2 s).
DEADLINE_S = 180.0
JOIN_TIMEOUT_S = 15.0

#: Setup changes per plan: create, edit_content, submit (+ start_review for annual plans).
ANNUAL_SETUP_CHANGES = 4
COMMITTEE_SETUP_CHANGES = 3

#: (username, action) for workers 0..3 racing on one annual plan.
ANNUAL_RACE = (
    ("reviewer", "approve"),
    ("reviewer2", "return_for_revision"),
    ("reviewer2", "approve"),
    ("reviewer", "return_for_revision"),
)
ACTION_TO_STATE = {"approve": "approved", "return_for_revision": "returned"}


def content() -> PlanContent:
    return PlanContent.from_dict(
        {"sections": [{"title": "Work", "items": [{"text": "Dues drive", "due": 4}]}]},
        year=2027,
    )


def plan_under_review(pf: Planflow, n: int, workflow: str) -> int:
    """A plan of branch_a or branch_b (alternating), submitted and under review."""
    branch = "ab"[n % 2]
    plan_id = pf.create_plan(
        unit_code=f"branch_{branch}",
        year=2027,
        title=f"{workflow} {n}",
        actor=f"drafter_{branch}",
        workflow=workflow,
    )
    pf.content.set_content(
        plan_id,
        content(),
        actor=f"drafter_{branch}",
        expected_version=None,
    )
    pf.fire(plan_id, "submit", f"chair_{branch}")
    if workflow == "annual_plan":
        pf.fire(plan_id, "start_review", "reviewer")
    return plan_id


def race(pf: Planflow, database_url: str, rounds: list[list[Task]]) -> list[Attempt]:
    """Run ``rounds[w]`` in worker process ``w``; return every attempt of every worker."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=run,
            args=(w, database_url, str(WORKFLOWS), T0, rounds[w], barrier, results),
            name=f"planflow-worker-{w}",
            daemon=True,
        )
        for w in range(WORKERS)
    ]
    attempts: list[Attempt] = []
    done: dict[int, Done] = {}
    try:
        for p in procs:
            p.start()
        deadline = time.monotonic() + DEADLINE_S
        while len(done) < WORKERS:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"workers {set(range(WORKERS)) - set(done)} did not finish in time")
            try:
                item = results.get(timeout=min(remaining, 5.0))
            except queue.Empty:
                dead = [p.name for p in procs if not p.is_alive() and p.exitcode != 0]
                assert not dead, f"worker processes died without reporting: {dead}"
                continue
            if isinstance(item, Done):
                done[item.worker] = item
            else:
                attempts.append(item)
        for p in procs:
            p.join(JOIN_TIMEOUT_S)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(JOIN_TIMEOUT_S)
        results.close()
        results.join_thread()
    errors = {w: d.error for w, d in done.items() if d.error}
    assert not errors, "a worker stopped early:\n" + "\n".join(
        f"worker {w}:\n{e}" for w, e in errors.items()
    )
    assert [p.exitcode for p in procs] == [0] * WORKERS
    return attempts


@pytest.mark.slow
def test_racing_processes_never_lose_an_update(pf: Planflow, org: Org, database_url: str) -> None:
    pinned = [plan_under_review(pf, n, "annual_plan") for n in range(PINNED)]
    unpinned = [plan_under_review(pf, n, "annual_plan") for n in range(UNPINNED)]
    committee = [plan_under_review(pf, n, "committee_plan") for n in range(COMMITTEE)]
    setup_changes = (PINNED + UNPINNED) * ANNUAL_SETUP_CHANGES
    setup_changes += COMMITTEE * COMMITTEE_SETUP_CHANGES
    assert pf.counts()["audit_records"] == setup_changes
    users = pf.user_names()
    uid = {name: i for i, name in users.items()}

    def annual_task(w: int, plan_id: int, pin: bool) -> Task:
        user, action = ANNUAL_RACE[w]
        comment = "Please add targets." if action == "return_for_revision" else None
        return Task(plan_id, action, uid[user], comment, pin)

    def vote_task(w: int, n: int, plan_id: int) -> Task:
        member = w + 1 if w < 3 else n % 3 + 1  # worker 3 repeats a member's vote
        return Task(plan_id, "approve", uid[f"member{member}"], None, False)

    rounds = [
        [annual_task(w, p, True) for p in pinned]
        + [annual_task(w, p, False) for p in unpinned]
        + [vote_task(w, n, p) for n, p in enumerate(committee)]
        for w in range(WORKERS)
    ]
    attempts = race(pf, database_url, rounds)

    assert len(attempts) == WORKERS * len(rounds[0])
    by_plan: dict[int, list[Attempt]] = defaultdict(list)
    for a in attempts:
        by_plan[a.task.plan_id].append(a)
    outcomes = Counter(a.outcome for a in attempts)
    unexpected = [a for a in attempts if a.outcome not in OK_OUTCOMES]
    assert not unexpected, f"unexpected errors ({outcomes}): {unexpected[:5]}"

    # Pinned races: one winner, the losers StaleVersion against the version they read.
    for plan_id in pinned:
        tries = by_plan[plan_id]
        winners = [a for a in tries if a.outcome == "ok"]
        assert len(winners) == 1, (plan_id, tries)
        losers = [a for a in tries if a.outcome != "ok"]
        assert {a.outcome for a in losers} == {"StaleVersion"}, (plan_id, losers)
        for a in losers:
            assert a.detail == (ANNUAL_SETUP_CHANGES, ANNUAL_SETUP_CHANGES + 1), a
        check_single_winner(pf, plan_id, winners[0], ANNUAL_SETUP_CHANGES)

    # Unpinned races: the service retries on fresh state; the losers are refused.
    for plan_id in unpinned:
        tries = by_plan[plan_id]
        winners = [a for a in tries if a.outcome == "ok"]
        assert len(winners) == 1, (plan_id, tries)
        losers = [a for a in tries if a.outcome != "ok"]
        assert {a.outcome for a in losers} == {"ActionNotAllowed"}, (plan_id, losers)
        check_single_winner(pf, plan_id, winners[0], ANNUAL_SETUP_CHANGES)

    # Committee votes: exactly two distinct votes counted, the plan approved.
    with pf.session() as s:
        votes = [(v.plan_id, v.round, v.user_id) for v in s.exec(select(ApprovalVote))]
    assert len(votes) == len(set(votes)), "a vote was recorded twice"
    for plan_id in committee:
        tries = by_plan[plan_id]
        voters = [a.task.actor_id for a in tries if a.outcome == "ok"]
        assert len(voters) == 2 and len(set(voters)) == 2, (plan_id, tries)
        refused = {a.outcome for a in tries if a.outcome != "ok"}
        assert refused <= {"ActionNotAllowed", "GuardFailed"}, (plan_id, tries)
        plan = stored_plan(pf, plan_id)
        assert (plan.state, plan.version, plan.revision) == (
            "approved",
            COMMITTEE_SETUP_CHANGES + 2,
            1,
        )
        assert sorted(u for p, r, u in votes if p == plan_id and r == 1) == sorted(voters)
        trail = stored_records(pf, plan_id)
        assert [(r.action, r.to_state) for r in trail[-2:]] == [
            ("approve", "committee_review"),
            ("approve", "approved"),
        ]
        assert {r.actor_id for r in trail[-2:]} == set(voters)
    assert {p for p, _r, _u in votes} == set(committee)

    successes = outcomes["ok"]
    assert successes == PINNED + UNPINNED + 2 * COMMITTEE
    assert pf.counts()["audit_records"] == setup_changes + successes
    report = audit_repo.verify(pf.db)
    assert report.ok, report.problems
    assert report.records == setup_changes + successes


#: Outcomes an attempt may have at all; anything else (a driver error,
#: "database is locked", an IntegrityError on a duplicate vote) fails the test.
OK_OUTCOMES = {"ok", "StaleVersion", "ActionNotAllowed", "GuardFailed"}


def check_single_winner(pf: Planflow, plan_id: int, winner: Attempt, setup: int) -> None:
    """The plan moved once, by the winner, and its trail ends with the winner's record."""
    plan = stored_plan(pf, plan_id)
    assert (plan.state, plan.version) == (ACTION_TO_STATE[winner.task.action], setup + 1)
    assert winner.detail == setup + 1
    trail = stored_records(pf, plan_id)
    assert [r.seq for r in trail] == list(range(1, setup + 2))
    last = trail[-1]
    assert (last.action, last.actor_id, last.from_state, last.to_state) == (
        winner.task.action,
        winner.task.actor_id,
        "under_review",
        plan.state,
    )
