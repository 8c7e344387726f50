"""What a PostgreSQL connection that the server ended costs: as little as it can.

A server ends connections when it restarts or fails over, when an operator
runs ``pg_terminate_backend``, when a firewall drops an idle link. Each of
these is met at a different moment, and each is handled here, once:

* **Checking out** a pooled connection (``ping_when_idle``): one idle for a
  while is pinged; one returned moments ago is looked at without a round trip
  (its goodbye is already on the socket if the server ended it).
* **An error SQLAlchemy meets** (``count_goodbyes_as_lost``): the server's
  own word that it is ending the connection (SQLSTATE 57P01-03) marks the
  connection lost at once, as a closed socket does; the driver may read that
  word before it sees the socket close.
* **A read in flight** (``retry_lost_reads``): a statement that only reads, on
  a connection in autocommit mode, runs once more on a new connection. It was
  a transaction of its own, so nothing of it is lost but its answer.
* **A connection ended while it is set up** (``opened_and_lost``): a new
  process's first connection runs SQLAlchemy's set-up statements; a server
  that ends it then (a restart, ``pg_terminate_backend`` while a new web worker
  boots) is asked once more (``Database.connect``): opening a connection twice
  does nothing twice.
* **Opening a connection while the server restarts** (``wait_through_restarts``):
  a server that answered this process before and now refuses connections
  ("connection refused", "the database system is starting up") is waited for,
  up to ``PLANFLOW_DATABASE_WAIT`` seconds, before the caller is told the
  database is unavailable. A restart takes a few seconds; without the wait,
  every request in those seconds was answered 503, not only those in flight.
  A server that never answered this process is reported at once: that is a
  wrong URL or a server that is not running, and a command line must say so
  without a pause.

Writes are never run again here: a transaction that lost its connection
before its COMMIT is run again by its own path (``PlanService``,
``db.once_more_if_lost``), which knows whether that is safe.
SQLite has no connection to lose; none of this applies to it.
"""

from __future__ import annotations

import os
import re
import select
import time
from typing import Any

import psycopg
import psycopg.errors
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DisconnectionError

from planflow.errors import ConfigurationError

#: A pooled PostgreSQL connection idle longer than this is pinged before use.
IDLE_PING_SECONDS = 10.0
#: Seconds to wait for a server that answered before to accept connections again.
DEFAULT_DATABASE_WAIT = 10.0
MAX_DATABASE_WAIT = 300.0
#: The first pause between two attempts to connect, doubled up to the last.
FIRST_PAUSE, LAST_PAUSE = 0.05, 1.0


def database_wait_from_env() -> float:
    """``PLANFLOW_DATABASE_WAIT``: seconds (0-300) to wait for a restarting server."""
    raw = os.environ.get("PLANFLOW_DATABASE_WAIT", "").strip()
    if not raw:
        return DEFAULT_DATABASE_WAIT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_DATABASE_WAIT:  # also refuses nan
        raise ConfigurationError(
            f"PLANFLOW_DATABASE_WAIT={raw!r}: give seconds between 0 and {MAX_DATABASE_WAIT:.0f}"
        )
    return seconds


def wait_through_restarts(engine: Engine, seconds: float) -> None:
    """Opening a connection waits up to ``seconds`` for a server that answered before.

    Any failure to connect counts, once the server has answered this engine: a
    restarting server says so in several ways (refused, "shutting down",
    "starting up", a connection closed during the handshake), all without a
    SQLSTATE, in the server's language. The pauses start short (a restart is
    often over in a second or two) and grow to a second.
    """
    answered = False

    @event.listens_for(engine, "do_connect")
    def _do_connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        nonlocal answered
        deadline = time.monotonic() + seconds
        pause = FIRST_PAUSE
        while True:
            try:
                conn = dialect.connect(*cargs, **cparams)
            except psycopg.OperationalError as refused:
                if not answered or time.monotonic() + pause > deadline:
                    refused.planflow_not_opened = True  # type: ignore[attr-defined]
                    raise
                time.sleep(pause)
                pause = min(pause * 2, LAST_PAUSE)
                continue
            answered = True
            return conn


def opened_and_lost(exc: BaseException) -> bool:
    """Whether opening a connection failed because the server ended it while it was
    set up (so opening another may succeed), not because it could not be reached
    (``wait_through_restarts`` has waited for that already)."""
    original = getattr(exc, "orig", None) or exc
    return isinstance(original, psycopg.OperationalError | psycopg.InterfaceError) and not getattr(
        original, "planflow_not_opened", False
    )


def ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, only for connections that sat in the pool.

    A connection dies mostly while idle (a server restart, a firewall's idle
    timeout); one returned moments ago is alive, unless the server ended it
    meanwhile (``pg_terminate_backend``, a restart): then its goodbye is
    already waiting on the socket, which is looked at without a round trip.
    A failed ping, or a socket with something to read while no query runs,
    raises ``DisconnectionError``, on which the pool throws the connection
    away and checks out a fresh one, as ``pool_pre_ping`` would.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["planflow_idle_since"] = time.monotonic()

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_conn: Any, record: Any) -> None:
        record.info["planflow_idle_since"] = time.monotonic()
        record.info["planflow_fresh"] = True

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop("planflow_fresh", False):
            # Just opened: not looked at. Were it ended already (a restart that began
            # this moment), its first statement would meet that like any loss in
            # flight; refusing it here would make the pool give up after its second
            # attempt, with an error that is not the database's (a 500).
            return
        since = record.info.get("planflow_idle_since")
        if since is not None and time.monotonic() - since < IDLE_PING_SECONDS:
            if not server_spoke(dbapi_conn):
                return
            raise DisconnectionError("the server ended the pooled connection")
        try:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT 1")
            finally:
                cur.close()
            dbapi_conn.rollback()  # the SELECT opened a transaction: end it
        except Exception as exc:
            raise DisconnectionError("the pooled connection is gone") from exc


def count_goodbyes_as_lost(engine: Engine) -> None:
    """Errors SQLAlchemy handles count as a lost connection whenever ``is_disconnect`` does.

    SQLAlchemy's own test for psycopg looks only at whether the connection is
    closed or broken, which it is not yet when the driver has read the
    server's "terminating connection" (``pg_terminate_backend``, a fast
    shutdown) but not the socket's close: on a loaded machine, or through a
    proxy that relays the two separately. The connection would then go back
    to the pool, the pool's other (equally ended) connections would stay,
    and a write that may run once more (``db_errors.once_more_if_lost``)
    would not know it may.
    """

    @event.listens_for(engine, "handle_error")
    def _handle_error(ctx: Any) -> None:
        # A closed or broken connection SQLAlchemy has found itself.
        if not ctx.is_disconnect and isinstance(ctx.original_exception, _SERVER_ENDED):
            ctx.is_disconnect = True


#: A statement that only reads: SELECT (or WITH … SELECT) naming no change and no lock.
_READ_ONLY = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_CHANGES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|NEXTVAL|PG_ADVISORY\w*)\b", re.IGNORECASE)


def is_read_statement(statement: str) -> bool:
    """Whether ``statement`` only reads, so running it twice is the same as once."""
    return bool(_READ_ONLY.match(statement)) and not _CHANGES.search(statement)


def retry_lost_reads(engine: Engine) -> None:
    """A read that lost its connection mid-statement runs once more on a new one.

    Only a statement that reads, on a connection in autocommit mode (``read``,
    ``read_session``): there it was a transaction of its own, so running it
    again on a fresh connection loses nothing and doubles nothing (SQLAlchemy's
    FAQ, "Using DBAPI Autocommit Allows for a Readonly Version of Transparent
    Reconnect"). Inside a transaction (a write, a streamed read) the earlier
    statements died with the connection: the error goes up as before.
    ``executemany`` is never retried (writes).
    """

    @event.listens_for(engine, "do_execute")
    def _do_execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        dbapi = cursor.connection
        alone = bool(getattr(dbapi, "autocommit", False))
        try:
            context.dialect.do_execute(cursor, statement, parameters, context)
            return True
        except Exception as failed:
            if not (alone and is_disconnect(dbapi, failed) and is_read_statement(statement)):
                raise
            exc = failed
        context.cursor = cursor = reconnect_read(context.root_connection, exc)
        # A second loss is no longer ours to hide: it goes up (a 503 for the web).
        context.dialect.do_execute(cursor, statement, parameters, context)
        return True


def reconnect_read(conn: Connection, exc: BaseException) -> Any:
    """A cursor on a new connection for ``conn`` (autocommit, as ``Database.read``
    gives it) whose connection died under a read; the dead one leaves the pool."""
    # As SQLAlchemy does on a disconnect: the pool's older connections are suspect too.
    conn.engine.pool._invalidate(conn.connection, exc)
    conn.invalidate()  # the dead connection leaves the pool
    conn.rollback()  # the statement's own (empty) transaction: now a new one may open
    conn.execution_options(isolation_level="AUTOCOMMIT")  # on the new connection
    return conn.connection.cursor()


def is_disconnect(raw: Any, exc: BaseException) -> bool:
    """Whether ``exc`` on the DBAPI connection ``raw`` means the connection is gone.

    PostgreSQL: the driver reports an operational error and the connection is
    closed or broken afterwards (a server restart, a killed backend, a network
    failure), or the server said it is ending the connection (SQLSTATE 57P01-03:
    ``pg_terminate_backend``, a shutdown, a crash): the driver may read that
    message before it sees the socket close, on a loaded machine, and the
    connection is gone all the same. SQLite has no connection to lose.
    """
    if isinstance(exc, _SERVER_ENDED):
        return True
    if not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    return bool(getattr(raw, "closed", False) or getattr(raw, "broken", False))


#: The server's own word that it is ending this connection (class 57, operator intervention).
_SERVER_ENDED = (
    psycopg.errors.AdminShutdown,
    psycopg.errors.CrashShutdown,
    psycopg.errors.CannotConnectNow,
)


def server_spoke(dbapi_conn: Any) -> bool:
    """Whether an idle connection's socket has something to read (or is closed).

    Between transactions the server sends nothing unprompted but its reason
    for ending the connection (and, rarely, a notice: then the connection is
    replaced needlessly, which is harmless). A ``poll`` with no timeout:
    about a microsecond, no round trip (``poll``, not ``select``, which refuses
    descriptors above 1023, common in a busy multi-threaded worker).
    """
    try:
        fd = dbapi_conn.fileno()
    except Exception:  # closed already
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True
