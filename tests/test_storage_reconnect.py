"""A pooled PostgreSQL connection whose server side died is replaced, not failed.

``Database`` pings a pooled connection before use when it has been idle for
``IDLE_PING_SECONDS`` (instead of on every checkout). Here the server ends
the pooled connection's backend, as a restart or an idle timeout would; the
next unit of work gets a working connection and the page it serves works.
"""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import text

from planflow.storage import lost_connections
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


def _wait_until_gone(pid: int) -> None:
    """Until the backend has exited (its goodbye is then on the client's socket)."""
    assert POSTGRES_URL is not None
    other = Database(POSTGRES_URL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with other.read() as conn:
                query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
                if not conn.execute(query, {"p": pid}).scalar_one():
                    time.sleep(0.05)  # the socket's FIN follows the exit
                    return
            time.sleep(0.02)
        raise AssertionError(f"backend {pid} did not exit")
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
        monkeypatch.setattr(lost_connections, "IDLE_PING_SECONDS", 0.0)  # it has been idle "long"
        second = _backend_pid(db)
        assert second != first
    finally:
        db.dispose()


def test_a_connection_ended_moments_after_use_is_replaced_without_a_ping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Within the idle threshold there is no ping, but the server's goodbye is
    already on the socket of a connection it ended (a restart, a terminated
    backend): the pool sees it without a round trip and replaces the connection,
    so the unit of work succeeds instead of failing on it (found by the soak
    with faults: such a connection used to be handed to a request)."""
    assert POSTGRES_URL is not None
    db = Database(POSTGRES_URL, pool_size=1)
    pings: list[str] = []
    real_ping = lost_connections.server_spoke
    try:
        first = _backend_pid(db)
        _terminate(first)
        monkeypatch.setattr(lost_connections, "IDLE_PING_SECONDS", 3600.0)
        monkeypatch.setattr(
            lost_connections, "server_spoke", lambda c: pings.append("looked") or real_ping(c)
        )
        _wait_until_gone(first)
        second = _backend_pid(db)  # no OperationalError: the dead one was never used
        assert second != first
        assert pings  # the socket was looked at, no SELECT 1 sent
    finally:
        db.dispose()
