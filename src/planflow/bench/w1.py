"""W1, the plan approval lifecycle: planflow against hand-written SQL.

Each step is its own committed transaction that loads the plan fresh by id,
as a web request would. planflow runs the real engine (permissions, guards,
n-of-m bookkeeping), the hash-chained audit, tasks, timers and notifications;
the floor runs the minimum SQL for the same path: read the plan, update its
state, append an audit row.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from ..api import Planflow
from ..storage import audit_repo
from ..storage.db import SQLITE_PAGE_SIZE
from ..storage.tables import AuditRecord, Plan
from .common import CONTENT, Scratch, peak_rss_mib, run_child, scratch_database

YEAR = 2027
BRANCHES = 10

HAPPY = ["submit", "start_review", "approve", "schedule_inspection", "inspect", "accept"]
WITH_RETURN = [
    "submit",
    "start_review",
    "return_for_revision",
    "resubmit",
    "start_review",
    "approve",
    "schedule_inspection",
    "inspect",
    "accept",
]
DEST = {
    "submit": "submitted",
    "start_review": "under_review",
    "approve": "approved",
    "return_for_revision": "returned",
    "resubmit": "submitted",
    "schedule_inspection": "inspection_scheduled",
    "inspect": "inspected",
    "accept": "accepted",
}


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


def path_for(index: int) -> list[str]:
    return WITH_RETURN if index % 5 == 4 else HAPPY


def expected_steps(n: int) -> int:
    return sum(1 + len(path_for(i)) for i in range(n))


# -- planflow ------------------------------------------------------------------


def _setup_org(pf: Planflow) -> dict[str, Any]:
    with pf.session() as s:
        pf.org.add_unit(s, "fed", "Federation", None)
        pf.org.add_unit(s, "union", "Union", "fed")
        for name, role, unit in [
            ("officer", "officer", "fed"),
            ("inspector", "inspector", "fed"),
            ("reviewer", "reviewer", "union"),
        ]:
            pf.org.add_user(s, name, name)
            pf.org.assign_role(s, name, role, unit)
        for b in range(BRANCHES):
            pf.org.add_unit(s, f"b{b}", f"Branch {b}", "union")
            for role in ("drafter", "submitter"):
                pf.org.add_user(s, f"b{b}.{role}", f"{role} {b}")
                pf.org.assign_role(s, f"b{b}.{role}", role, f"b{b}")
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


def run_planflow(scratch: Scratch, n: int) -> dict[str, Any]:
    pf = Planflow(scratch.url)
    pf.init()
    ids = _setup_org(pf)
    service = pf.service
    steps = 0
    started = time.perf_counter()
    for i in range(n):
        b = i % BRANCHES
        plan_id = service.create_plan(
            unit_id=ids["units"][b],
            year=YEAR,
            title=f"Plan {i}",
            actor_id=ids["drafter"][b],
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
    seconds = time.perf_counter() - started
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
    return {"steps": steps, "seconds": seconds, "peak_rss_mib": rss, "problems": problems}


# -- the floor: hand-written SQL --------------------------------------------------

FLOOR_SCHEMA = [
    "CREATE TABLE floor_plan (id {pk}, state TEXT NOT NULL, version INTEGER NOT NULL)",
    "CREATE TABLE floor_audit (id {pk}, plan_id INTEGER NOT NULL REFERENCES floor_plan(id),"
    " actor INTEGER,"
    " from_state TEXT, to_state TEXT NOT NULL, event TEXT NOT NULL, comment TEXT,"
    " at TIMESTAMP NOT NULL)",
]


class FloorSql:
    """A bare DBAPI connection with the floor's two tables and a step's statements.

    ``name`` prefixes the tables and, on SQLite, names the file beside
    planflow's, so that several hand-written runs share a scratch database
    without meeting. The statements are translated once, here, not per step.
    """

    def __init__(self, scratch: Scratch, name: str) -> None:
        self.kind = scratch.kind
        self.prefix = f"{name}_"
        if scratch.kind == "sqlite":
            conn: Any = sqlite3.connect(f"{scratch.raw}.{name}", isolation_level=None)
            # The same file settings as planflow's own databases (storage.db).
            conn.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            ddls = [ddl.format(pk="INTEGER PRIMARY KEY") for ddl in FLOOR_SCHEMA]
        else:
            import psycopg

            conn = psycopg.connect(scratch.raw, options=f"-csearch_path={scratch.schema}")
            ddls = [
                ddl.format(pk="SERIAL PRIMARY KEY").replace("TIMESTAMP", "TIMESTAMPTZ")
                for ddl in FLOOR_SCHEMA
            ]
        self.conn = conn
        for ddl in ddls:
            conn.execute(self.sql(ddl))
        if scratch.kind != "sqlite":
            conn.commit()
        self.create = self.sql(
            "INSERT INTO floor_plan (state, version) VALUES ('draft', 1) RETURNING id"
        )
        self.create_audit = self.sql(
            "INSERT INTO floor_audit (plan_id, actor, from_state, to_state, event, comment, at)"
            " VALUES (?, ?, NULL, 'draft', 'create', NULL, ?)"
        )
        self.load = self.sql("SELECT state, version FROM floor_plan WHERE id = ?")
        self.update = self.sql(
            "UPDATE floor_plan SET state = ?, version = ? WHERE id = ? AND version = ?"
        )
        self.audit = self.sql(
            "INSERT INTO floor_audit (plan_id, actor, from_state, to_state, event, comment, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )

    def sql(self, text: str) -> str:
        text = text.replace("floor_", self.prefix)
        return text if self.kind == "sqlite" else text.replace("?", "%s")

    def begin(self) -> None:
        if self.kind == "sqlite":
            self.conn.execute("BEGIN IMMEDIATE")
        # psycopg opens the transaction on the first statement

    def commit(self) -> None:
        if self.kind == "sqlite":
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def count(self, text: str) -> int:
        return int(self.conn.execute(self.sql(text)).fetchone()[0])


Decide = Callable[[str, str], str]


def run_hand_written(
    scratch: Scratch, n: int, name: str = "floor", decide: Decide | None = None
) -> dict[str, Any]:
    """W1 as plain SQL; ``decide(state, action)`` gives the next state (default: ``DEST``)."""
    from datetime import UTC, datetime

    db = FloorSql(scratch, name)
    execute, begin, commit = db.conn.execute, db.begin, db.commit
    steps = 0
    started = time.perf_counter()
    for i in range(n):
        begin()
        plan_id = execute(db.create, ()).fetchone()[0]
        execute(db.create_audit, (plan_id, 1, datetime.now(UTC)))
        commit()
        steps += 1
        for action in path_for(i):
            begin()
            state, version = execute(db.load, (plan_id,)).fetchone()
            dest = DEST[action] if decide is None else decide(state, action)
            execute(db.update, (dest, version + 1, plan_id, version))
            comment = "Please add targets." if action == "return_for_revision" else None
            execute(db.audit, (plan_id, 2, state, dest, action, comment, datetime.now(UTC)))
            commit()
            steps += 1
    seconds = time.perf_counter() - started
    accepted = db.count("SELECT count(*) FROM floor_plan WHERE state = 'accepted'")
    audits = db.count("SELECT count(*) FROM floor_audit")
    db.conn.close()
    problems = []
    if accepted != n or audits != steps:
        problems.append(f"{name}: {accepted} accepted, {audits} audit rows, {steps} steps")
    return {"steps": steps, "seconds": seconds, "problems": problems}


def run_floor(scratch: Scratch, n: int) -> dict[str, Any]:
    return run_hand_written(scratch, n)


def measure(n: int, database_url: str | None) -> dict[str, Any]:
    """One W1 measurement: the floor, the bare-library reference and planflow, in one run."""
    from .w1_reference import run_reference

    with scratch_database(database_url, "w1") as scratch:
        floor = run_floor(scratch, n)
        reference = run_reference(scratch, n)
        ours = run_planflow(scratch, n)
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
    return run_child("planflow.bench.w1", {"n": n, "database_url": database_url})


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    print(json.dumps(measure(int(args["n"]), args.get("database_url"))))
