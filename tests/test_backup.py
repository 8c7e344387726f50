"""``planflow backup`` / ``planflow restore`` (issue 19, "Backup and restore"), on both databases.

A backup of a database with plans, admin actions, a signed checkpoint and an
evidence file is restored into a new, empty database (PostgreSQL: a database
this test creates and drops); the restored trail verifies, also against the
signed checkpoints published outside the database, the rows and the evidence
file are all back, and a second restore into it is refused (one line, exit 2).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import POSTGRES_URL, WORKFLOWS, CliRun, Org, build_org, migrate_schema
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.integrations.checkpoints import publish_to_file
from planflow.integrations.signing import generate
from planflow.storage import audit_repo, schema
from planflow.storage import backup as bk
from planflow.storage import signed_checkpoints as sc
from planflow.storage.db import Database, normalise_url, with_search_path


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli: CliRun) -> CliRun:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    for name in ("PLANFLOW_AUDIT_KEY", "PLANFLOW_CHECKPOINT_FILE", "PLANFLOW_CHECKPOINT_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    return cli


@pytest.fixture
def target_url(pf: Planflow, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind as ``pf``'s."""
    with _empty_like(pf.db, tmp_path) as url:
        yield url


@contextmanager
def _empty_like(source: Database, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind: a SQLite file, or a PostgreSQL database of
    this test's own (dropped afterwards) whose search_path is the source's schema."""
    if source.is_sqlite:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    assert POSTGRES_URL is not None
    with source.read() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    name = f"planflow_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(normalise_url(POSTGRES_URL)).set(database=name)
        yield with_search_path(url.render_as_string(hide_password=False), schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.read() as conn:
            return bk.table_counts(conn)[0]
    finally:
        db.dispose()


def test_backup_and_restore_into_an_empty_database(
    pf: Planflow,
    org: Org,
    run: CliRun,
    target_url: str,
    tmp_path: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = pf.create_plan(unit_code="branch_a", year=2027, title="Kept", actor="drafter_a")
    pf.org.assign_role("officer", "reviewer", "branch_b")  # an admin action
    key = generate(tmp_path / "audit-key.pem")
    assert sc.make(pf.db, clock.now(), key).outcome == "made"
    published = tmp_path / "checkpoints.jsonl"
    assert publish_to_file(pf.db, published, key.verifier()) == 1
    evidence, restored_evidence = tmp_path / "evidence", tmp_path / "evidence2"
    data = b"minutes of the meeting\n"
    sha = hashlib.sha256(data).hexdigest()
    (evidence / str(plan)).mkdir(parents=True)
    (evidence / str(plan) / sha).write_bytes(data)
    monkeypatch.setenv("PLANFLOW_EVIDENCE_DIR", str(evidence))
    before = _counts(pf.db.url)

    archive = tmp_path / "nightly.tar.gz"
    code, out, err = run("backup", str(archive))
    assert code == 0, err
    assert f"backup written to {archive}" in out and "1 evidence files" in out
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[0] == "manifest.json" and f"evidence/{plan}/{sha}" in names
    assert manifest["counts"] == before and manifest["schema_revision"] == schema.head_revision(
        pf.db
    )
    assert manifest["counts"]["org_audit_record"] > 0

    monkeypatch.setenv("PLANFLOW_EVIDENCE_DIR", str(restored_evidence))
    code, out, err = run("--database-url", target_url, "restore", str(archive))
    assert code == 0, err
    assert "audit trail OK" in out
    assert _counts(target_url) == before
    assert (restored_evidence / str(plan) / sha).read_bytes() == data

    public = key.verifier().public_b64
    code, out, err = run(
        "--database-url", target_url, "audit", "verify",
        "--checkpoints", str(published), "--public-key", public,
    )  # fmt: skip
    assert code == 0, err + out
    assert "audit trail OK" in out and "checked 1 signed checkpoints" in out

    # The database is no longer empty: a second restore is refused, nothing changes.
    code, out, err = run("--database-url", target_url, "restore", str(archive))
    assert code == 2
    assert err.count("\n") == 1 and "not empty" in err and "Traceback" not in err
    assert _counts(target_url) == before


def test_restore_refuses_what_is_not_a_backup(
    pf: Planflow, run: CliRun, target_url: str, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file")
    code, _out, err = run("--database-url", target_url, "restore", str(junk))
    assert code == 2 and err.count("\n") == 1 and "is not a planflow backup" in err


@pytest.mark.postgres
def test_backup_without_pg_dump_says_so_in_one_line(
    pf: Planflow, run: CliRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if pf.db.is_sqlite:
        pytest.skip("SQLite needs no tool")
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _out, err = run("backup", str(tmp_path / "b.tar"))
    assert code == 2
    assert err == (
        "planflow: error: pg_dump is not on PATH: install the PostgreSQL client tools "
        "of the server's version\n"
    )
    assert not (tmp_path / "b.tar").exists()


#: A revision before the organisation's audit chain (0019): its tables are not in the backup.
OLD_REVISION = "0017"


def test_a_backup_made_at_an_older_schema_is_upgraded_after_the_restore(
    empty_database_url: str,
    cli: CliRun,
    tmp_path: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLANFLOW_AUDIT_KEY", raising=False)
    run = cli
    # A database of an older planflow: built now, then taken back to OLD_REVISION.
    old = Planflow(empty_database_url, clock=clock, workflows_dir=WORKFLOWS)
    try:
        schema.upgrade(old.db)
        build_org(old)
        plan = old.create_plan(unit_code="branch_a", year=2027, title="Old", actor="drafter_a")
        migrate_schema(old.db, OLD_REVISION, "downgrade")
        assert schema.current_revision(old.db) == OLD_REVISION
        before = _counts(old.db.url)
        assert "org_audit_record" not in before and before["plan"] == 1
        monkeypatch.setenv("PLANFLOW_EVIDENCE_DIR", str(tmp_path / "evidence"))
        archive = tmp_path / "old.tar"
        code, out, err = run("--database-url", old.db.url, "backup", str(archive))
        assert code == 0, err
        assert bk.read_manifest(archive).schema_revision == OLD_REVISION

        with _empty_like(old.db, tmp_path) as target:
            code, out, err = run("--database-url", target, "restore", str(archive))
            assert code == 0, err
            head = schema.head_revision(old.db)
            assert f"schema upgraded from revision {OLD_REVISION} to {head}" in out
            assert "audit trail OK: 1 records of 1 plans" in out
            restored = Planflow(target, clock=clock, workflows_dir=WORKFLOWS)
            try:
                assert schema.current_revision(restored.db) == schema.head_revision(restored.db)
                after = _counts(target)
                assert {t: after[t] for t in before} == before  # nothing lost on the way up
                # The upgraded database works: a plan action and an admin action on their chains.
                assert restored.plan(plan).title == "Old"
                restored.content.add_comment(plan, "still here", actor="drafter_a")
                restored.org.assign_role("officer", "reviewer", "branch_b")
                report = audit_repo.verify(restored.db)
                assert report.ok and report.org_records == 1, report.problems
            finally:
                restored.close()
    finally:
        old.close()


def test_a_backup_from_a_newer_planflow_is_refused_in_one_line(
    pf: Planflow, run: CliRun, target_url: str, tmp_path: Path
) -> None:
    archive = tmp_path / "b.tar"
    assert run("backup", str(archive))[0] == 0
    newer = tmp_path / "newer.tar"
    with tarfile.open(archive) as src, tarfile.open(newer, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                head = schema.head_revision(pf.db).encode()
                data = data.replace(
                    b'"schema_revision": "' + head + b'"', b'"schema_revision": "0999"'
                )
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    code, _out, err = run("--database-url", target_url, "restore", str(newer))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    head = schema.head_revision(pf.db)
    assert f"schema revision 0999, which this planflow (schema {head}) does not know" in err
    assert _counts(target_url) == {}  # nothing was written


def test_a_postgres_url_with_several_server_options_is_dumped_with_all_of_them(
    pf: Planflow, org: Org, tmp_path: Path
) -> None:
    """``options=-c a=1 -c b=2`` (several server settings, as a deployment may give):
    SQLAlchemy writes the space as "+", which libpq's URL reader keeps, so pg_dump
    and pg_restore were handed one garbled setting ("-csearch_path=s+-c+..."): a
    restore into the wrong schema, or a failure. Found when the tests' own
    connections carried a second option."""
    if not pf.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite is copied, not dumped")
    url = make_url(pf.db.url)
    options = str(url.query["options"]) + " -c statement_timeout=0"
    two = url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    db = Database(two)
    try:
        # What pg_dump and pg_restore are given, read as libpq reads it.
        assert conninfo_to_dict(bk.libpq_args(db)[0])["options"] == options
        manifest = bk.backup(
            db, tmp_path / "two-options.tar", None, datetime(2027, 1, 5, tzinfo=UTC)
        )
    finally:
        db.dispose()
    assert manifest.counts["plan"] == 0 and manifest.counts["unit"] > 0
