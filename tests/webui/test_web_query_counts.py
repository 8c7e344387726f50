"""No N+1: the number of SQL statements a page runs does not grow with its rows.

Each page is fetched over a small data set and over one ten times bigger,
and the statements counted at the driver, below SQLAlchemy, so the
hand-written statements of the transition path count too: SQLite's trace
callback, and a counting cursor class on psycopg connections. Transaction
control (BEGIN, COMMIT, ...) is left out; every SELECT, INSERT, UPDATE and
DELETE is in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event
from webui_support import Plans, signed_in

from planflow.app import Planflow

COUNTED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def saw(self, statement: str) -> None:
        if statement.lstrip().upper().startswith(COUNTED):
            self.statements.append(statement)


def _counting_cursor(counter: StatementCounter) -> type[psycopg.Cursor[Any]]:
    class CountingCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            counter.saw(str(query))
            return super().execute(query, params, **kwargs)

        def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> Any:
            counter.saw(str(query))
            return super().executemany(query, params_seq, **kwargs)

    return CountingCursor


@pytest.fixture
def counter(pf: Planflow) -> Iterator[StatementCounter]:
    found = StatementCounter()

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_trace_callback(found.saw)
        else:
            dbapi_conn.cursor_factory = _counting_cursor(found)

    # Start from no open connections, so every connection the pages use is counted.
    pf.db.dispose()
    event.listen(pf.db.engine, "connect", on_connect)
    yield found
    event.remove(pf.db.engine, "connect", on_connect)


def statements_for(counter: StatementCounter, fetch: Callable[[], Any]) -> int:
    fetch()  # warm the caches (organisation, definitions) once
    counter.statements.clear()
    response = fetch()
    assert response.status_code == 200
    return len(counter.statements)


def grow(plans: Plans, n: int, step: Callable[[int], None]) -> list[int]:
    ids = []
    for _ in range(n):
        plan_id = plans.create("branch_a", items=2)
        step(plan_id)
        ids.append(plan_id)
    return ids


@pytest.mark.parametrize(
    ("user", "path", "how"),
    [
        ("reviewer", "/reviews/", "under_review"),
        ("reviewer", "/plans/", "under_review"),
        ("drafter_a", "/", "draft"),
        ("chair_a", "/notifications/", "submitted"),
    ],
)
def test_list_pages_run_the_same_statements_for_3_or_30_rows(
    app: Flask, plans: Plans, counter: StatementCounter, user: str, path: str, how: str
) -> None:
    def step(plan_id: int) -> None:
        if how in ("submitted", "under_review"):
            plans.fire(plan_id, ("submit", "chair_a"))
        if how == "under_review":
            plans.fire(plan_id, ("start_review", "reviewer"))

    client = signed_in(app, user)
    grow(plans, 3, step)
    small = statements_for(counter, lambda: client.get(path))
    grow(plans, 27, step)
    big = statements_for(counter, lambda: client.get(path))
    assert small == big, f"{path}: {small} statements for 3 rows, {big} for 30"
    assert 0 < small <= 25


def test_plan_page_and_timeline_do_not_grow_with_items_comments_or_history(
    app: Flask, pf: Planflow, plans: Plans, counter: StatementCounter
) -> None:
    """Two plans: a short one and one with 10x the items, comments and history."""

    def life(plan_id: int, rounds: int, comments: int) -> None:
        for n in range(comments):
            pf.content.add_comment(plan_id, f"Comment {n}", actor="drafter_a")
        plans.fire(plan_id, ("submit", "chair_a"))
        for n in range(rounds):
            plans.fire(
                plan_id,
                ("start_review", "reviewer"),
                ("return_for_revision", "reviewer", f"Fix round {n}"),
                ("resubmit", "chair_a"),
            )
        plans.fire(plan_id, ("start_review", "reviewer"))

    short = plans.create("branch_a", items=2)
    life(short, rounds=1, comments=2)
    long = plans.create("branch_a", items=2)
    plans.set_items(long, [f"Item {n}" for n in range(1, 21)], "drafter_a")
    life(long, rounds=10, comments=20)

    client = signed_in(app, "reviewer")
    for path in ("/plans/{}", "/plans/{}/timeline"):
        small = statements_for(counter, lambda p=path: client.get(p.format(short)))
        big = statements_for(counter, lambda p=path: client.get(p.format(long)))
        assert small == big, f"{path}: {small} statements for the short plan, {big} for the long"
        assert 0 < small <= 30
