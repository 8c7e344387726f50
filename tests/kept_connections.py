"""PostgreSQL connections kept from one test's engine for the next test's.

Each test makes a new engine (a new ``Planflow``), so each PostgreSQL test
opened new connections and closed them again at its end: about 3,900 server
processes a run. Opening one costs the server ~16 ms of CPU and the test ~12 ms
of waiting (measured here: 300 connections, each with one query), while a test
itself often takes less than that.

A test process keeps up to ``LIMIT`` closed connections of its test schema
(``postgres_schema_url``, the one ``database_url`` empties for each test) and
hands one out instead of opening another, for the same connection parameters
only. Kept, a connection is reset (settings, cursors, temporary tables,
advisory locks: see ``_reset``); handed out, it is checked first (a round trip)
and closed if the server ended it meanwhile (the connection-loss tests end
them). Any other connection (another schema or role, a forwarder's port, a
cluster of a test's own, a subprocess's) opens and closes as in the product.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from sqlalchemy.dialects.postgresql.psycopg import _log_notices
from sqlalchemy.engine import make_url

#: Connections kept per test process, of all parameters together.
LIMIT = 4

Key = tuple[str, ...]


class KeptConnection(psycopg.Connection[Any]):
    """A connection whose ``close`` keeps it for reuse when it can be reset."""

    kept_key: Key | None = None

    def close(self) -> None:
        if self.kept_key is None or not KEPT.keep(self):
            super().close()

    def close_for_good(self) -> None:
        super().close()


class Kept:
    """The kept connections of this test process, oldest first, and which may be kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: OrderedDict[int, KeptConnection] = OrderedDict()
        self.server: tuple[str | None, int | None, str | None] | None = None
        self.schema_option = ""

    def aim_at(self, url: str) -> None:
        """Keep connections of the test schema ``url`` names (a ``with_search_path`` URL)."""
        parsed = make_url(url)
        self.server = (parsed.host, parsed.port or 5432, parsed.username)
        self.schema_option = str(parsed.query["options"])

    def key_for(self, cparams: dict[str, Any]) -> Key | None:
        """The key of a connection with these parameters, if one may be kept."""
        options = str(cparams.get("options", ""))
        if self.server is None or not options.startswith(self.schema_option + " "):
            return None
        host, port, user = cparams.get("host"), int(cparams.get("port", 5432)), cparams.get("user")
        if (host, port, user) != self.server:
            return None
        # ``context``: the engine's psycopg adapters, built alike for every engine
        # (SQLAlchemy's types) but a new object each time.
        return tuple(f"{k}={v}" for k, v in sorted(cparams.items()) if k != "context")

    def take(self, key: Key) -> KeptConnection | None:
        while True:
            with self._lock:
                found = next((i for i, c in self._idle.items() if c.kept_key == key), None)
                if found is None:
                    return None
                conn = self._idle.pop(found)
            if _alive(conn):
                return conn
            conn.close_for_good()

    def keep(self, conn: KeptConnection) -> bool:
        if not _reset(conn):
            return False
        with self._lock:
            self._idle[id(conn)] = conn
            evicted = []
            while len(self._idle) > LIMIT:
                evicted.append(self._idle.popitem(last=False)[1])
        for old in evicted:
            old.close_for_good()
        return True

    def close_all(self) -> None:
        with self._lock:
            kept, self._idle = list(self._idle.values()), OrderedDict()
        for conn in kept:
            conn.close_for_good()


KEPT = Kept()


def _reset(conn: KeptConnection) -> bool:
    """Back to a new connection's state; False if it cannot be (then it is closed).

    Not ``DISCARD ALL``: psycopg keeps its own list of the statements it has
    prepared, which would then name statements the server no longer has. They
    stay prepared, valid for the same schema, as they would on a pooled
    connection of the product's.
    """
    if conn.closed or conn.broken:
        return False
    # A test may have given it a cursor class of its own (``count_statements``).
    conn.cursor_factory = psycopg.Cursor
    conn.row_factory = tuple_row
    try:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
        conn.autocommit = True
        # No parameters: one simple query, one round trip.
        conn.execute(
            "RESET ALL; CLOSE ALL; UNLISTEN *; DISCARD TEMP; SELECT pg_advisory_unlock_all()"
        )
        conn.autocommit = False
        conn.isolation_level = None
        conn.read_only = None
        conn.deferrable = None
    except psycopg.Error:
        return False
    # SQLAlchemy adds its notice handler to every connection it is given.
    with contextlib.suppress(ValueError):
        conn.remove_notice_handler(_log_notices)
    return True


def _alive(conn: KeptConnection) -> bool:
    try:
        conn.autocommit = True
        conn.execute("SELECT 1")
        conn.autocommit = False
    except psycopg.Error:
        return False
    return True


def reuse_or_open(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
    """``do_connect``: a kept connection with these parameters, or a new one to keep.

    None (the product opens it) for a connection that is not to be kept, and
    when opening fails, so that the product meets the failure as it would.
    """
    key = KEPT.key_for(cparams)
    if key is None or cargs:
        return None
    conn = KEPT.take(key)
    if conn is None:
        try:
            conn = KeptConnection.connect(**cparams)
        except psycopg.Error:
            return None
        conn.kept_key = key
    return conn
