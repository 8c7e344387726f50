"""A PostgreSQL connection the server ends while it is being opened or handed out.

Found by the two-host test under load: a web worker that boots while the
backends are terminated met the end of its first connection in SQLAlchemy's
set-up statements (a 503 for a plain read), and a pool whose old connection
had been ended and whose new one was ended too gave up on the check-out with
an error that is not the database's (a 500). Opening a connection twice does
nothing twice: each is opened once more.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from planflow.storage.db import Database, normalise_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no connection to end")
    return database_url


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.dispose()


def end_backend(url: str, dbapi_conn: Any) -> None:
    """Terminate the server process behind ``dbapi_conn``; return once its
    socket says so (as it would on a loaded machine before the next use)."""
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            pid = dbapi_conn.info.backend_pid
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        admin.dispose()
    deadline = time.monotonic() + 5
    while not select.select([dbapi_conn.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the terminated backend's socket stayed quiet"


def end_next_connections(db: Database, how_many: int, *, first_connect: bool = False) -> None:
    """The next ``how_many`` connections the pool opens are ended as soon as they are
    open: before SQLAlchemy's set-up statements (``first_connect``), or after them."""
    left = [how_many]

    def _end(dbapi_conn: Any, _record: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            end_backend(db.url, dbapi_conn)

    kind = "first_connect" if first_connect else "connect"
    event.listen(db.engine.pool, kind, _end, insert=first_connect)


def select_one(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SELECT 1")).scalar_one())


def test_a_first_connection_ended_during_its_set_up_is_opened_again(db: Database) -> None:
    end_next_connections(db, 1, first_connect=True)
    assert select_one(db) == 1


def test_the_transition_path_opens_its_connection_again_too(db: Database) -> None:
    end_next_connections(db, 1, first_connect=True)
    conn = db.pinned_connection()
    with conn.cursor() as cur:
        assert cur.execute("SELECT 1").fetchone() == (1,)
    conn.rollback()


def test_a_new_connection_ended_before_its_check_out_is_not_a_server_error(
    db: Database,
) -> None:
    """The pooled connection was ended (refused at check-out), and so was the new
    one opened in its place: the pool used to give up after that second refusal
    ("This connection is closed", a 500). Now the new one is handed out, its
    read meets the loss and runs again on a third."""
    assert select_one(db) == 1
    with db.engine.connect() as conn:
        pooled = conn.connection.dbapi_connection
    end_backend(db.url, pooled)
    end_next_connections(db, 1)
    assert select_one(db) == 1
