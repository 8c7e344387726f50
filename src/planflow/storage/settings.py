"""Settings of the database itself, one row per name (the ``setting`` table).

They travel with the data: a copy of the database, or a second process on
it, sees the same settings. Only the few statements here touch the table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from planflow.storage.db import Database
from planflow.storage.tables import Setting

setting_t = Setting.__table__  # type: ignore[attr-defined]

#: The database is for trying things out; its value is ``"on"`` (``services.simulation``).
SIMULATION = "simulation"
#: People may register their own webhook or robot; ``"on"`` (``services.webhooks``).
USER_CHANNELS = "user_channels"


def get(db: Database, name: str) -> str | None:
    """The setting's value, or None when it is not set."""
    with db.read() as conn:
        value = conn.execute(select(setting_t.c.value).where(setting_t.c.name == name)).scalar()
    return None if value is None else str(value)


def put(db: Database, name: str, value: str | None, at: datetime) -> None:
    """Set the setting to ``value`` (None: remove it), in one transaction."""
    with db.write() as conn:
        put_in(conn, name, value, at)


def get_in(conn: Connection, name: str) -> str | None:
    """``get`` inside the caller's transaction."""
    value = conn.execute(select(setting_t.c.value).where(setting_t.c.name == name)).scalar()
    return None if value is None else str(value)


def put_in(conn: Connection, name: str, value: str | None, at: datetime) -> None:
    """``put`` inside the caller's transaction (an admin switch and its audit record)."""
    conn.execute(delete(setting_t).where(setting_t.c.name == name))
    if value is not None:
        conn.execute(insert(setting_t), {"name": name, "value": value, "set_at": at})
