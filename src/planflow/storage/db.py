"""The database adapter: engines, connection settings and transactions.

One ``Database`` per process and URL. It hides the differences between the two
supported databases that matter for correctness:

* SQLite runs in WAL mode with ``synchronous=NORMAL`` (readers go on during a
  write; durable across application crashes) and every write transaction
  starts with ``BEGIN IMMEDIATE``. A deferred transaction that reads first and
  writes later gets SQLITE_BUSY at the lock upgrade and ignores the busy
  timeout; taking the write lock up front lets concurrent writers queue
  instead. Python 3.11's sqlite3 module issues its own BEGIN, so it is turned
  off (``isolation_level = None``) and SQLAlchemy's begin event emits ours.
* PostgreSQL runs at READ COMMITTED; conflicting writes are settled by the
  optimistic version check in ``UPDATE ... WHERE version = :expected``.
  A pooled connection is checked with a ping only when it has been idle for
  a while, not on every checkout: a web page opens several short
  transactions, and a ping each cost a round trip each.
  Reads (``read``, ``read_session``, ``tx.read_tx``) run in autocommit mode
  there: at READ COMMITTED every statement of a read transaction sees its own
  snapshot anyway, so the BEGIN and COMMIT around them were two round trips
  (and two commands for the server) that changed nothing. A plan page reads
  in about fifteen such units.
* What a connection the server ended costs (a restart, a killed backend) is
  kept small by ``lost_connections``: reads in flight run again, a restarting
  server is waited for (``wait``, ``PLANFLOW_DATABASE_WAIT``). Writes are
  retried by their own paths, never there.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlmodel import Session

from planflow.errors import ConfigurationError, DatabaseUnavailable
from planflow.storage.checkpointer import BACKSTOP_PAGES, WalCheckpointer, checkpointer_for
from planflow.storage.db_errors import describe_driver_error, tables_missing_as_not_initialised
from planflow.storage.lost_connections import (
    count_goodbyes_as_lost,
    database_wait_from_env,
    opened_and_lost,
    ping_when_idle,
    retry_lost_reads,
    wait_through_restarts,
)

_C = TypeVar("_C", Connection, PoolProxiedConnection)

DEFAULT_INSTANCE = Path("instance")
SQLITE_BUSY_TIMEOUT_MS = 30_000


def instance_path() -> Path:
    """The folder for the SQLite file, evidence files and local settings."""
    return Path(os.environ.get("PLANFLOW_INSTANCE", DEFAULT_INSTANCE)).resolve()


def database_url_from_env() -> str:
    """``PLANFLOW_DATABASE_URL``, or a SQLite file in the instance folder."""
    url = os.environ.get("PLANFLOW_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{instance_path() / 'planflow.sqlite3'}"


def normalise_url(url: str) -> str:
    """Pick the psycopg 3 driver for a bare ``postgresql://`` URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            "the database URL is not one planflow can use; write sqlite:///path/to/file.sqlite3 "
            "or postgresql://user@host:5432/database"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Database:
    """Engine plus the transaction helpers every adapter uses.

    ``create``: a SQLite file that does not exist yet is created (by the first
    connection); with False, a missing file is refused (``DatabaseMissing``)
    instead of being created empty. Only the instance folder itself is made
    when missing: a URL naming any other folder that does not exist is a
    ``ConfigurationError``, not a reason to create it.

    ``wait`` (PostgreSQL): seconds to wait for a server that answered before
    and now refuses connections, as during a restart; ``PLANFLOW_DATABASE_WAIT``
    by default (see ``lost_connections``).
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 5,
        create: bool = True,
        wait: float | None = None,
    ) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"{_safe(parsed)}: planflow runs on SQLite (sqlite:///path) or PostgreSQL "
                "(postgresql://user@host/database), not on "
                f"{backend!r}"
            )
        self.is_sqlite = backend == "sqlite"
        self.is_postgres = backend == "postgresql"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                _check_sqlite_path(Path(parsed.database), create)
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            }
        else:
            kwargs["pool_size"] = pool_size
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (ArgumentError, ImportError) as exc:  # a driver that is not installed, say
            raise ConfigurationError(f"{_safe(parsed)}: {exc}") from exc
        tables_missing_as_not_initialised(self.engine)
        #: Background WAL checkpoints (SQLite files only; see ``checkpointer``).
        self.checkpointer: WalCheckpointer | None = None
        if self.is_sqlite:
            self.checkpointer = checkpointer_for(parsed.database)
            _configure_sqlite(self.engine, self.checkpointer)
        else:
            ping_when_idle(self.engine)
            count_goodbyes_as_lost(self.engine)
            retry_lost_reads(self.engine)
            wait_through_restarts(self.engine, database_wait_from_env() if wait is None else wait)
        self._pinned = threading.local()
        self._all_pinned: list[Any] = []
        self._pinned_lock = threading.Lock()

    def connect(self) -> Connection:
        """A pooled connection; opened once more if the server ended the first while
        it was set up (``lost_connections.opened_and_lost``)."""
        return self._opened(self.engine.connect)

    def raw_connection(self) -> PoolProxiedConnection:
        """A pooled DBAPI connection, opened once more as ``connect`` does."""
        return self._opened(self.engine.raw_connection)

    def _opened(self, open_one: Callable[[], _C]) -> _C:
        try:
            return open_one()
        except (DBAPIError, psycopg.Error) as exc:  # the pool does not wrap the driver's
            if not (self.is_postgres and opened_and_lost(exc)):
                raise
        return open_one()

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        with self.connect() as conn:
            conn = conn.execution_options(planflow_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self, *, streamed: bool = False) -> Iterator[Connection]:
        """A read-only unit of work (a deferred transaction on SQLite; autocommit
        statements on PostgreSQL, see the module's docstring). ``streamed``: the
        block reads with ``yield_per``, a server-side cursor on PostgreSQL, which
        lives only in a transaction: it gets one."""
        with self.connect() as conn:
            if self.is_postgres and not streamed:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                with conn.begin():
                    yield conn

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An ORM session for the paths where clarity beats speed.

        Its transaction takes the write lock up front on SQLite, like ``write``.
        """
        with self.connect() as conn:
            conn = conn.execution_options(planflow_write=True)
            with Session(bind=conn) as session, session.begin():
                yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """An ORM session for reading: on SQLite it does not take the write lock.

        The session joins a transaction begun here and never commits it
        (``rollback_only``): a read has nothing to commit, and a statement that
        lost its connection can run again on a new one (``lost_connections``)
        without pulling the session's own transaction from under it.
        """
        with self.connect() as conn:
            if self.is_postgres:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.begin()
            with Session(bind=conn, join_transaction_mode="rollback_only") as session:
                yield session

    def pinned_connection(self) -> Any:
        """This thread's own DBAPI connection, for the transition path.

        Taken from the pool once and detached from it, so a transition does
        not pay a pool check-out and reset (measured ~10 µs, a fifth of a
        hand-written step). ``discard_pinned`` drops it after a connection
        error; the next call opens a new one.
        """
        conn = getattr(self._pinned, "conn", None)
        if conn is None:
            try:
                fairy = self.raw_connection()
            except (DBAPIError, psycopg.Error) as exc:
                raise DatabaseUnavailable(
                    f"the database cannot be reached: {describe_driver_error(exc)}"
                ) from exc
            fairy.detach()
            conn = fairy.dbapi_connection
            self._pinned.conn = conn
            with self._pinned_lock:
                self._all_pinned.append(conn)
        return conn

    def renew_pool(self, lost: Any = None, exc: BaseException | None = None) -> None:
        """The server ended a connection (``lost``, if pooled): every pooled connection
        opened before now is replaced at its next check-out.

        What SQLAlchemy does on a disconnect it handles itself
        (``invalidate_pool_on_disconnect``), for those handled here: a server that
        ended one connection (a restart, a failover, ``pg_terminate_backend``) has
        usually ended the others, and a retry must not be handed one of them whose
        end has not reached its socket yet.
        """
        self.engine.pool._invalidate(lost, exc)

    def discard_pinned(self) -> None:
        conn = getattr(self._pinned, "conn", None)
        if conn is None:
            return
        self._pinned.conn = None
        with self._pinned_lock:
            if conn in self._all_pinned:
                self._all_pinned.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def dispose(self) -> None:
        with self._pinned_lock:
            pinned, self._all_pinned = self._all_pinned, []
        for conn in pinned:
            with contextlib.suppress(Exception):
                conn.close()
        self._pinned = threading.local()
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.engine.dispose()


#: Page size of new SQLite databases (``PLANFLOW_SQLITE_PAGE_SIZE``). A
#: transition dirties one page in each of about seven B-trees, and in WAL
#: mode every commit writes each dirty page whole, so the page size is worth
#: measuring per deployment; it only takes effect when the file is created.
SQLITE_PAGE_SIZE = int(os.environ.get("PLANFLOW_SQLITE_PAGE_SIZE", "4096"))


def _configure_sqlite(engine: Engine, checkpointer: WalCheckpointer | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if checkpointer is not None:
            # The checkpointer thread checkpoints; a commit only does when it lags far behind.
            cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        cur.close()

    if checkpointer is not None:

        @event.listens_for(engine, "commit")
        def _on_commit(_conn: Connection) -> None:
            checkpointer.committed()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("planflow_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class DatabaseMissing(ConfigurationError):
    """A SQLite file that does not exist, where one was expected."""

    code = "database_missing"


def require_existing(url: str) -> None:
    """Refuse (``DatabaseMissing``) a SQLite URL whose file does not exist, creating nothing.

    For the commands that only use a database: they must not leave an empty
    file behind. PostgreSQL databases are checked by connecting.
    """
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _check_sqlite_path(Path(parsed.database or ""), create=False)


def _safe(parsed: URL) -> str:
    return parsed.render_as_string(hide_password=True)


def _check_sqlite_path(path: Path, create: bool) -> None:
    if path.exists():
        return
    folder = path.parent
    if not folder.is_dir():
        if folder.resolve() != instance_path():
            raise ConfigurationError(
                f"the folder {folder} of the SQLite database does not exist; create it first "
                "(planflow creates only its instance folder)"
            )
        folder.mkdir(parents=True, exist_ok=True)
    if not create:
        raise DatabaseMissing(
            f"there is no planflow database at {path}; create it with 'planflow init'"
        )


def with_search_path(url: str, schema: str) -> str:
    """A PostgreSQL URL whose connections use ``schema`` (tests, benchmarks)."""
    parsed = make_url(normalise_url(url))
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)
