"""The packed keys: audit records (plan_id * 2**32 + seq) and revisions (plan_id * 2**32 + number).

For each: the migration, the constraint, the queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import migrate_schema
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from planflow.app import Planflow
from planflow.storage import audit_repo
from planflow.storage import execution_sql as xs
from planflow.storage.audit_keys import audit_key, audit_range
from planflow.storage.db import Database
from planflow.storage.schema import head_revision, upgrade
from planflow.storage.tables import Unit, User

T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
OLD_RECORD = (
    "INSERT INTO audit_record (plan_id, seq, actor_id, at, action, from_state, to_state,"
    " revision, detail, prev_hash, hash) VALUES (:plan, :seq, 1, '2027-01-04 08:00:00.000000',"
    " 'submit', 'draft', 'submitted', 1, '{}', :prev, :hash)"
)


OLD_PLAN = (
    "INSERT INTO plan (unit_id, year, title, workflow_name, workflow_version, state, version,"
    " created_by, created_at, updated_at, content, item_count, items_without_due, revision,"
    " audit_seq, audit_hash, task_level) VALUES (:unit, 2027, :title, 'annual_plan', 1,"
    " 'submitted', 1, :user, '2027-01-04 08:00:00.000000', '2027-01-04 08:00:00.000000', '{}',"
    " 0, 0, 1, 3, 'h', 0) RETURNING id"
)


def _old_plans(s: Session) -> tuple[int, list[int]]:
    """A user and two plans, in raw SQL: the models describe the newest schema, not an old one."""
    unit = Unit(code="u", name="Unit", created_at=T0)
    user = User(username="a", display_name="A", created_at=T0)
    s.add_all([unit, user])
    s.flush()
    assert unit.id is not None and user.id is not None
    plans = [
        s.execute(text(OLD_PLAN), {"unit": unit.id, "user": user.id, "title": f"P{n}"}).one()[0]
        for n in (1, 2)
    ]
    return user.id, plans


def _records(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT plan_id, seq, hash FROM audit_record ORDER BY plan_id, seq")
        )
        return [tuple(r) for r in rows]


def test_the_migration_keeps_every_record_and_keys_it(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0005")
        with Session(db.engine) as s, s.begin():
            _, plans = _old_plans(s)
            for plan_id in plans:
                for seq in (1, 2, 3):
                    params = {"plan": plan_id, "seq": seq, "prev": f"p{seq}", "hash": f"h{seq}"}
                    s.execute(text(OLD_RECORD), params)
        before = _records(db)
        assert upgrade(db) == head_revision(db)
        assert _records(db) == before
        with db.engine.connect() as conn:
            ids = conn.execute(text("SELECT id, plan_id, seq FROM audit_record ORDER BY id")).all()
        assert [i for i, _, _ in ids] == [audit_key(p, s) for _, p, s in ids]
        assert [s for _, _, s in ids] == [1, 2, 3, 1, 2, 3]
        migrate_schema(db, "0005", "downgrade")
        assert _records(db) == before
    finally:
        db.dispose()


def test_a_record_whose_id_does_not_match_its_plan_and_seq_is_refused(pf: Planflow, org) -> None:
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    bad = audit_key(plan_id, 2) + 1  # the id of seq 3, given to seq 2
    with pytest.raises(IntegrityError), pf.db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_record (id, plan_id, seq, at, action, to_state, revision,"
                " detail, prev_hash, hash) VALUES (:id, :plan, 2, '2027-01-04 08:00:00',"
                " 'x', 'draft', 0, '{}', 'a', 'b')"
            ),
            {"id": bad, "plan": plan_id},
        )
    assert audit_repo.verify(pf.db).ok


def test_one_plans_records_are_its_key_range(pf: Planflow, org) -> None:
    first = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    second = pf.create_plan(unit_code="branch_a", year=2027, title="Q", actor="drafter_a")
    pf.content.add_comment(first, "Add a target", actor="drafter_a")
    assert [(r.plan_id, r.seq) for r in pf.audit_trail(first)] == [(first, 1), (first, 2)]
    assert [(r.plan_id, r.seq) for r in pf.audit_trail(second)] == [(second, 1)]
    low, high = audit_range(first)
    assert low < audit_key(first, 1) <= audit_key(first, 2**32 - 1) == high < audit_key(second, 0)
    assert [r["seq"] for r in audit_repo.iter_records(pf.db, first)] == [1, 2]


@pytest.mark.parametrize(
    ("table", "query"),
    [
        (
            "audit_record",
            "SELECT * FROM audit_record WHERE id >= 7 * 4294967296"
            " AND id <= 7 * 4294967296 + 4294967295 ORDER BY id",
        ),
        (
            "audit_record",
            xs.COUNT_ENTRIES_INTO_STATE.sqlite.replace(":plan_id", "7").replace(":state", "'x'"),
        ),
        (
            "plan_revision",
            "SELECT * FROM plan_revision WHERE id >= 7 * 4294967296"
            " AND id <= 7 * 4294967296 + 4294967295 ORDER BY id",
        ),
        (
            "plan_revision",
            xs.SELECT_REVISION_CONTENT.sqlite.replace(":plan_id", "7").replace(":number", "2"),
        ),
    ],
    ids=["audit_trail", "count_entries_into_state", "revisions", "revision_content"],
)
def test_a_plans_rows_are_found_by_the_key_not_a_scan(tmp_path, table: str, query: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    try:
        upgrade(db)
        with db.engine.connect() as conn:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query))
    finally:
        db.dispose()
    assert "INTEGER PRIMARY KEY" in plan, plan
    assert f"SCAN {table}" not in plan, plan


# -- revisions: plan_id * 2**32 + number (migration 0008) ------------------------------------

OLD_REVISION = (
    "INSERT INTO plan_revision (plan_id, number, content, content_hash, created_by, created_at)"
    " VALUES (:plan, :number, :content, 'h', :user, '2027-01-04 08:00:00.000000')"
)


def _revisions(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT plan_id, number, content FROM plan_revision ORDER BY plan_id, number")
        )
        return [tuple(r) for r in rows]


def test_the_revision_migration_keeps_every_revision_and_keys_it(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0007")
        with Session(db.engine) as s, s.begin():
            user_id, plans = _old_plans(s)
            # Interleaved, so that the old ids are not in key order.
            for number in (1, 2):
                for plan_id in plans:
                    s.execute(
                        text(OLD_REVISION),
                        {"plan": plan_id, "number": number, "user": user_id,
                         "content": f"{plan_id}.{number}"},
                    )  # fmt: skip
        before = _revisions(db)
        assert upgrade(db) == head_revision(db)
        assert _revisions(db) == before
        with db.engine.connect() as conn:
            keys = conn.execute(text("SELECT id, plan_id, number FROM plan_revision")).all()
        assert sorted(i for i, _, _ in keys) == sorted(audit_key(p, n) for _, p, n in keys)
        migrate_schema(db, "0007", "downgrade")
        assert _revisions(db) == before
        # The old table again: ids are given by the database, (plan, number) is unique.
        with Session(db.engine) as s, s.begin():
            s.execute(text(OLD_REVISION), {"plan": plans[0], "number": 3, "user": user_id,
                                           "content": "new"})  # fmt: skip
        with pytest.raises(IntegrityError), Session(db.engine) as s, s.begin():
            s.execute(text(OLD_REVISION), {"plan": plans[0], "number": 3, "user": user_id,
                                           "content": "again"})  # fmt: skip
        assert len(_revisions(db)) == len(before) + 1
    finally:
        db.dispose()


def test_a_revision_whose_id_does_not_match_its_plan_and_number_is_refused(
    pf: Planflow, org
) -> None:
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    with pytest.raises(IntegrityError), pf.db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plan_revision (id, plan_id, number, content, content_hash,"
                " created_at) VALUES (:id, :plan, 1, '{}', 'h', '2027-01-04 08:00:00')"
            ),
            {"id": audit_key(plan_id, 2), "plan": plan_id},
        )
