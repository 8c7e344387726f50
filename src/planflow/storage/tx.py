"""The write transaction of the transition path, on the DBAPI cursor.

Why not SQLAlchemy here: measured on the reference machine, a Core
``SELECT`` by primary key costs ~77 µs against ~5 µs on the driver's cursor,
and an empty Core write transaction ~137 µs, while the whole hand-written W1
step (begin, select, update, insert, commit) costs ~48 µs. Eight Core
statements per transition would cap planflow at a tenth of the floor. So the
few fixed statements of a transition are SQL text, prepared once per dialect,
run on a pooled connection that SQLAlchemy still manages (pool, pre-ping,
reset). Everything else — schema, migrations, the organisation, queries —
stays on SQLAlchemy.

SQL is written once with ``:name`` placeholders; for psycopg they become
``%(name)s``. Datetimes are bound in the text form SQLAlchemy's SQLite
dialect stores, so rows written here and rows written by SQLAlchemy compare
and sort alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ..audit_chain import utc_isoformat
from .db import Database

_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


class Sql:
    """One statement, with its text for each dialect."""

    __slots__ = ("name", "postgresql", "returns_id", "sqlite")

    def __init__(
        self,
        name: str,
        text: str,
        *,
        returns_id: bool = False,
        postgresql: str | None = None,
    ) -> None:
        """``postgresql`` is the statement's own PostgreSQL text, where they differ."""
        self.name = name
        self.returns_id = returns_id
        self.sqlite = text
        source = text if postgresql is None else postgresql
        pg = _NAMED.sub(lambda m: f"%({m.group(1)})s", source.replace("%", "%%"))
        self.postgresql = pg + " RETURNING id" if returns_id else pg

    def text(self, dialect: str) -> str:
        return self.sqlite if dialect == "sqlite" else self.postgresql


def sqlite_datetime(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DATETIME stores (UTCDateTime stores UTC)."""
    if value.tzinfo is None:  # naive values are UTC already
        return value.isoformat(sep=" ", timespec="microseconds")
    # The audit hash formats the same timestamp: share its (remembered) text.
    iso = utc_isoformat(value)
    return iso[:10] + " " + iso[11:26]


class Tx:
    """A cursor inside one write transaction."""

    __slots__ = ("_sqlite", "cursor", "dialect")

    def __init__(self, cursor: Any, dialect: str) -> None:
        self.cursor = cursor
        self.dialect = dialect
        self._sqlite = dialect == "sqlite"

    def _params(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        if not self._sqlite:
            return params
        # Only copy when there is a datetime to convert (callers on the hot
        # path pass ``Tx.ts`` values already).
        for v in params.values():
            if type(v) is datetime:
                return {
                    k: sqlite_datetime(x) if type(x) is datetime else x for k, x in params.items()
                }
        return params

    def ts(self, value: datetime | None) -> Any:
        """A datetime as this database binds it (convert once, use many times)."""
        if value is None or not self._sqlite:
            return value
        return sqlite_datetime(value)

    def dt(self, value: Any) -> datetime | None:
        """A datetime read back from a raw row, as aware UTC."""
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def run(self, sql: Sql, params: Mapping[str, Any]) -> int:
        """Execute; returns the number of rows changed."""
        self.cursor.execute(sql.text(self.dialect), self._params(params))
        return int(self.cursor.rowcount)

    def run_bound(self, sql: Sql, params: Mapping[str, Any]) -> int:
        """``run`` for parameters already bound with ``ts`` (the transition path)."""
        self.cursor.execute(sql.text(self.dialect), params)
        return int(self.cursor.rowcount)

    def run_many(self, sql: Sql, rows: Sequence[Mapping[str, Any]], *, bound: bool = False) -> None:
        """Execute once per row; ``bound`` as in ``run_bound``."""
        if not bound:
            rows = [self._params(r) for r in rows]
        if len(rows) == 1:
            self.cursor.execute(sql.text(self.dialect), rows[0])
        elif rows:
            self.cursor.executemany(sql.text(self.dialect), rows)

    def insert(self, sql: Sql, params: Mapping[str, Any]) -> int:
        """Insert one row; returns its new id."""
        self.cursor.execute(sql.text(self.dialect), self._params(params))
        if self._sqlite:
            return int(self.cursor.lastrowid)
        return int(self.cursor.fetchone()[0])

    def one(self, sql: Sql, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        self.cursor.execute(sql.text(self.dialect), self._params(params))
        row = self.cursor.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: Sql, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql.text(self.dialect), self._params(params))
        return [tuple(r) for r in self.cursor.fetchall()]

    def scalars(self, sql: Sql, params: Mapping[str, Any]) -> list[Any]:
        self.cursor.execute(sql.text(self.dialect), self._params(params))
        return [r[0] for r in self.cursor.fetchall()]


class write_tx:
    """One write transaction: committed if the block ends normally, else rolled back.

    SQLite takes the write lock up front (``BEGIN IMMEDIATE``); PostgreSQL's
    driver opens the transaction on the first statement. A class rather than
    a generator context manager: it runs once per transition, and a
    generator's set-up and tear-down cost more than these few calls.
    """

    __slots__ = ("_cursor", "_db", "_raw")

    def __init__(self, db: Database) -> None:
        self._db = db

    def __enter__(self) -> Tx:
        db = self._db
        raw = self._raw = db.pinned_connection()
        try:
            cursor = self._cursor = raw.cursor()
            if db.is_sqlite:
                cursor.execute("BEGIN IMMEDIATE")
        except Exception:
            db.discard_pinned()  # a broken connection: the next transaction opens a new one
            raise
        return Tx(cursor, db.dialect)

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        db, raw = self._db, self._raw
        try:
            if exc_type is not None:
                _rollback(db, raw)
                return
            try:
                raw.commit()
            except Exception:
                _rollback(db, raw)
                raise
        finally:
            self._cursor.close()
        if db.checkpointer is not None:
            db.checkpointer.committed()


def _rollback(db: Database, raw: Any) -> None:
    try:
        raw.rollback()
    except Exception:
        db.discard_pinned()


@contextmanager
def read_tx(db: Database) -> Iterator[Tx]:
    """Reads on the same cursor API, without taking any write lock."""
    raw = db.engine.raw_connection()
    try:
        yield Tx(raw.cursor(), db.dialect)
    finally:
        raw.rollback()
        raw.close()
