"""A pooled PostgreSQL connection whose server side died is replaced, not failed.

``Database`` pings a pooled connection before use when it has been idle for
``IDLE_PING_SECONDS`` (instead of on every checkout). Here the server ends
the pooled connection's backend, as a restart or an idle timeout would; the
next unit of work gets a working connection and the page it serves works.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from planflow.storage import db as db_module
from planflow.storage.db import Database

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(POSTGRES_URL is None, reason="PLANFLOW_TEST_POSTGRES_URL is not set"),
]


def _backend_pid(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    assert POSTGRES_URL is not None
    other = Database(POSTGRES_URL)
    try:
        with other.write() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    finally:
        other.dispose()


def test_an_idle_connection_killed_by_the_server_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert POSTGRES_URL is not None
    db = Database(POSTGRES_URL, pool_size=1)
    try:
        first = _backend_pid(db)
        _terminate(first)
        monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)  # it has been idle "long"
        second = _backend_pid(db)
        assert second != first
    finally:
        db.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The contrast: within the idle threshold there is no ping, so the dead
    backend is found only by the query (which fails; SQLAlchemy then drops
    the pool's connections, and the next unit of work succeeds)."""
    assert POSTGRES_URL is not None
    db = Database(POSTGRES_URL, pool_size=1)
    try:
        first = _backend_pid(db)
        _terminate(first)
        monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 3600.0)
        with pytest.raises(OperationalError):
            _backend_pid(db)
        assert _backend_pid(db) != first
    finally:
        db.dispose()
