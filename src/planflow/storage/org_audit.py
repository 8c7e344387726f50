"""The organisation's audit chain in the database: appended, read back, checked.

``record`` appends one admin action inside the caller's own transaction
(the one that does the action), on the fixed-statement cursor (``Tx``), so
the services that write through a SQLAlchemy session or connection and the
plan path (a definition migration's step) append alike. The head row is
taken with an ``UPDATE ... RETURNING`` first: on PostgreSQL that row lock
puts concurrent admin actions in one order; SQLite's write lock does it
already. The head row is made by the first action (``ON CONFLICT DO
NOTHING``), so a fresh or emptied database needs no seeding.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import Session

from planflow.core.audit_chain import GENESIS, ChainProblem
from planflow.core.org_audit import OrgAuditEntry, check_org_chain, detail_text
from planflow.storage.db_errors import raise_if_not_initialised
from planflow.storage.tables.org_audit import OrgAuditHead, OrgAuditRecord
from planflow.storage.tx import Sql, Tx, session_tx

record_t = OrgAuditRecord.__table__  # type: ignore[attr-defined]
head_t = OrgAuditHead.__table__  # type: ignore[attr-defined]

ENSURE_HEAD = Sql(
    "ensure_org_audit_head",
    "INSERT INTO org_audit_head (id, seq, hash) VALUES (1, 0, :genesis) "
    "ON CONFLICT (id) DO NOTHING",
)
# RETURNING gives the new seq and the hash not yet replaced: the previous record's.
TAKE_HEAD = Sql(
    "take_org_audit_head",
    "UPDATE org_audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
)
INSERT_RECORD = Sql(
    "insert_org_audit_record",
    "INSERT INTO org_audit_record (seq, actor_id, at, action, detail, prev_hash, hash) "
    "VALUES (:seq, :actor_id, :at, :action, :detail, :prev_hash, :hash)",
)
SET_HEAD_HASH = Sql("set_org_audit_head", "UPDATE org_audit_head SET hash = :hash WHERE id = 1")


def record(tx: Tx, actor_id: int | None, at: datetime, action: str, **params: Any) -> int:
    """Append ``action`` by ``actor_id`` (None: the system) with its parameters; its seq."""
    detail = detail_text(params)
    tx.run(ENSURE_HEAD, {"genesis": GENESIS})
    taken = tx.one(TAKE_HEAD, {})
    assert taken is not None  # the row exists: made just above or long ago
    seq, prev = int(taken[0]), str(taken[1])
    entry = OrgAuditEntry(seq, actor_id, at, action, detail, prev)
    digest = entry.compute_hash()
    tx.run(
        INSERT_RECORD,
        {
            "seq": seq,
            "actor_id": actor_id,
            "at": at,
            "action": action,
            "detail": detail,
            "prev_hash": prev,
            "hash": digest,
        },
    )
    tx.run(SET_HEAD_HASH, {"hash": digest})
    return seq


@contextmanager
def conn_tx(conn: Connection) -> Iterator[Tx]:
    """The fixed statements inside a SQLAlchemy connection's own transaction."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        yield Tx(cursor, "sqlite" if conn.dialect.name == "sqlite" else "postgresql")
    except Exception as exc:
        raise_if_not_initialised(exc)
        raise
    finally:
        cursor.close()


def record_in(
    where: Connection | Session, actor_id: int | None, at: datetime, action: str, **params: Any
) -> int:
    """``record`` inside a session's or a connection's transaction."""
    if isinstance(where, Session):
        with session_tx(where) as tx:
            return record(tx, actor_id, at, action, **params)
    with conn_tx(where) as tx:
        return record(tx, actor_id, at, action, **params)


# -- reading back ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgRecord:
    seq: int
    actor_id: int | None
    at: datetime
    action: str
    detail: str
    prev_hash: str
    hash: str

    @property
    def entry(self) -> OrgAuditEntry:
        return OrgAuditEntry(
            self.seq, self.actor_id, self.at, self.action, self.detail, self.prev_hash
        )


def _record(row: Any) -> OrgRecord:
    return OrgRecord(row.seq, row.actor_id, row.at, row.action, row.detail, row.prev_hash, row.hash)


def records(
    conn: Connection, *, newest_first: bool = False, limit: int | None = None
) -> list[OrgRecord]:
    order = record_t.c.seq.desc() if newest_first else record_t.c.seq
    query = select(record_t).order_by(order)
    if limit is not None:
        query = query.limit(limit)
    return [_record(r) for r in conn.execute(query)]


def head(conn: Connection) -> tuple[int, str] | None:
    """(seq, hash) of the head row; None when no admin action was ever recorded."""
    row = conn.execute(select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == 1)).first()
    return None if row is None else (int(row.seq), str(row.hash))


def entries(conn: Connection) -> list[OrgAuditEntry]:
    """The records' hashed fields in chain order (for the signed checkpoints)."""
    return [r.entry for r in records(conn)]


def verify(conn: Connection) -> tuple[int, list[ChainProblem]]:
    """Check the chain against itself and its head row: (records, problems)."""
    found = records(conn)
    stored_head = head(conn)
    if not found and (stored_head is None or stored_head[0] == 0):
        return 0, []  # no admin action recorded yet
    if stored_head is None:
        stored_head = (0, GENESIS)  # the head row was deleted: every record is past it
    problems = list(check_org_chain(((r.entry, r.hash) for r in found), stored_head))
    return len(found), problems
