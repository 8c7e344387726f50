"""W2's floor: the escalation scan in hand-written SQL, on a connection of its own.

The same M deadlines in a table of their own; one query for the due plans,
then for each an UPDATE of its level and an audit INSERT in its own
transaction (sqlite3 or psycopg, nothing in between). What planflow's
deadline processor is measured against.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any

from bench.common import Scratch
from bench.w2_population import CHUNK, chunks, vacuum_analyze
from bench.w2_timeline import STATE, deadline, expected_overdue, working_days
from planflow.core.calendar import BusinessCalendar
from planflow.storage.tx import sqlite_datetime

FLOOR_SCHEMA = [
    "CREATE TABLE floor_plan (id INTEGER PRIMARY KEY, state TEXT NOT NULL,"
    " task_level INTEGER NOT NULL, timer_at TIMESTAMP)",
    "CREATE INDEX ix_floor_plan_timer ON floor_plan (timer_at)",
    "CREATE TABLE floor_audit (id {pk}, plan_id INTEGER NOT NULL REFERENCES floor_plan(id),"
    " actor INTEGER, from_state TEXT, to_state TEXT NOT NULL, event TEXT NOT NULL,"
    " comment TEXT, at TIMESTAMP NOT NULL)",
]
#: The floor's next timer: the next escalation, five working days on (near enough).
FLOOR_REPEAT = timedelta(days=7)


class FloorDb:
    """The floor's own connection: sqlite3 or psycopg, nothing in between."""

    def __init__(self, scratch: Scratch, page_size: int | None = None) -> None:
        self.sqlite = scratch.kind == "sqlite"
        self.conn: Any
        if self.sqlite:
            self.conn = sqlite3.connect(scratch.raw + ".floor", isolation_level=None)
            if page_size is not None:  # only takes effect on a new file
                self.conn.execute(f"PRAGMA page_size={int(page_size)}")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        else:
            import psycopg

            self.conn = psycopg.connect(scratch.raw, options=f"-csearch_path={scratch.schema}")

    def sql(self, text: str) -> str:
        return text if self.sqlite else text.replace("?", "%s")

    def ts(self, value: datetime) -> Any:
        return sqlite_datetime(value) if self.sqlite else value

    def begin(self) -> None:
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")
        # psycopg opens the transaction on the first statement

    def commit(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def populate_floor(scratch: Scratch, m: int, page_size: int | None = None) -> None:
    """The floor's plans: the same M deadlines (escalation is due at the deadline).

    ``page_size``: SQLite's, the same as planflow's database file has.
    """
    db = FloorDb(scratch, page_size)
    pk = "INTEGER PRIMARY KEY" if db.sqlite else "SERIAL PRIMARY KEY"
    for ddl in FLOOR_SCHEMA:
        ddl = ddl.format(pk=pk)
        db.conn.execute(ddl if db.sqlite else ddl.replace("TIMESTAMP", "TIMESTAMPTZ"))
    if not db.sqlite:
        db.conn.commit()
    days = working_days(BusinessCalendar())
    insert = db.sql("INSERT INTO floor_plan (id, state, task_level, timer_at) VALUES (?, ?, 0, ?)")
    for chunk in chunks(m, CHUNK):
        db.begin()
        db.conn.cursor().executemany(
            insert, [(i + 1, STATE, db.ts(deadline(i, m, days))) for i in chunk]
        )
        db.commit()
    if db.sqlite:
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        vacuum_analyze(db.conn, ("floor_plan", "floor_audit"))
    db.close()


def run_floor(scratch: Scratch, m: int, now: datetime) -> dict[str, Any]:
    """The floor's scan: one query for the due plans, then UPDATE + INSERT, one transaction each."""
    db = FloorDb(scratch)
    execute, begin, commit, ts = db.conn.execute, db.begin, db.commit, db.ts
    due_query = db.sql(
        "SELECT id, state, task_level, timer_at FROM floor_plan WHERE timer_at <= ?"
        " ORDER BY timer_at, id"
    )
    update = db.sql("UPDATE floor_plan SET task_level = ?, timer_at = ? WHERE id = ?")
    insert = db.sql(
        "INSERT INTO floor_audit (plan_id, actor, from_state, to_state, event, comment, at)"
        " VALUES (?, NULL, ?, ?, 'escalate', NULL, ?)"
    )
    at = ts(now)
    # Untimed, like planflow's: the population holds what it should, and the
    # connection has read the schema.
    before = execute(db.sql("SELECT COUNT(*) FROM floor_plan WHERE timer_at <= ?"), (at,))
    due_before = before.fetchone()[0]
    if not db.sqlite:
        commit()
    started = time.perf_counter()
    due = execute(due_query, (at,)).fetchall()
    if not db.sqlite:
        commit()  # the query's own transaction
    for plan_id, state, level, timer_at in due:
        begin()
        following = datetime.fromisoformat(timer_at) if db.sqlite else timer_at
        execute(update, (level + 1, ts(following + FLOOR_REPEAT), plan_id))
        execute(insert, (plan_id, state, state, at))
        commit()
    seconds = time.perf_counter() - started
    again = execute(due_query, (at,)).fetchall()
    audits = execute("SELECT COUNT(*) FROM floor_audit").fetchone()[0]
    raised = execute("SELECT COUNT(*) FROM floor_plan WHERE task_level = 1").fetchone()[0]
    db.close()
    overdue = expected_overdue(m)
    problems = []
    if due_before != overdue:
        problems.append(f"floor population: {due_before} timers due, {overdue} meant")
    if not (len(due) == audits == raised == overdue) or again:
        problems.append(
            f"floor: {len(due)} due, {audits} audit rows, {raised} levels raised for"
            f" {overdue} overdue; {len(again)} due again"
        )
    return {"escalated": len(due), "seconds": seconds, "problems": problems}
