"""Personal access tokens from the command line, and their schema migration."""

from __future__ import annotations

from typing import Any

from conftest import CliRun, migrate_schema
from sqlalchemy import inspect

from planflow.app import Planflow
from planflow.storage.db import Database
from planflow.storage.schema import head_revision, upgrade


def test_tokens_create_list_and_revoke(
    pf: Planflow, org: Any, cli: CliRun, database_url: str
) -> None:
    code, out, err = cli(
        "--database-url", database_url, "tokens", "create", "officer",
        "--scope", "write", "--name", "dashboard", "--expires", "30d",
    )  # fmt: skip
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("pft_") and "\n" not in secret  # alone on stdout, for $(...)
    assert "not shown again" in err and "write" in err
    assert pf.tokens.authenticate(secret).username == "officer"

    code, out, err = cli("--database-url", database_url, "tokens", "list", "officer")
    assert code == 0 and "dashboard" in out and "active" in out and secret not in out
    token_id = pf.tokens.of_user("officer")[0].id
    code, out, err = cli("--database-url", database_url, "tokens", "revoke", str(token_id))
    assert code == 0 and "revoked" in out, err
    code, out, err = cli("--database-url", database_url, "tokens", "list", "officer")
    assert "revoked" in out


def test_tokens_refuse_bad_input_in_one_line(
    pf: Planflow, org: Any, cli: CliRun, database_url: str
) -> None:
    for argv, expected in (
        (("create", "ghost"), "unknown user"),
        (("create", "officer", "--scope", "root"), "'root' is not one of"),
        (("create", "officer", "--expires", "soon"), "give a number of days"),
        (("create", "officer", "--expires", "2020-01-01"), "expires after now"),
        (("revoke", "999"), "unknown token"),
        (("revoke", "99999999999999999999"), "a token id is a whole number from 1"),
    ):
        code, _out, err = cli("--database-url", database_url, "tokens", *argv)
        assert code in (1, 2) and expected in err and "Traceback" not in err, (argv, err)
    assert pf.tokens.of_user("officer") == []


def test_the_token_migration_up_and_down(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate_schema(db, "0011")
        with db.engine.connect() as conn:
            assert "api_token" not in inspect(conn).get_table_names()
        assert upgrade(db) == head_revision(db)
        with db.engine.connect() as conn:
            assert "api_token" in inspect(conn).get_table_names()
        migrate_schema(db, "0011", "downgrade")
        with db.engine.connect() as conn:
            assert "api_token" not in inspect(conn).get_table_names()
    finally:
        db.dispose()
