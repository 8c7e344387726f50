"""Restoring a backup (``storage.backup``): the database, then the evidence files.

A restore goes only into an empty database of the kind the archive holds
(``restore_not_empty``, ``backup_mismatch`` otherwise) at a schema revision
this planflow knows, and checks the restored row counts against the
manifest. Evidence files are content-addressed: each one's SHA-256 is
checked against its name before it is kept.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from planflow.storage import schema
from planflow.storage.backup import (
    EVIDENCE_NAME,
    PG_FILE,
    SQLITE_FILE,
    BackupRefused,
    Manifest,
    client_tool,
    libpq_args,
    read_manifest,
    run_client,
    table_counts,
)
from planflow.storage.db import Database


def restore(db: Database, src: Path, evidence_root: Path | None) -> Manifest:
    """Put the archive ``src`` into the empty database ``db`` and its evidence files back.

    A backup made at an older schema revision is restored as it was (its row
    counts checked against its manifest) and then upgraded to this planflow's
    revision with the same migrations ``planflow init`` runs, all before the
    caller verifies the audit trail. A backup from a newer planflow is refused
    before anything is written.
    """
    manifest = read_manifest(src)
    if manifest.dialect != db.dialect:
        raise BackupRefused(
            f"the backup is of a {manifest.dialect} database, the target is {db.dialect}",
            code="backup_mismatch",
            params={"backup": manifest.dialect, "target": db.dialect},
        )
    _refuse_unknown_revision(db, manifest.schema_revision)
    with tempfile.TemporaryDirectory(prefix="planflow-restore-") as tmp:
        work = Path(tmp)
        with tarfile.open(src) as tar:
            for name in manifest.files:
                tar.extract(tar.getmember(name), work, filter="data")
            if db.is_sqlite:
                _restore_sqlite(db, work / SQLITE_FILE)
            else:
                _restore_postgres(db, work / PG_FILE, manifest.schema)
            _check_counts(db, manifest)
            if manifest.schema_revision != schema.head_revision(db):
                schema.upgrade(db)
            _restore_evidence(tar, evidence_root)
    return manifest


def _refuse_unknown_revision(db: Database, revision: str | None) -> None:
    """Refuse a backup whose schema this planflow does not know (made by a newer one)."""
    if revision is not None and schema.known_revision(db, revision):
        return
    head = schema.head_revision(db)
    raise BackupRefused(
        f"the backup is at schema revision {revision}, which this planflow (schema {head}) "
        "does not know: restore it with the planflow version that made it, or a newer one",
        code="backup_mismatch",
        params={"backup": revision, "target": head},
    )


def _refuse_not_empty(tables_found: list[str]) -> None:
    if tables_found:
        raise BackupRefused(
            f"the target database is not empty ({len(tables_found)} tables, e.g. "
            f"{sorted(tables_found)[0]}): restore only into a new, empty database",
            code="restore_not_empty",
            params={"tables": len(tables_found)},
        )


def _restore_sqlite(db: Database, copy: Path) -> None:
    target_path = make_url(db.url).database or ""
    target = sqlite3.connect(target_path)
    try:
        found = [r[0] for r in target.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        _refuse_not_empty(found)
        source = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
    finally:
        target.close()


def _restore_postgres(db: Database, dump: Path, schema: str | None) -> None:
    pg_restore = client_tool("pg_restore")
    url, env = libpq_args(db)
    with db.engine.connect() as conn:
        current = conn.execute(text("SELECT current_schema()")).scalar()
        if current is None and schema is not None:
            # The schema the URL names does not exist yet: make it, if it is the backup's.
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema.replace(chr(34), "")}"'))
            conn.commit()
            current = conn.execute(text("SELECT current_schema()")).scalar()
        if current != schema:
            raise BackupRefused(
                f"the backup holds PostgreSQL schema {schema!r}; the target uses {current!r}: "
                "restore into a database whose search_path is the backup's schema",
                code="backup_mismatch",
                params={"backup": schema, "target": current},
            )
        found = conn.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
            {"s": current},
        ).scalars()
        _refuse_not_empty(list(found))
    # The schema exists already (public, or made above): leave its CREATE out.
    listing = run_client([pg_restore, "--list", str(dump)], env)
    kept = [line for line in listing.splitlines() if " SCHEMA - " not in line]
    (dump.parent / "restore.list").write_text("\n".join(kept) + "\n", encoding="utf-8")
    run_client(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--use-list={dump.parent / 'restore.list'}",
            f"--dbname={url}",
            str(dump),
        ],
        env,
    )


def _check_counts(db: Database, manifest: Manifest) -> None:
    with db.read() as conn:
        counts, _revision = table_counts(conn)
    wrong = sorted(t for t, n in manifest.counts.items() if counts.get(t) != n)
    if wrong:
        raise BackupRefused(
            f"restored row counts differ from the manifest in {', '.join(wrong)}",
            code="backup_invalid",
            params={"reason": "counts", "tables": wrong},
        )


def _restore_evidence(tar: tarfile.TarFile, root: Path | None) -> int:
    restored = 0
    for member in tar.getmembers():
        found = EVIDENCE_NAME.match(member.name)
        if found is None or not member.isfile():
            continue
        if root is None:
            raise BackupRefused(
                "the backup holds evidence files but no evidence folder is set",
                code="backup_invalid",
                params={"reason": "evidence_dir"},
            )
        handle = tar.extractfile(member)
        assert handle is not None
        data = handle.read()
        if hashlib.sha256(data).hexdigest() != found.group(2):
            raise BackupRefused(
                f"{member.name} does not hash to its name (damaged)",
                code="backup_invalid",
                params={"reason": "evidence_hash"},
            )
        path = root / found.group(1) / found.group(2)
        if path.exists():
            continue  # content-addressed: the same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)
        restored += 1
    return restored
