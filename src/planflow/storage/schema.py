"""Creating and upgrading the database schema with Alembic.

``upgrade`` is what ``planflow init`` runs: it creates a new database or
brings an existing one to the newest revision, on SQLite and PostgreSQL
alike. The one-row organisation generation table is seeded here too.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import insert, select

from planflow.storage.db import Database
from planflow.storage.tables import OrgGeneration

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database) -> str:
    """Bring the database to the newest revision; returns that revision."""
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        gen = OrgGeneration.__table__  # type: ignore[attr-defined]
        if conn.execute(select(gen.c.id)).first() is None:
            conn.execute(insert(gen), {"id": 1, "generation": 1})
    return head_revision(db)


def head_revision(db: Database) -> str:
    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    return head or ""


def known_revision(db: Database, revision: str) -> bool:
    """Is ``revision`` one of this planflow's migrations (not one of a newer planflow)?"""
    try:
        return ScriptDirectory.from_config(alembic_config(db)).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
