"""Taking a test's SQLite database away, for the tests of what an outage does.

Another connection holds the file in exclusive mode: every planflow
connection then fails as it would when the database is gone, and giving the
lock back ends the outage. (PostgreSQL outages are each test's own: a role
whose connections are refused, a relay that is stopped.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from planflow.app import Planflow

#: (make the database unavailable, make it available again)
Outage = tuple[Callable[[], None], Callable[[], None]]


@contextmanager
def sqlite_locked(url: str, others: list[Planflow]) -> Iterator[tuple[str, Outage]]:
    """The same file, and an outage: another connection holds it in exclusive mode."""
    path = Path(str(make_url(url).database))
    locker: list[sqlite3.Connection] = []

    def down() -> None:
        for pf in others:  # exclusive mode needs every other connection closed first
            pf.db.dispose()
        conn = sqlite3.connect(path, isolation_level=None, timeout=1)
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        locker.append(conn)

    def up() -> None:
        conn = locker.pop()
        conn.execute("COMMIT")
        conn.close()

    try:
        yield url, (down, up)
    finally:
        while locker:
            up()
