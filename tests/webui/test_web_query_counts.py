"""No N+1: the number of SQL statements a page runs does not grow with its rows.

Each page is fetched over a small data set and over one ten times bigger,
and the statements counted at the driver, below SQLAlchemy, so the
hand-written statements of the transition path count too: SQLite's trace
callback, and a counting cursor class on psycopg connections. Transaction
control (BEGIN, COMMIT, ...) is left out; every SELECT, INSERT, UPDATE and
DELETE is in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from stored import CountStatements, Statements
from webui_support import Plans, signed_in

import planflow_web.reviews
from planflow.app import Planflow


@pytest.fixture
def counter(pf: Planflow, count_statements: CountStatements) -> Iterator[Statements]:
    with count_statements(pf) as seen:
        yield seen


def statements_for(counter: Statements, fetch: Callable[[], Any]) -> int:
    fetch()  # warm the caches (organisation, definitions) once
    counter.clear()
    response = fetch()
    assert response.status_code == 200
    return len(counter)


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
    app: Flask, plans: Plans, counter: Statements, user: str, path: str, how: str
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
    app: Flask, pf: Planflow, plans: Plans, counter: Statements
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


def _full_scans_of_plan(node: dict[str, Any]) -> list[str]:
    """The nodes of an EXPLAIN (FORMAT JSON) plan that read the whole plan table."""
    found = []
    on_plan = node.get("Relation Name") == "plan" or str(node.get("Index Name", "")).startswith(
        ("plan_pkey", "ix_plan_")
    )
    if on_plan and node["Node Type"] == "Seq Scan":
        found.append(node["Node Type"])
    if on_plan and "Index Name" in node and "Index Cond" not in node:
        found.append(f"{node['Node Type']} using {node['Index Name']}")
    for child in node.get("Plans", []):
        found += _full_scans_of_plan(child)
    return found


def _reviewer_with_a_queue(plans: Plans, n: int = 3) -> list[int]:
    def step(plan_id: int) -> None:
        plans.fire(plan_id, ("submit", "chair_a"), ("start_review", "reviewer"))

    return grow(plans, n, step)


@pytest.mark.parametrize("path", ["/reviews/", "/plans/{}", "/about/"])
def test_pages_that_only_read_open_no_transaction_on_postgresql(
    app: Flask, pf: Planflow, plans: Plans, counter: Statements, path: str
) -> None:
    """At READ COMMITTED each statement sees its own snapshot, so a BEGIN and a COMMIT
    around a page's reads were two round trips that changed nothing (W3's plan page
    made fifteen such transactions). Reads run in autocommit mode there."""
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite's reads keep their deferred transaction")
    plan_id = _reviewer_with_a_queue(plans)[0]
    client = signed_in(app, "reviewer")
    assert statements_for(counter, lambda: client.get(path.format(plan_id))) > 0
    in_transaction = [query for query, _params, inside in counter.runs if inside]
    assert in_transaction == []


def test_the_review_queue_reads_plans_by_index_on_postgresql(
    app: Flask,
    pf: Planflow,
    plans: Plans,
    counter: Statements,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The queue's "my tasks, or the ones handed to me" was one OR whose second branch,
    an IN (subquery), no index serves: PostgreSQL read every plan for both the page
    and its count (~10 ms a page over W3's 10,000 plans). Each branch is an index
    condition now. With sequential scans priced out, a statement that still has
    to read every plan shows it as a scan of the plan table, or of one of its
    indexes, with no condition to look up."""
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: the statement is written differently for it")
    # A full first page, so the count runs too.
    _reviewer_with_a_queue(plans, 3)
    client = signed_in(app, "reviewer")
    monkeypatch.setattr(planflow_web.reviews, "PAGE_SIZE", 2)
    statements_for(counter, lambda: client.get("/reviews/"))
    queue = [(q, p) for q, p, _ in counter.runs if "task_part" in q and "FROM plan" in q]
    # The page, its count, and the plans waiting elsewhere ("Elsewhere": what the page leaves out).
    assert len(queue) == 3, [q[:80] for q, _ in queue]
    with pf.db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            # The planner sees the plan table as never analysed, whatever autovacuum
            # did to this schema's table during the run: analysed, with this test's
            # three plans, it rightly walks the primary key of so small a table (it
            # did so once in a full run). In this transaction only: rolled back below.
            cursor.execute(
                "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = 'plan'::regclass"
            )
            cursor.execute("DELETE FROM pg_statistic WHERE starelid = 'plan'::regclass")
            for query, params in queue:
                cursor.execute("EXPLAIN (FORMAT JSON) " + query, params)
                shown = cursor.fetchone()[0]
                assert _full_scans_of_plan(shown[0]["Plan"]) == [], shown
            cursor.execute("RESET enable_seqscan")
        raw.rollback()
