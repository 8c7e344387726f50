"""Tests of the storage layer on SQLite and PostgreSQL.

* The Alembic migrations build exactly the schema ``tables.py`` describes.
* ``schema.upgrade`` is idempotent.
* Every hand-written statement of the transition path (``plan_store``) runs on
  both databases and writes what SQLAlchemy reads back, datetimes included:
  this catches drift between the SQL text and ``tables.py``.
* ``tx.write_tx`` commits or rolls back as a whole.
* SQLite runs in WAL mode, and a second writer waits for the first instead of
  failing with "database is locked".
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import migrate_schema
from sqlalchemy import func, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

from planflow.errors import ConfigurationError
from planflow.storage import plan_store as ps
from planflow.storage import settings
from planflow.storage.audit_keys import audit_key
from planflow.storage.db import Database, normalise_url, with_search_path
from planflow.storage.schema import current_revision, head_revision, upgrade
from planflow.storage.tables import (
    ApprovalVote,
    AuditRecord,
    Comment,
    Notification,
    OrgGeneration,
    Plan,
    PlanRevision,
    Unit,
    User,
)
from planflow.storage.tx import Sql, Tx, sqlite_datetime, write_tx

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")

#: Datetimes with microseconds; one given in UTC+8 (stored and read back as UTC).
T1 = datetime(2027, 3, 5, 9, 30, 15, 123456, tzinfo=UTC)
T2 = datetime(2027, 3, 5, 17, 45, 1, 654321, tzinfo=timezone(timedelta(hours=8)))
T3 = datetime(2027, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
T4 = datetime(2028, 1, 2, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5)))

CONTENT = json.dumps({"sections": [{"title": "Work", "items": []}]}, separators=(",", ":"))


# -- helpers and fixtures -------------------------------------------------------------


def assert_fields(row: Any, **expected: Any) -> None:
    assert {name: getattr(row, name) for name in expected} == expected


def assert_utc_equal(actual: datetime | None, expected: datetime) -> None:
    """The same instant, timezone-aware, in UTC, microseconds preserved."""
    assert actual is not None
    assert actual.tzinfo is not None and actual.utcoffset() == timedelta(0), actual
    assert actual == expected
    assert actual.microsecond == expected.astimezone(UTC).microsecond


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@dataclass(frozen=True)
class World:
    """Rows the statements refer to, written with SQLAlchemy."""

    db: Database
    unit: int
    drafter: int
    chair: int
    plan: int

    def get(self, model: type[Any], *key: Any) -> Any:
        with Session(self.db.engine) as s:
            row = s.get(model, key if len(key) > 1 else key[0])
            assert row is not None, (model, key)
            s.expunge(row)
            return row

    def rows(self, model: type[Any], *where: Any) -> list[Any]:
        with Session(self.db.engine) as s:
            found = list(s.scalars(select(model).where(*where)))
            for row in found:
                s.expunge(row)
            return found


@pytest.fixture
def scene(db: Database) -> World:
    with db.session() as s:
        unit = Unit(code="branch_a", name="Branch A", created_at=T1)
        drafter = User(username="drafter", display_name="Drafter", created_at=T1)
        chair = User(username="chair", display_name="Chair", created_at=T1)
        s.add_all([unit, drafter, chair])
        s.flush()
        plan = Plan(
            unit_id=unit.id, year=2027, title="Plan", workflow_name="annual_plan",
            workflow_version=1, state="draft", version=3, created_by=drafter.id,
            created_at=T1, updated_at=T1, content=CONTENT, item_count=2,
            items_without_due=1, revision=1, audit_seq=2, audit_hash="a" * 64,
            task_role="drafter", task_unit_id=unit.id, task_level=2,
            timer_claimed_by="scheduler-1", timer_claimed_until=T1,
        )  # fmt: skip
        s.add(plan)
        s.flush()
        assert unit.id and drafter.id and chair.id and plan.id
        return World(db, unit.id, drafter.id, chair.id, plan.id)


# -- schema and migrations ------------------------------------------------------------


def test_migrations_build_exactly_the_tables_of_tables_py(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        names = set(inspect(conn).get_table_names())
    assert names == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert current_revision(db) == head_revision(db) == "0022"


def test_upgrade_creates_and_is_idempotent(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        assert current_revision(db) is None
        assert upgrade(db) == head_revision(db)
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
        with db.write() as conn:  # an organisation change moved the generation on
            conn.execute(update(OrgGeneration).values(generation=7))
        assert upgrade(db) == head_revision(db)
        assert upgrade(db) == head_revision(db)
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == tables
            rows = conn.execute(select(OrgGeneration.id, OrgGeneration.generation)).all()
        assert [tuple(r) for r in rows] == [(1, 7)]  # not reseeded, not duplicated
        assert current_revision(db) == head_revision(db)
    finally:
        db.dispose()


def test_the_settings_migration_up_and_down(empty_database_url: str) -> None:
    """0011 adds the ``setting`` table to a database at 0010 (unmarked: live), and goes."""
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0010")
        with db.engine.connect() as conn:
            assert "setting" not in inspect(conn).get_table_names()
        migrate_schema(db, "0011")
        assert settings.get(db, settings.SIMULATION) is None
        settings.put(db, settings.SIMULATION, "on", T1)
        settings.put(db, settings.SIMULATION, "on", T1)  # again: still one row
        assert settings.get(db, settings.SIMULATION) == "on"
        settings.put(db, settings.SIMULATION, None, T1)
        assert settings.get(db, settings.SIMULATION) is None
        migrate_schema(db, "0010", "downgrade")
        with db.engine.connect() as conn:
            assert "setting" not in inspect(conn).get_table_names()
    finally:
        db.dispose()


def test_upgrade_seeds_the_org_generation_row(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        upgrade(db)
        with db.engine.connect() as conn:
            rows = conn.execute(select(OrgGeneration.id, OrgGeneration.generation)).all()
        assert [tuple(r) for r in rows] == [(1, 1)]
    finally:
        db.dispose()


# -- the hand-written statements ------------------------------------------------------

Check = Callable[[], None]
#: statement name -> runs it in a write transaction; may return a check to run after commit.
Case = Callable[[Tx, World], Check | None]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = fn
        return fn

    return register


@case("select_plan")
def _select_plan(tx: Tx, w: World) -> Check | None:
    row = ps.load_plan(tx, w.plan)
    assert row == ps.PlanRow(
        id=w.plan, unit_id=w.unit, year=2027, title="Plan", workflow_name="annual_plan",
        workflow_version=1, state="draft", version=3, submitted_by=None, item_count=2,
        items_without_due=1, revision=1, audit_seq=2, audit_hash="a" * 64,
        task_role="drafter", task_unit_id=w.unit, task_level=2, task_escalated_unit_id=None,
        has_timer=False, org_generation=1,
    )  # fmt: skip
    assert ps.load_plan(tx, w.plan + 1000) is None


@case("select_plan_for_change")
def _select_plan_for_change(tx: Tx, w: World) -> Check | None:
    # The same row as ``select_plan``; on PostgreSQL it is locked until the commit.
    assert ps.load_plan(tx, w.plan, for_change=True) == ps.load_plan(tx, w.plan)
    assert ps.load_plan(tx, w.plan + 1000, for_change=True) is None
    assert ps.load_plan(tx, 2**31, for_change=True) is None  # out of range: no query at all


@case("select_generation")
def _select_generation(tx: Tx, w: World) -> Check | None:
    assert ps.org_generation(tx) == 1
    tx.cursor.execute("UPDATE org_generation SET generation = 42 WHERE id = 1")
    assert ps.org_generation(tx) == 42


@case("select_version")
def _select_version(tx: Tx, w: World) -> Check | None:
    assert ps.current_version(tx, w.plan) == 3
    assert ps.current_version(tx, w.plan + 1000) is None


@case("select_content")
def _select_content(tx: Tx, w: World) -> Check | None:
    assert ps.load_content(tx, w.plan) == CONTENT


@case("select_votes")
def _select_votes(tx: Tx, w: World) -> Check | None:
    for round_, user in ((1, w.drafter), (1, w.chair), (2, w.chair)):
        tx.run(ps.INSERT_VOTE, {"plan_id": w.plan, "round": round_, "user_id": user, "at": T1})
    assert ps.load_votes(tx, w.plan, 1) == {w.drafter, w.chair}
    assert ps.load_votes(tx, w.plan, 3) == frozenset()


@case("insert_plan")
def _insert_plan(tx: Tx, w: World) -> Check | None:
    new_id = tx.insert(
        ps.INSERT_PLAN,
        {
            "unit_id": w.unit, "year": 2028, "title": "Next year's plan 计划",
            "workflow_name": "committee_plan", "workflow_version": 2, "state": "draft",
            "created_by": w.drafter, "at": T2, "content": CONTENT, "item_count": 5,
            "items_without_due": 2,
        },
    )  # fmt: skip
    assert new_id > w.plan
    return lambda: check_new_plan(w, new_id)


def check_new_plan(w: World, plan_id: int) -> None:
    p = w.get(Plan, plan_id)
    assert_fields(p, unit_id=w.unit, year=2028, title="Next year's plan 计划")
    assert_fields(p, workflow_name="committee_plan", workflow_version=2, state="draft")
    assert (p.version, p.created_by, p.submitted_by, p.content) == (0, w.drafter, None, CONTENT)
    assert (p.item_count, p.items_without_due, p.revision, p.audit_seq) == (5, 2, 0, 0)
    assert (p.audit_hash, p.task_level, p.task_role, p.timer_at) == ("", 0, None, None)
    assert_utc_equal(p.created_at, T2)
    assert_utc_equal(p.updated_at, T2)


@case("update_plan")
def _update_plan(tx: Tx, w: World) -> Check | None:
    params = {
        "plan_id": w.plan, "state": "submitted", "new_version": 4, "at": tx.ts(T2),
        "audit_seq": 3, "audit_hash": "b" * 64,
    }  # fmt: skip
    assert not ps.update_plan_checked(tx, ps.UPDATE_PLAN, {**params, "version": 2})
    assert ps.update_plan_checked(tx, ps.UPDATE_PLAN, {**params, "version": 3})

    def check() -> None:
        p = w.get(Plan, w.plan)
        assert (p.state, p.version, p.audit_seq, p.audit_hash) == ("submitted", 4, 3, "b" * 64)
        assert_utc_equal(p.updated_at, T2)
        assert (p.content, p.task_role, p.task_level) == (CONTENT, "drafter", 2)  # untouched

    return check


@case("update_plan_move")
def _update_plan_move(tx: Tx, w: World) -> Check | None:
    params = {
        "plan_id": w.plan, "version": 3, "state": "submitted", "new_version": 4, "at": T1,
        "audit_seq": 3, "audit_hash": "c" * 64, "submitted_by": w.chair, "revision": 2,
        "task_role": "reviewer", "task_unit_id": w.unit, "task_since": T2,
        "task_due_at": T3, "timer_at": T4, "timer_kind": "remind",
    }  # fmt: skip
    assert ps.update_plan_checked(tx, ps.UPDATE_PLAN_MOVE, params)
    # A move without a submission keeps the submitter (COALESCE).
    again = {**params, "version": 4, "new_version": 5, "submitted_by": None, "timer_at": None,
             "timer_kind": None, "task_due_at": None}  # fmt: skip
    assert ps.update_plan_checked(tx, ps.UPDATE_PLAN_MOVE, again)

    def check() -> None:
        p = w.get(Plan, w.plan)
        assert (p.state, p.version, p.audit_seq, p.audit_hash) == ("submitted", 5, 3, "c" * 64)
        assert_fields(p, submitted_by=w.chair, revision=2, task_role="reviewer")
        assert p.task_unit_id == w.unit
        assert (p.task_level, p.timer_claimed_by, p.timer_claimed_until) == (0, None, None)
        assert (p.task_due_at, p.timer_at, p.timer_kind) == (None, None, None)
        assert_utc_equal(p.updated_at, T1)
        assert_utc_equal(p.task_since, T2)

    return check


@case("update_plan_migrate")
def _update_plan_migrate(tx: Tx, w: World) -> Check | None:
    params = {
        "plan_id": w.plan, "version": 3, "state": "under_review", "new_version": 4, "at": T4,
        "audit_seq": 3, "audit_hash": "9" * 64, "workflow_version": 2, "revision": 1,
        "task_role": "reviewer", "task_unit_id": w.unit, "task_since": T4,
        "task_due_at": T3, "timer_at": T2, "timer_kind": "escalate",
    }  # fmt: skip
    assert not ps.update_plan_checked(tx, ps.UPDATE_PLAN_MIGRATE, {**params, "version": 9})
    assert ps.update_plan_checked(tx, ps.UPDATE_PLAN_MIGRATE, params)

    def check() -> None:
        p = w.get(Plan, w.plan)
        assert (p.state, p.version, p.workflow_version, p.revision) == ("under_review", 4, 2, 1)
        assert_fields(p, audit_seq=3, audit_hash="9" * 64, task_role="reviewer")
        assert_fields(p, task_unit_id=w.unit, task_level=0, timer_kind="escalate")
        assert_fields(p, timer_claimed_by=None, timer_claimed_until=None)
        for value, expected in [(p.updated_at, T4), (p.task_since, T4),
                                (p.task_due_at, T3), (p.timer_at, T2)]:  # fmt: skip
            assert_utc_equal(value, expected)

    return check


@case("select_plans_of_version")
def _select_plans_of_version(tx: Tx, w: World) -> Check | None:
    query = {"name": "annual_plan", "version": 1}
    assert tx.scalars(ps.SELECT_PLANS_OF_VERSION, query) == [w.plan]
    assert tx.one(ps.SELECT_PLANS_OF_VERSION, query) == (w.plan, "draft")
    assert tx.scalars(ps.SELECT_PLANS_OF_VERSION, {**query, "version": 2}) == []
    return None


@case("update_plan_content")
def _update_plan_content(tx: Tx, w: World) -> Check | None:
    content = json.dumps({"sections": [{"title": "新", "items": [{"text": "x"}]}]})
    assert ps.update_plan_checked(
        tx,
        ps.UPDATE_PLAN_CONTENT,
        {
            "plan_id": w.plan, "version": 3, "state": "draft", "new_version": 4, "at": T3,
            "audit_seq": 3, "audit_hash": "d" * 64, "content": content, "item_count": 1,
            "items_without_due": 1,
        },
    )  # fmt: skip

    def check() -> None:
        p = w.get(Plan, w.plan)
        assert (p.version, p.content, p.item_count, p.items_without_due) == (4, content, 1, 1)
        assert_utc_equal(p.updated_at, T3)

    return check


@case("update_plan_reroute")
def _update_plan_reroute(tx: Tx, w: World) -> Check | None:
    params = {
        "plan_id": w.plan, "state": "draft", "new_version": 4, "at": T2, "audit_seq": 3,
        "audit_hash": "e" * 64, "task_unit_id": None, "timer_at": T4, "timer_kind": "escalate",
    }  # fmt: skip
    assert not ps.update_plan_checked(tx, ps.UPDATE_PLAN_REROUTE, {**params, "version": 2})
    assert ps.update_plan_checked(tx, ps.UPDATE_PLAN_REROUTE, {**params, "version": 3})

    def check() -> None:
        p = w.get(Plan, w.plan)
        assert (p.version, p.audit_seq, p.audit_hash) == (4, 3, "e" * 64)
        assert (p.task_role, p.task_unit_id, p.task_level) == ("drafter", None, 0)
        assert (p.task_escalated_unit_id, p.timer_kind) == (None, "escalate")
        assert (p.timer_claimed_by, p.timer_claimed_until) == (None, None)  # a claim is void
        assert_utc_equal(p.timer_at, T4)
        assert_utc_equal(p.updated_at, T2)

    return check


@case("select_task_due")
def _select_task_due(tx: Tx, w: World) -> Check | None:
    assert ps.load_task_due(tx, w.plan, 2) == (False, None)  # another version
    assert ps.load_task_due(tx, w.plan, 3) == (True, None)
    tx.run(Sql("due", "UPDATE plan SET task_due_at = :at WHERE id = :id"), {"at": T3, "id": w.plan})
    found, due = ps.load_task_due(tx, w.plan, 3)
    assert found
    assert_utc_equal(due, T3)
    return None


@case("insert_audit")
def _insert_audit(tx: Tx, w: World) -> Check | None:
    record = {
        "plan_id": w.plan, "seq": 3, "actor_id": w.chair, "on_behalf_of_id": w.drafter,
        "at": T4, "action": "submit", "from_state": "draft", "to_state": "submitted",
        "comment": "Ready — 准备好了", "revision": 1, "detail": '{"a":1}',
        "prev_hash": "a" * 64, "hash": "e" * 64,
    }  # fmt: skip
    tx.run(ps.INSERT_AUDIT, record)
    tx.run(ps.INSERT_AUDIT, {**record, "seq": 4, "actor_id": None, "on_behalf_of_id": None,
                             "from_state": None, "comment": None})  # fmt: skip

    def check() -> None:
        r = w.get(AuditRecord, audit_key(w.plan, 3))  # the id is computed by the INSERT
        for key, value in record.items():
            if key == "at":
                assert_utc_equal(r.at, T4)
            else:
                assert getattr(r, key) == value, key
        r4 = w.get(AuditRecord, audit_key(w.plan, 4))
        assert (r4.actor_id, r4.on_behalf_of_id, r4.from_state, r4.comment) == (None,) * 4

    return check


@case("insert_audit_plain")
def _insert_audit_plain(tx: Tx, w: World) -> Check | None:
    record = {
        "plan_id": w.plan, "seq": 3, "actor_id": w.chair, "at": T4, "action": "start_review",
        "from_state": "submitted", "to_state": "under_review", "revision": 1, "detail": "{}",
        "prev_hash": "a" * 64, "hash": "e" * 64,
    }  # fmt: skip
    # A comment or a principal given here would be ignored: the writer picks
    # this statement only when there is neither.
    tx.run(ps.INSERT_AUDIT_PLAIN, {**record, "comment": "ignored", "on_behalf_of_id": w.drafter})

    def check() -> None:
        r = w.get(AuditRecord, audit_key(w.plan, 3))
        assert (r.actor_id, r.action, r.hash) == (w.chair, "start_review", "e" * 64)
        assert (r.comment, r.on_behalf_of_id) == (None, None)

    return check


@case("insert_revision")
def _insert_revision(tx: Tx, w: World) -> Check | None:
    tx.run(
        ps.INSERT_REVISION,
        {
            "plan_id": w.plan, "number": 2, "content": CONTENT, "content_hash": "f" * 64,
            "created_by": w.chair, "created_at": T2,
        },
    )  # fmt: skip

    def check() -> None:
        [r] = w.rows(PlanRevision, PlanRevision.plan_id == w.plan)
        assert_fields(r, number=2, content=CONTENT, content_hash="f" * 64, created_by=w.chair)
        assert_utc_equal(r.created_at, T2)

    return check


@case("insert_vote")
def _insert_vote(tx: Tx, w: World) -> Check | None:
    tx.run(ps.INSERT_VOTE, {"plan_id": w.plan, "round": 1, "user_id": w.chair, "at": T3})
    assert ps.load_votes(tx, w.plan, 1) == {w.chair}

    def check() -> None:
        [v] = w.rows(ApprovalVote, ApprovalVote.plan_id == w.plan)
        assert (v.round, v.user_id) == (1, w.chair)
        assert_utc_equal(v.at, T3)

    return check


@case("insert_notification")
def _insert_notification(tx: Tx, w: World) -> Check | None:
    rows = [
        {"key": None, "user_id": user, "plan_id": w.plan, "kind": "transition",
         "payload": '{"to":"submitted"}', "created_at": T2}
        for user in (w.drafter, w.chair)
    ]  # fmt: skip
    tx.run_many(ps.INSERT_NOTIFICATION, rows)

    def check() -> None:
        found = w.rows(Notification, Notification.plan_id == w.plan)
        assert sorted(n.user_id for n in found) == sorted([w.drafter, w.chair])
        for n in found:
            assert (n.kind, n.payload, n.read_at) == ("transition", '{"to":"submitted"}', None)
            assert (n.email_status, n.email_attempts) == ("pending", 0)
            assert_utc_equal(n.created_at, T2)
            # SQLite: no due time, found after the outbox watermark instead.
            if w.db.is_sqlite:
                assert n.email_next_at is None
            else:
                assert_utc_equal(n.email_next_at, T2)

    return check


@case("insert_comment")
def _insert_comment(tx: Tx, w: World) -> Check | None:
    tx.run(
        ps.INSERT_COMMENT,
        {
            "plan_id": w.plan, "item_key": "i1", "author_id": w.chair,
            "body": "Add a target: 100%", "revision": 1, "created_at": T1,
        },
    )  # fmt: skip

    def check() -> None:
        [c] = w.rows(Comment, Comment.plan_id == w.plan)
        assert_fields(c, item_key="i1", author_id=w.chair, body="Add a target: 100%", revision=1)
        assert_utc_equal(c.created_at, T1)

    return check


@case("insert_event_notification")
def _insert_event_notification(tx: Tx, w: World) -> Check | None:
    row = {"user_id": w.chair, "plan_id": w.plan, "event_seq": 7, "kind": "transition",
           "payload": '{"to":"submitted"}', "created_at": T2}  # fmt: skip
    # The same event to the same person twice (two writers, say): one row.
    tx.run_many(ps.INSERT_EVENT_NOTIFICATION, [row, {**row, "kind": "cc"}])

    def check() -> None:
        [n] = w.rows(Notification, Notification.plan_id == w.plan)
        assert (n.user_id, n.event_seq, n.kind) == (w.chair, 7, "transition")
        assert (n.email_status, n.email_attempts) == ("pending", 0)

    return check


def test_every_statement_has_a_case() -> None:
    assert {s.name for s in ps.ALL_STATEMENTS} == set(CASES)
    assert len({s.name for s in ps.ALL_STATEMENTS}) == len(ps.ALL_STATEMENTS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_statement_runs_and_reads_back(scene: World, name: str) -> None:
    with write_tx(scene.db) as tx:
        check = CASES[name](tx, scene)
    if check is not None:
        check()


def test_hand_written_and_sqlalchemy_datetimes_compare_and_sort_alike(scene: World) -> None:
    """A row written by ``Tx`` sits between rows SQLAlchemy wrote a microsecond either side."""
    with scene.db.session() as s:
        for at in (T1 - timedelta(microseconds=1), T1 + timedelta(microseconds=1)):
            s.add(Comment(plan_id=scene.plan, author_id=scene.chair, body="orm", revision=1,
                          created_at=at))  # fmt: skip
    with write_tx(scene.db) as tx:
        tx.run(ps.INSERT_COMMENT, {"plan_id": scene.plan, "item_key": None,
                                   "author_id": scene.chair, "body": "tx", "revision": 1,
                                   "created_at": T1})  # fmt: skip
    with Session(scene.db.engine) as s:
        bodies = list(s.scalars(select(Comment.body).order_by(col(Comment.created_at))))
        assert bodies == ["orm", "tx", "orm"]
        assert s.scalars(select(Comment.body).where(Comment.created_at == T1)).all() == ["tx"]
        later = select(func.count()).where(col(Comment.created_at) >= T1)
        assert s.scalar(later) == 2


def test_sqlite_datetime_text_is_sqlalchemys() -> None:
    assert sqlite_datetime(T1) == "2027-03-05 09:30:15.123456"
    assert sqlite_datetime(T2) == "2027-03-05 09:45:01.654321"
    assert sqlite_datetime(datetime(2027, 1, 1, tzinfo=UTC)) == "2027-01-01 00:00:00.000000"
    one_us = datetime(2027, 12, 31, 23, 59, 59, 1, tzinfo=UTC)
    assert sqlite_datetime(one_us) == "2027-12-31 23:59:59.000001"
    seoul = one_us.astimezone(timezone(timedelta(hours=9)))
    assert sqlite_datetime(seoul) == "2027-12-31 23:59:59.000001"
    assert sqlite_datetime(one_us.replace(tzinfo=None)) == "2027-12-31 23:59:59.000001"


def test_sql_placeholders_per_dialect() -> None:
    sql = Sql("s", "SELECT x::text, '50%' FROM t WHERE a = :a AND b = :b_2", returns_id=True)
    assert sql.text("sqlite") == "SELECT x::text, '50%' FROM t WHERE a = :a AND b = :b_2"
    assert sql.text("postgresql") == (
        "SELECT x::text, '50%%' FROM t WHERE a = %(a)s AND b = %(b_2)s RETURNING id"
    )
    for statement in ps.ALL_STATEMENTS:
        assert ":" not in statement.postgresql.replace("::", ""), statement.name


def test_sqlite_runs_named_parameters_positionally() -> None:
    sql = Sql("s", "SELECT ':x', :b, 'it''s :a', :a, :b WHERE 'y' <> ':c'")
    assert sql.sqlite_positional == "SELECT ':x', ?, 'it''s :a', ?, ? WHERE 'y' <> ':c'"
    assert sql.positional({"a": 1, "b": 2, "unused": 3}) == (2, 1, 2)
    assert Sql("one", "SELECT :a").positional({"a": 5}) == (5,)
    assert Sql("none", "SELECT 1").positional({}) == ()
    with pytest.raises(ValueError, match="statement s needs a value for :b"):
        sql.positional({"a": 1})
    conn = sqlite3.connect(":memory:")
    tx = Tx(conn.cursor(), "sqlite")
    # None binds as NULL (through the adapter registered for speed, see storage.tx).
    assert tx.one(Sql("null", "SELECT :a IS NULL, typeof(:a)"), {"a": None}) == (1, "null")
    assert tx.one(sql, {"a": "A", "b": T1}) == (
        ":x",
        sqlite_datetime(T1),
        "it's :a",
        "A",
        sqlite_datetime(T1),
    )
    conn.close()


# -- write_tx -------------------------------------------------------------------------


def comment_count(db: Database) -> int:
    with Session(db.engine) as s:
        return int(s.scalar(select(func.count()).select_from(Comment)) or 0)


def add_comment(tx: Tx, w: World, body: str = "hello") -> None:
    tx.run(ps.INSERT_COMMENT, {"plan_id": w.plan, "item_key": None, "author_id": w.chair,
                               "body": body, "revision": 1, "created_at": T1})  # fmt: skip


class Boom(Exception):
    pass


class HardStop(BaseException):
    pass


def test_write_tx_commits(scene: World) -> None:
    with write_tx(scene.db) as tx:
        add_comment(tx, scene)
        add_comment(tx, scene)
    assert comment_count(scene.db) == 2


@pytest.mark.parametrize("error", [Boom, HardStop, KeyboardInterrupt])
def test_write_tx_rolls_back_on_an_exception(scene: World, error: type[BaseException]) -> None:
    with pytest.raises(error), write_tx(scene.db) as tx:
        add_comment(tx, scene)
        ps.update_plan_checked(tx, ps.UPDATE_PLAN, {
            "plan_id": scene.plan, "version": 3, "state": "gone", "new_version": 4,
            "at": T2, "audit_seq": 9, "audit_hash": "x" * 64,
        })  # fmt: skip
        raise error()
    assert comment_count(scene.db) == 0
    assert scene.get(Plan, scene.plan).state == "draft"
    with write_tx(scene.db) as tx:  # the connection is usable afterwards
        add_comment(tx, scene)
    assert comment_count(scene.db) == 1


def test_write_tx_rolls_back_after_a_failed_statement(scene: World) -> None:
    vote = {"plan_id": scene.plan, "round": 1, "user_id": scene.chair, "at": T1}
    with pytest.raises(Exception, match=r"(?i)unique"), write_tx(scene.db) as tx:
        add_comment(tx, scene)
        tx.run(ps.INSERT_VOTE, vote)
        tx.run(ps.INSERT_VOTE, vote)  # violates (plan_id, round, user_id)
    assert comment_count(scene.db) == 0
    assert scene.rows(ApprovalVote) == []
    with write_tx(scene.db) as tx:  # PostgreSQL: not stuck in an aborted transaction
        tx.run(ps.INSERT_VOTE, vote)
    assert len(scene.rows(ApprovalVote)) == 1


_DEFERRED_CHILD = (
    "CREATE TABLE IF NOT EXISTS deferred_child (id {pk}, plan_id INTEGER"
    " REFERENCES plan(id) DEFERRABLE INITIALLY DEFERRED)"
)
DEFERRED_CHECK = Sql(
    "deferred_check",
    _DEFERRED_CHILD.format(pk="INTEGER PRIMARY KEY"),
    postgresql=_DEFERRED_CHILD.format(pk="SERIAL PRIMARY KEY"),
)
INSERT_ORPHAN = Sql("insert_orphan", "INSERT INTO deferred_child (plan_id) VALUES (:plan_id)")


def test_write_tx_rolls_back_when_the_commit_itself_fails(scene: World) -> None:
    """A deferred foreign key is checked by COMMIT: the whole transaction goes."""
    with write_tx(scene.db) as tx:
        tx.run(DEFERRED_CHECK, {})
    try:
        with pytest.raises(Exception, match=r"(?i)foreign key"), write_tx(scene.db) as tx:
            add_comment(tx, scene)
            tx.run(INSERT_ORPHAN, {"plan_id": 987654})
        assert comment_count(scene.db) == 0
        with write_tx(scene.db) as tx:  # the connection is usable afterwards
            add_comment(tx, scene)
            tx.run(INSERT_ORPHAN, {"plan_id": scene.plan})
        assert comment_count(scene.db) == 1
    finally:
        # The PostgreSQL schema is the session's: leave no table of this test in it.
        with scene.db.write() as conn:
            conn.exec_driver_sql("DROP TABLE deferred_child")


def test_write_tx_is_per_thread(scene: World) -> None:
    """Each thread has its own pinned connection; both commit."""
    errors: list[BaseException] = []

    def work(body: str) -> None:
        try:
            for _ in range(5):
                with write_tx(scene.db) as tx:
                    add_comment(tx, scene, body)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert comment_count(scene.db) == 15


# -- SQLite settings and locking ------------------------------------------------------


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'locks.sqlite3'}")
    upgrade(db)
    yield db
    db.dispose()


def pragmas(conn: Any) -> dict[str, Any]:
    cur = conn.cursor()
    try:
        return {
            name: cur.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    finally:
        cur.close()


def test_sqlite_connection_settings(sqlite_db: Database) -> None:
    expected = {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 30000}
    pooled = sqlite_db.engine.raw_connection()
    try:
        assert pragmas(pooled.dbapi_connection) == expected
    finally:
        pooled.close()
    assert pragmas(sqlite_db.pinned_connection()) == expected  # the transition path's own


def test_sqlite_enforces_foreign_keys(sqlite_db: Database) -> None:
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), sqlite_db.write() as conn:
        conn.execute(insert(Unit).values(code="x", name="X", parent_id=999, created_at=T1))


def seed(db: Database) -> World:
    with db.session() as s:
        unit = Unit(code="u", name="U", created_at=T1)
        user = User(username="u", display_name="U", created_at=T1)
        s.add_all([unit, user])
        s.flush()
        plan = Plan(unit_id=unit.id, year=2027, title="P", workflow_name="annual_plan",
                    workflow_version=1, state="draft", created_by=user.id, created_at=T1,
                    updated_at=T1, content=CONTENT)  # fmt: skip
        s.add(plan)
        s.flush()
        assert unit.id and user.id and plan.id
        return World(db, unit.id, user.id, user.id, plan.id)


def second_writer_write_tx(db: Database, w: World) -> int:
    with write_tx(db) as tx:
        seen = int(tx.cursor.execute("SELECT count(*) FROM comment").fetchone()[0])
        add_comment(tx, w, "second")
    return seen


def second_writer_core(db: Database, w: World) -> int:
    with db.write() as conn:
        seen = int(conn.execute(text("SELECT count(*) FROM comment")).scalar_one())
        conn.execute(insert(Comment).values(plan_id=w.plan, author_id=w.chair, body="second",
                                            revision=1, created_at=T1))  # fmt: skip
    return seen


def second_writer_session(db: Database, w: World) -> int:
    with db.session() as s:
        seen = int(s.scalar(select(func.count()).select_from(Comment)) or 0)
        s.add(Comment(plan_id=w.plan, author_id=w.chair, body="second", revision=1,
                      created_at=T1))  # fmt: skip
    return seen


@pytest.mark.parametrize(
    "second_writer",
    [second_writer_write_tx, second_writer_core, second_writer_session],
    ids=["write_tx", "db.write", "db.session"],
)
def test_sqlite_second_writer_waits_for_the_first(
    sqlite_db: Database, tmp_path: Path, second_writer: Callable[[Database, World], int]
) -> None:
    """Two connections (as two processes would have): the second writer reads, then
    writes; it queues behind the first instead of failing with "database is locked"."""
    w = seed(sqlite_db)
    other = Database(sqlite_db.url)  # its own pool and connections
    holding = threading.Event()
    hold_seconds = 0.6
    released_at: list[float] = []
    outcome: dict[str, Any] = {}

    def first() -> None:
        with write_tx(sqlite_db) as tx:
            add_comment(tx, w, "first")
            holding.set()
            time.sleep(hold_seconds)
            released_at.append(time.monotonic())  # the commit follows

    def second() -> None:
        holding.wait(10)
        outcome["started"] = time.monotonic()
        try:
            outcome["seen"] = second_writer(other, w)
        except BaseException as exc:
            outcome["error"] = exc
        outcome["finished"] = time.monotonic()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        other.dispose()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["finished"] >= released_at[0]  # it waited for the commit ...
    assert outcome["seen"] == 1  # ... and its transaction started after it
    with Session(sqlite_db.engine) as s:
        bodies = s.scalars(select(Comment.body).order_by(col(Comment.id))).all()
    assert bodies == ["first", "second"]


# -- URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p%40ss@h:5432/db", "postgresql+psycopg://u:p%40ss@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://h/db?options=-csearch_path%3Ds", "postgresql+psycopg://h/db?options=-csearch_path%3Ds"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
        ("sqlite://", "sqlite://"),
    ],
)  # fmt: skip
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_database_normalises_its_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pg = Database("postgresql://nobody@127.0.0.1:1/none")  # no connection is made
    try:
        assert pg.url == "postgresql+psycopg://nobody@127.0.0.1:1/none"
        assert (pg.is_postgres, pg.is_sqlite, pg.dialect) == (True, False, "postgresql")
        assert pg.engine.dialect.driver == "psycopg"
    finally:
        pg.dispose()
    monkeypatch.setenv("PLANFLOW_INSTANCE", str(tmp_path / "instance"))
    lite = Database(f"sqlite:///{tmp_path / 'instance' / 'x.sqlite3'}")
    try:
        assert (lite.is_postgres, lite.is_sqlite, lite.dialect) == (False, True, "sqlite")
        assert (tmp_path / "instance").is_dir()  # the instance folder is created
    finally:
        lite.dispose()
    # Any other folder must exist: a typo in a URL does not create folders.
    with pytest.raises(ConfigurationError, match="sub of the SQLite database does not exist"):
        Database(f"sqlite:///{tmp_path / 'sub' / 'x.sqlite3'}")
    assert not (tmp_path / "sub").exists()


def test_with_search_path_keeps_the_driver_and_adds_the_option() -> None:
    url = with_search_path("postgresql://u@h/db", "s1")
    assert url.startswith("postgresql+psycopg://u@h/db?")
    assert "search_path" in url and "s1" in url


# -- the narrow forms of UPDATE_PLAN_MOVE ---------------------------------------------

PREPARE_MOVE = Sql(
    "prepare_move",
    "UPDATE plan SET task_escalated_unit_id = :unit, timer_at = :timer_at, timer_hint = :hint"
    " WHERE id = :plan_id",
)
#: A hint later than the move's new timer (T4), as if the deadline processor
#: had moved it after the transition read the plan.
LATE_HINT = datetime(2028, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize("variant", ps.MOVE_VARIANTS, ids=lambda s: s.name)
def test_each_narrow_move_sets_exactly_its_columns(scene: World, variant: Sql) -> None:
    """A narrow move leaves the indexed columns it omits as they were, and sets the rest."""
    submitted_before = scene.get(Plan, scene.plan).submitted_by
    with write_tx(scene.db) as tx:
        tx.run(
            PREPARE_MOVE,
            {"unit": scene.unit, "timer_at": T1, "hint": LATE_HINT, "plan_id": scene.plan},
        )
        params = {
            "plan_id": scene.plan, "version": 3, "state": "submitted", "new_version": 4,
            "at": T2, "audit_seq": 3, "audit_hash": "c" * 64, "submitted_by": scene.chair,
            "revision": 2, "task_role": "reviewer", "task_unit_id": None, "task_since": T2,
            "task_due_at": T3, "timer_at": T4, "timer_kind": "remind",
        }  # fmt: skip
        assert ps.update_plan_checked(tx, variant, params)
        assert not ps.update_plan_checked(tx, variant, params)  # the version check holds
    [p] = scene.rows(Plan, Plan.id == scene.plan)
    flags = variant.name.split(":")[1].split("+")
    assert (p.state, p.version, p.revision, p.task_level) == ("submitted", 4, 2, 0)
    assert (p.timer_kind, p.timer_claimed_by, p.timer_claimed_until) == ("remind", None, None)
    assert_utc_equal(p.task_due_at, T3)
    if "task" in flags:
        assert (p.task_role, p.task_unit_id) == ("reviewer", None)
    else:
        assert (p.task_role, p.task_unit_id) == ("drafter", scene.unit)
    assert p.task_escalated_unit_id == (None if "esc" in flags else scene.unit)
    assert_utc_equal(p.timer_at, T4 if "timer" in flags else T1)
    # The hint moves to a sooner timer: on SQLite when the variant says so
    # (the write lock keeps the hint read current), on PostgreSQL whenever
    # the timer is set, computed under the row lock.
    moves = "sooner" in flags if scene.db.is_sqlite else "timer" in flags
    assert_utc_equal(p.timer_hint, T4 if moves else LATE_HINT)
    assert p.submitted_by == (scene.chair if "sub" in flags else submitted_before)


def _row(**changes: object) -> ps.PlanRow:
    base = ps.PlanRow(
        id=1, unit_id=2, year=2027, title="P", workflow_name="annual_plan", workflow_version=1,
        state="submitted", version=3, submitted_by=None, item_count=1, items_without_due=0,
        revision=1, audit_seq=3, audit_hash="a" * 64, task_role="reviewer", task_unit_id=5,
        task_level=0, task_escalated_unit_id=None, has_timer=True, org_generation=1,
        timer_hint="2027-01-10 08:00:00.000000",
    )  # fmt: skip
    return base._replace(**changes)  # type: ignore[arg-type]


def test_move_update_omits_only_what_keeps_its_value() -> None:
    def flags(sql: Sql) -> str:
        return sql.name.split(":")[1]

    later, sooner = "2027-01-20 08:00:00.000000", "2027-01-09 08:00:00.000000"
    # The same task at the same unit, a later timer: the timer, not its indexed hint.
    assert flags(ps.move_update(_row(), "reviewer", 5, later)) == "timer"
    # A sooner timer, or the first one, moves the hint too.
    assert flags(ps.move_update(_row(), "reviewer", 5, sooner)) == "timer+sooner"
    first = _row(has_timer=False, timer_hint=None)
    assert flags(ps.move_update(first, "reviewer", 5, later)) == "timer+sooner"
    # Nothing had a timer and nothing gets one: no timer column at all.
    assert flags(ps.move_update(_row(has_timer=False), "reviewer", 5, None)) == "none"
    # A timer that goes away must be cleared (its hint is left for the processor).
    assert flags(ps.move_update(_row(), "reviewer", 5, None)) == "timer"
    # Another role, another unit, or no task at all: the task key is written.
    assert flags(ps.move_update(_row(has_timer=False), "inspector", 5, None)) == "task"
    assert flags(ps.move_update(_row(has_timer=False), "reviewer", 6, None)) == "task"
    assert flags(ps.move_update(_row(has_timer=False), None, None, None)) == "task"
    # An escalated task is always cleared.
    escalated = _row(task_escalated_unit_id=9, has_timer=False)
    assert flags(ps.move_update(escalated, "reviewer", 5, None)) == "esc"
    # A submission writes its submitter; a resubmission by the same person need not.
    assert flags(ps.move_update(_row(has_timer=False), "reviewer", 5, None, 7)) == "sub"
    same = _row(has_timer=False, submitted_by=7)
    assert flags(ps.move_update(same, "reviewer", 5, None, 7)) == "none"
    assert flags(ps.move_update(same, "reviewer", 5, None, None)) == "none"
