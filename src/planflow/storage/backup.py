"""Backing up and restoring a planflow database and its evidence files, as one tar archive.

The archive holds ``manifest.json`` (format, time, database kind, schema
revision, the row count of every table, the evidence files), the database
and ``evidence/<plan>/<sha256>``:

* SQLite: a copy made with SQLite's online backup API
  (``sqlite3.Connection.backup``), consistent while the application writes;
* PostgreSQL: ``pg_dump --format=custom`` of planflow's schema, run on a
  snapshot exported from the transaction that counts the rows, so the counts
  and the dump are the same moment (``pg_restore`` puts it back).

Evidence files are copied after the database: every file the copied
database names is there (unless deleted in between); a file uploaded in
between comes along unused. Files are content-addressed, so a restore
checks each one's SHA-256 against its name.

A restore goes only into an empty database (``BackupRefused``
``restore_not_empty`` otherwise) of the same kind, and checks the restored
row counts against the manifest. The signed checkpoints are rows like the
others: after a restore ``planflow audit verify --checkpoints FILE`` checks
the restored trail against the heads published outside the database.

This module makes the archive and reads its manifest; ``storage.restore``
puts one back.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from planflow.errors import PlanflowError
from planflow.storage import schema, tables  # noqa: F401  (every table, for the counts)
from planflow.storage.db import Database

FORMAT = "planflow-backup-1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
EVIDENCE = "evidence"
#: An evidence file's name in the archive: its plan and its SHA-256.
EVIDENCE_NAME = re.compile(r"^evidence/([0-9]{1,19})/([0-9a-f]{64})$")


class BackupRefused(PlanflowError):
    """A backup or restore that cannot be done; the code names why.

    ``backup_tool_missing`` (``tool``), ``restore_not_empty`` (``tables``),
    ``backup_invalid`` (``reason``), ``backup_mismatch`` (``backup``, ``target``).
    """

    code = "backup_refused"


@dataclass
class Manifest:
    created_at: str
    dialect: str
    schema_revision: str | None
    #: PostgreSQL: the schema the dump holds (a restore goes into one of that name).
    schema: str | None
    counts: dict[str, int]
    evidence_files: int = 0
    format: str = FORMAT
    files: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            value = json.loads(raw)
            if value.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} archive")
            return cls(**value)
        except (ValueError, TypeError, AttributeError) as exc:
            raise BackupRefused(
                f"the manifest cannot be read: {exc}",
                code="backup_invalid",
                params={"reason": str(exc)},
            ) from None


# -- counting ------------------------------------------------------------------------------


def table_counts(conn: Connection) -> tuple[dict[str, int], str | None]:
    """Rows per planflow table, and the schema revision.

    Only the tables the database has: one at an older schema revision (backed up
    before an upgrade, or restored from such a backup) lacks the newer ones.
    """
    present = set(inspect(conn).get_table_names())
    counts = {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        for t in SQLModel.metadata.sorted_tables
        if t.name in present
    }
    revision = None
    if "alembic_version" in present:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return counts, revision


def client_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(
            f"{name} is not on PATH: install the PostgreSQL client tools of the server's version",
            code="backup_tool_missing",
            params={"tool": name},
        )
    return found


def libpq_args(db: Database) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump and pg_restore, and their environment (the password goes there)."""
    url = make_url(db.url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    # A keyword/value connection string, not a URL: SQLAlchemy writes a space in a query
    # value as "+", which libpq's URL parser keeps as a "+" (so "options=-c a=1 -c b=2"
    # reached the server as "-c a=1+-c b=2" and the dump failed).
    params: dict[str, Any] = {
        key: value
        for key, value in url.translate_connect_args(username="user", database="dbname").items()
        if key != "password"
    }
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    return make_conninfo(**{k: str(v) for k, v in params.items()}), env


def run_client(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise BackupRefused(
            f"{Path(argv[0]).name}: {last}", code="backup_invalid", params={"reason": last}
        )
    return done.stdout


# -- backup --------------------------------------------------------------------------------


def backup(db: Database, dest: Path, evidence_root: Path | None, now: datetime) -> Manifest:
    """Write the archive ``dest`` (replaced atomically; ``.tar.gz`` compresses)."""
    dest = dest.resolve()
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".planflow-backup-") as tmp:
        work = Path(tmp)
        if db.is_sqlite:
            manifest = _backup_sqlite(db, work / SQLITE_FILE, now)
        else:
            manifest = _backup_postgres(db, work / PG_FILE, now)
        evidence = list(_evidence_files(evidence_root))
        manifest.evidence_files = len(evidence)
        partial = work / "archive.part"
        mode = "w:gz" if dest.name.endswith((".gz", ".tgz")) else "w"
        with tarfile.open(partial, mode) as tar:  # type: ignore[call-overload]
            data = manifest.to_json().encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
            for name in manifest.files:
                tar.add(work / name, arcname=name)
            for path, arcname in evidence:
                tar.add(path, arcname=arcname)
        os.replace(partial, dest)
    return manifest


def _backup_sqlite(db: Database, copy: Path, now: datetime) -> Manifest:
    source_path = make_url(db.url).database or ""
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)  # page by page, consistent while others write
        target.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
    finally:
        source.close()
        target.close()
    copy_db = Database(f"sqlite:///{copy}")
    try:
        with copy_db.read() as conn:
            counts, revision = table_counts(conn)
    finally:
        copy_db.dispose()
    return Manifest(_iso(now), "sqlite", revision, None, counts, files=[SQLITE_FILE])


def _backup_postgres(db: Database, dump: Path, now: datetime) -> Manifest:
    pg_dump = client_tool("pg_dump")
    url, env = libpq_args(db)
    with db.engine.connect() as raw:
        conn = raw.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # The dump reads this transaction's snapshot: counts and dump are one moment.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            counts, revision = table_counts(conn)
            run_client(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--schema={schema}",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                    url,
                ],
                env,
            )
    return Manifest(_iso(now), "postgresql", revision, schema, counts, files=[PG_FILE])


def _evidence_files(root: Path | None) -> Iterator[tuple[Path, str]]:
    if root is None or not root.is_dir():
        return
    for plan_dir in sorted(root.iterdir()):
        if not (plan_dir.is_dir() and plan_dir.name.isdigit()):
            continue
        for path in sorted(plan_dir.iterdir()):
            arcname = f"{EVIDENCE}/{plan_dir.name}/{path.name}"
            if path.is_file() and not path.is_symlink() and EVIDENCE_NAME.match(arcname):
                yield path, arcname


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def read_manifest(src: Path) -> Manifest:
    try:
        with tarfile.open(src) as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return Manifest.from_json(member.read())
    except (tarfile.TarError, KeyError, OSError) as exc:
        # tarfile lists every compression it tried, a line each: one line is enough.
        reason = "not a tar archive" if isinstance(exc, tarfile.TarError) else str(exc)
        raise BackupRefused(
            f"{src} is not a planflow backup: {reason.splitlines()[0]}",
            code="backup_invalid",
            params={"reason": reason},
        ) from None


def describe(manifest: Manifest) -> str:
    """One line: what the archive holds."""
    rows = sum(manifest.counts.values())
    return (
        f"{manifest.dialect} database at schema revision {manifest.schema_revision}, "
        f"{rows} rows in {len(manifest.counts)} tables "
        f"({manifest.counts.get('plan', 0)} plans, {manifest.counts.get('audit_record', 0)} audit "
        f"records, {manifest.counts.get('org_audit_record', 0)} admin actions), "
        f"{manifest.evidence_files} evidence files, made {manifest.created_at}"
    )


def to_dict(manifest: Manifest) -> dict[str, Any]:
    return asdict(manifest)
