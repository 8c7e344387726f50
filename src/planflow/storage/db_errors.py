"""What a database error means for the one who meets it.

A driver's error is one of three things to a client: the database is away
for now (a server restarting or refusing us, a pool with no connection to
give, a SQLite file that is locked or unreadable): ``unavailable`` says so
in one line, and the web answers 503 with what was typed kept; a write whose
connection was ended under it may run once more (``once_more_if_lost``); and
anything else is a bug or a missing schema, which must not be dressed up as
the database's absence. A missing table (SQLite's "no such table", PostgreSQL's
SQLSTATE 42P01) is a database nobody initialised: ``not_initialised`` makes it
``DatabaseNotInitialised``, once, where the error happens (``Database``'s
engine for everything through SQLAlchemy; the transactions of ``storage.tx``
on the driver's cursor), so no operation pays for a look beforehand.
``describe_driver_error`` is the one line any of them is reported in: what
the server answered, no SQL, no parameters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout

from planflow.errors import DatabaseNotInitialised, DatabaseUnavailable

#: What the database drivers raise when the server is gone, restarting or refuses us:
#: SQLAlchemy's wrapper on pooled paths, the bare driver errors on the transition path.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (DBAPIError, sqlite3.Error, psycopg.Error)
#: What a client may meet from the database layer: the drivers' errors and an exhausted pool.
_T = TypeVar("_T")


def once_more_if_lost(write: Callable[[], _T]) -> _T:
    """Run ``write`` (whole transactions of ``Database.write`` or ``session``) once more
    when the server ended its connection under it (a restart, a failover,
    ``pg_terminate_backend``); SQLAlchemy has then replaced the pool's connections.

    Only for writes that may safely happen twice: a loss before the COMMIT saved
    nothing, but one during it may have saved it all (the caller says why a second
    commit does no harm). A second loss is raised (the web answers 503).
    """
    try:
        return write()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    return write()


DATABASE_ERRORS: tuple[type[Exception], ...] = (
    DBAPIError,
    sqlite3.Error,
    psycopg.Error,
    SQLAlchemyTimeout,
)


#: SQLite's words for a file it cannot use now: another process holds it,
#: it cannot be opened or read, the disk fails or is full.
_SQLITE_UNAVAILABLE = (
    "locked",
    "busy",
    "unable to open",
    "disk i/o",
    "readonly",
    "disk is full",
    "not a database",
    "malformed",
)


def unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """``exc`` as ``DatabaseUnavailable`` if it says the database cannot be used now.

    For clients that meet a driver's error where the library let one through
    (a read, a set-up session): a server that is down, restarting, refuses
    connections or killed ours (PostgreSQL's operational and interface
    errors, whatever SQLSTATE), a pool with no connection to give, a SQLite
    file that is locked, unreadable, corrupt or on a failing disk. None for
    every other error (a bug, a missing schema): those are not the
    database's absence and must not be reported as if they were.
    """
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if isinstance(exc, SQLAlchemyTimeout):  # the pool had no connection in time
        return DatabaseUnavailable("the database has no free connection; nothing was saved")
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if invalidated or isinstance(original, psycopg.OperationalError | psycopg.InterfaceError):
        found = True
    elif isinstance(original, sqlite3.DatabaseError) and not isinstance(
        original, sqlite3.IntegrityError | sqlite3.ProgrammingError
    ):
        said = str(original).lower()
        found = any(words in said for words in _SQLITE_UNAVAILABLE)
    else:
        found = False
    if not found:
        return None
    return DatabaseUnavailable(
        f"the database is unavailable: {describe_driver_error(exc)}; nothing was saved"
    )


#: PostgreSQL's SQLSTATE for a table (or view, sequence) that does not exist.
_UNDEFINED_TABLE = "42P01"


def not_initialised(exc: BaseException) -> DatabaseNotInitialised | None:
    """``exc`` as ``DatabaseNotInitialised`` if the database said a table is missing:
    planflow's schema was never made there (``Planflow.init()``, ``planflow init``),
    or not all of it. None for every other error."""
    if isinstance(exc, DatabaseNotInitialised):
        return exc
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(original, psycopg.Error):
        missing = original.sqlstate == _UNDEFINED_TABLE
    elif isinstance(original, sqlite3.OperationalError):
        missing = str(original).startswith("no such table")
    else:
        missing = False
    if not missing:
        return None
    return DatabaseNotInitialised(_first_line(original))


def tables_missing_as_not_initialised(engine: Engine) -> None:
    """Every error SQLAlchemy meets on ``engine`` that says a table is missing is raised
    as ``DatabaseNotInitialised`` (chained to the driver's error); only on an error."""

    @event.listens_for(engine, "handle_error")
    def _handle_error(ctx: Any) -> DatabaseNotInitialised | None:
        return not_initialised(ctx.original_exception)


def raise_if_not_initialised(exc: BaseException) -> None:
    """Raise ``not_initialised(exc)`` (from ``exc``) if it is one; else return."""
    found = not_initialised(exc)
    if found is not None:
        raise found from exc


def _first_line(original: BaseException) -> str:
    lines = [ln.strip() for ln in str(original).splitlines() if ln.strip()]
    return lines[0] if lines else type(original).__name__


def describe_driver_error(exc: BaseException) -> str:
    """One line saying what the database answered (no SQL, no parameters)."""
    original = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(original).splitlines() if ln.strip()]
    first = lines[0] if lines else type(original).__name__
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return f"{first} (it has no planflow schema yet: run 'planflow init')"
    return first
