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

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, PoolProxiedConnection
from sqlmodel import Session

from planflow.errors import DatabaseUnavailable
from planflow.storage.db import Database
from planflow.storage.db_errors import raise_if_not_initialised
from planflow.storage.lost_connections import is_disconnect, is_read_statement, reconnect_read
from planflow.storage.sql import Sql as Sql  # re-exported: the SQL paths name both from tx
from planflow.storage.sql import sqlite_datetime as sqlite_datetime

# No ``sqlite3.register_adapter`` here: adapters are global to the process,
# and a library must not change how SQLite binds values for the programs that
# import it. (One for None saved ~0.5 µs a None, a few µs a transition.)


class Tx:
    """A cursor inside one write transaction."""

    __slots__ = ("_sqlite", "cursor", "dialect")

    def __init__(self, cursor: Any, dialect: str) -> None:
        self.cursor = cursor
        self.dialect = dialect
        self._sqlite = dialect == "sqlite"

    def _values(self, sql: Sql, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """SQLite's positional parameters, with datetimes as the text SQLAlchemy stores."""
        values = sql.positional(params)
        # Only copy when there is a datetime to convert (callers on the hot
        # path pass ``Tx.ts`` values already).
        for v in values:
            if type(v) is datetime:
                return tuple(sqlite_datetime(x) if type(x) is datetime else x for x in values)
        return values

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

    def _execute(self, sql: Sql, params: Mapping[str, Any]) -> None:
        if self._sqlite:
            self.cursor.execute(sql.sqlite_positional, self._values(sql, params))
        else:
            self.cursor.execute(sql.postgresql, params)

    def run(self, sql: Sql, params: Mapping[str, Any]) -> int:
        """Execute; returns the number of rows changed."""
        self._execute(sql, params)
        return int(self.cursor.rowcount)

    def run_bound(self, sql: Sql, params: Mapping[str, Any]) -> int:
        """``run`` for parameters already bound with ``ts`` (the transition path)."""
        if self._sqlite:
            self.cursor.execute(sql.sqlite_positional, sql.positional(params))
        else:
            self.cursor.execute(sql.postgresql, params)
        return int(self.cursor.rowcount)

    def run_many(self, sql: Sql, rows: Sequence[Mapping[str, Any]], *, bound: bool = False) -> None:
        """Execute once per row; ``bound`` as in ``run_bound``."""
        if not rows:
            return
        text: str
        values: Sequence[Any]
        if not self._sqlite:
            text, values = sql.postgresql, rows
        elif bound:
            text, values = sql.sqlite_positional, [sql.positional(r) for r in rows]
        else:
            text, values = sql.sqlite_positional, [self._values(sql, r) for r in rows]
        if len(values) == 1:
            self.cursor.execute(text, values[0])
        else:
            self.cursor.executemany(text, values)

    def insert(self, sql: Sql, params: Mapping[str, Any]) -> int:
        """Insert one row; returns its new id."""
        self._execute(sql, params)
        if self._sqlite:
            return int(self.cursor.lastrowid)
        return int(self.cursor.fetchone()[0])

    def one(self, sql: Sql, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        self._execute(sql, params)
        row = self.cursor.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: Sql, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        self._execute(sql, params)
        return [tuple(r) for r in self.cursor.fetchall()]

    def scalars(self, sql: Sql, params: Mapping[str, Any]) -> list[Any]:
        self._execute(sql, params)
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
        except Exception as exc:
            db.discard_pinned()  # a broken connection: the next transaction opens a new one
            if is_disconnect(raw, exc):
                db.renew_pool(None, exc)
                raise ConnectionLost(before_commit=True) from exc
            raise
        return Tx(cursor, db.dialect)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        db, raw = self._db, self._raw
        try:
            if exc_type is not None:
                _rollback(db, raw)
                if exc is not None and is_disconnect(raw, exc):
                    # Nothing reached a COMMIT: the whole transaction may run again, on a
                    # connection opened after this one died (``Database.renew_pool``).
                    db.renew_pool(None, exc)
                    raise ConnectionLost(before_commit=True) from exc
                if exc is not None:
                    raise_if_not_initialised(exc)  # a database nobody ran init on
                return
            try:
                if db.is_sqlite:
                    # The driver's commit() parses "COMMIT" anew every time
                    # (a sixth of the commit's cost, measured); the cursor's
                    # statement cache keeps it prepared, like BEGIN IMMEDIATE.
                    self._cursor.execute("COMMIT")
                else:
                    raw.commit()
            except Exception as failed:
                _rollback(db, raw)
                if is_disconnect(raw, failed):
                    db.renew_pool(None, failed)
                    raise ConnectionLost(before_commit=False) from failed
                raise
        finally:
            self._cursor.close()
        if db.checkpointer is not None:
            db.checkpointer.committed()


class ConnectionLost(DatabaseUnavailable):
    """The connection died under a write transaction (a restart, a killed backend).

    ``before_commit``: it died before the COMMIT was sent, so nothing was
    written and the transaction may run again on a new connection (the dead
    one is discarded). Otherwise whether it committed is unknown.
    """

    def __init__(self, *, before_commit: bool) -> None:
        if before_commit:
            message = "the connection to the database was lost; nothing was saved"
        else:
            message = (
                "the connection to the database was lost while saving; reload to see "
                "whether the change was saved"
            )
        super().__init__(message, saved="no" if before_commit else "unknown")
        self.before_commit = before_commit


def _rollback(db: Database, raw: Any) -> None:
    try:
        raw.rollback()
    except Exception:
        db.discard_pinned()
        return
    if getattr(raw, "closed", False) or getattr(raw, "broken", False):
        db.discard_pinned()


@contextmanager
def read_tx(db: Database) -> Iterator[Tx]:
    """Reads on the same cursor API, without taking any write lock (in autocommit
    mode on PostgreSQL, like ``Database.read``: no BEGIN and COMMIT to wait for).

    A statement that loses its connection while it runs (a restart, a killed
    backend) runs once more on a new one: in autocommit mode it was a
    transaction of its own (see ``lost_connections.retry_lost_reads``)."""
    reader = _Reader(db)
    try:
        yield reader.tx
    except Exception as exc:
        raise_if_not_initialised(exc)
        raise
    finally:
        reader.close()


class _Reader:
    """The pooled connection behind one ``read_tx``, replaced if it dies under a read."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.raw: PoolProxiedConnection | None = db.raw_connection()
        raw = self.raw
        if db.is_postgres:
            raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            self.tx: Tx = _ReadTx(raw.cursor(), db.dialect, self)
        else:
            self.tx = Tx(raw.cursor(), db.dialect)

    def lost(self, exc: BaseException, statement: str) -> bool:
        """Whether ``statement`` failed because the connection died, and may run again."""
        raw = self.raw
        return (
            raw is not None
            and is_disconnect(raw.dbapi_connection, exc)
            and is_read_statement(statement)
        )

    def reconnect(self, exc: BaseException) -> Any:
        """A cursor on a new connection; the dead one leaves the pool (and the pool's
        older connections are replaced when next taken: see ``Database.renew_pool``)."""
        dead, self.raw = self.raw, None
        assert dead is not None
        self.db.renew_pool(dead, exc)  # invalidates ``dead`` itself too
        dead.close()
        raw = self.db.raw_connection()
        raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        self.raw = raw
        return raw.cursor()

    def close(self) -> None:
        raw = self.raw
        if raw is None:  # the reconnect itself failed
            return
        try:
            if self.db.is_postgres:
                raw.dbapi_connection.autocommit = False  # type: ignore[union-attr]
            else:
                raw.rollback()
        except Exception:
            raw.invalidate()  # never back to the pool in a state a writer does not expect
            raise
        finally:
            raw.close()


class _ReadTx(Tx):
    """``Tx`` of a PostgreSQL ``read_tx``: a read that lost its connection runs again once."""

    __slots__ = ("_reader",)

    def __init__(self, cursor: Any, dialect: str, reader: _Reader) -> None:
        super().__init__(cursor, dialect)
        self._reader = reader

    def _execute(self, sql: Sql, params: Mapping[str, Any]) -> None:
        try:
            self.cursor.execute(sql.postgresql, params)
            return
        except Exception as failed:
            if not self._reader.lost(failed, sql.postgresql):
                raise
            exc = failed
        self.cursor = self._reader.reconnect(exc)
        self.cursor.execute(sql.postgresql, params)


@contextmanager
def session_tx(session: Session) -> Iterator[Tx]:
    """The fixed statements inside an ORM session's own transaction (its connection).

    For a change that writes the organisation through the session and plans
    through the transition path, committed or rolled back together (a unit
    moves and its plans' open tasks follow). What the session holds pending
    is flushed first, so the statements see it.
    """
    session.flush()
    conn = session.connection()
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        yield Tx(cursor, "sqlite" if conn.dialect.name == "sqlite" else "postgresql")
    except Exception as exc:
        raise_if_not_initialised(exc)
        raise
    finally:
        cursor.close()


@contextmanager
def conn_tx(conn: Connection) -> Iterator[Tx]:
    """The fixed statements on a read connection's own DBAPI connection (``Database.read``),
    so one unit of work runs both SQLAlchemy queries and these statements: in its
    autocommit mode on PostgreSQL, in its deferred transaction on SQLite."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    tx = Tx(cursor, "sqlite") if conn.dialect.name == "sqlite" else _ConnReadTx(cursor, conn)
    try:
        yield tx
    except Exception as exc:
        raise_if_not_initialised(exc)
        raise
    finally:
        tx.cursor.close()


class _ConnReadTx(Tx):
    """``Tx`` of a PostgreSQL ``conn_tx``: it follows its connection when a read of the
    same unit (SQLAlchemy's, ``lost_connections.retry_lost_reads``) moved it to a new one, and a
    read of its own that lost the connection runs again once, as there."""

    __slots__ = ("_conn",)

    def __init__(self, cursor: Any, conn: Connection) -> None:
        super().__init__(cursor, "postgresql")
        self._conn = conn

    def _execute(self, sql: Sql, params: Mapping[str, Any]) -> None:
        conn = self._conn
        dbapi = conn.connection.dbapi_connection
        if self.cursor.connection is not dbapi:
            self.cursor.close()
            self.cursor = dbapi.cursor()  # type: ignore[union-attr]
        try:
            self.cursor.execute(sql.postgresql, params)
            return
        except Exception as failed:
            # Only in autocommit mode was the read a transaction of its own.
            alone = bool(getattr(dbapi, "autocommit", False))
            if not (alone and is_disconnect(dbapi, failed) and is_read_statement(sql.postgresql)):
                raise
            exc = failed
        self.cursor = reconnect_read(conn, exc)
        self.cursor.execute(sql.postgresql, params)
