"""``planflow backup DEST`` and ``planflow restore SRC``: the database and the evidence files.

Thin: the work is ``planflow.storage.backup`` and ``planflow.storage.restore``.
A restore goes only into an empty database; a refusal is one line, exit 2.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from planflow.cli.app import Context, pass_ctx
from planflow.storage import audit_repo, schema
from planflow.storage import backup as bk
from planflow.storage.db import Database, require_existing
from planflow.storage.evidence_files import EvidenceStore
from planflow.storage.restore import restore as restore_backup


def _refused(exc: bk.BackupRefused) -> click.exceptions.Exit:
    click.echo(f"planflow: error: {exc}", err=True)
    return click.exceptions.Exit(2)


@click.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False, writable=True))
@pass_ctx
def backup(ctx: Context, dest: str) -> None:
    """Write the database and the evidence files to the archive DEST (a tar; .tar.gz compresses).

    SQLite: SQLite's online backup, safe while planflow runs. PostgreSQL:
    pg_dump (custom format) of planflow's schema; pg_dump must be on PATH.
    """
    path = Path(dest).expanduser()
    if not path.parent.is_dir():
        raise click.UsageError(f"the folder {path.parent} does not exist")
    require_existing(ctx.url)
    db = Database(ctx.url)
    try:
        manifest = bk.backup(db, path, EvidenceStore.from_env().root, datetime.now(UTC))
    except bk.BackupRefused as exc:
        raise _refused(exc) from None
    finally:
        db.dispose()
    click.echo(f"backup written to {path}: {bk.describe(manifest)}")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def restore(ctx: Context, src: str) -> None:
    """Restore the archive SRC into the empty database PLANFLOW_DATABASE_URL names.

    A backup made by an older planflow is upgraded to this one's schema after
    the restore. Then checks the audit trail; check it against the published signed
    checkpoints with 'planflow audit verify --checkpoints FILE'.
    """
    db = Database(ctx.url)
    head = schema.head_revision(db)
    try:
        manifest = restore_backup(db, Path(src), EvidenceStore.from_env().root)
        report = audit_repo.verify(db)
    except bk.BackupRefused as exc:
        raise _refused(exc) from None
    finally:
        db.dispose()
    click.echo(f"restored {bk.describe(manifest)}")
    if manifest.schema_revision != head:
        click.echo(f"schema upgraded from revision {manifest.schema_revision} to {head}")
    if report.ok:
        click.echo(
            f"audit trail OK: {report.records} records of {report.plans} plans, "
            f"{report.org_records} admin actions, {report.checkpoints} checkpoints; "
            "check it against the published signed checkpoints with "
            "'planflow audit verify --checkpoints FILE'"
        )
        return
    click.echo(f"audit trail BROKEN in the backup: {report.problems[0]}", err=True)
    raise click.exceptions.Exit(1)


COMMANDS = [backup, restore]
