"""W1 as hand-written SQL: the floor planflow is measured against.

The minimum SQL for W1's path, one committed transaction per step: read the
plan, update its state, append an audit row. ``w1_reference`` runs the same
statements with the bare ``transitions`` library choosing the next state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Sequence
from datetime import UTC, datetime
from typing import Any

from bench.common import Scratch
from bench.w1_paths import DEST, path_for
from planflow.storage.db import SQLITE_PAGE_SIZE

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
#: (first, end) plan indexes; a runner does each chunk between two yields.
Chunks = Sequence[tuple[int, int]]
#: Yields once set up and after each chunk; returns its result (see ``w1.interleave``).
Runner = Generator[None, None, dict[str, Any]]


def hand_written_steps(
    scratch: Scratch, n: int, chunks: Chunks, name: str = "floor", decide: Decide | None = None
) -> Runner:
    """W1 as plain SQL; ``decide(state, action)`` gives the next state (default: ``DEST``)."""
    db = FloorSql(scratch, name)
    execute, begin, commit = db.conn.execute, db.begin, db.commit
    steps = 0
    yield
    for lo, hi in chunks:
        for i in range(lo, hi):
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
        yield
    accepted = db.count("SELECT count(*) FROM floor_plan WHERE state = 'accepted'")
    audits = db.count("SELECT count(*) FROM floor_audit")
    db.conn.close()
    problems = []
    if accepted != n or audits != steps:
        problems.append(f"{name}: {accepted} accepted, {audits} audit rows, {steps} steps")
    return {"steps": steps, "problems": problems}
