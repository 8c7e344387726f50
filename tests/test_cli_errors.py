"""The command line answers odd input and broken set-ups with one line, never a traceback.

Each case was a traceback once: ids beyond what the database holds, a
moment outside any plan year, a malformed or unsupported database URL, a
server that does not answer, a database that does not exist, a SQLite path
in a folder that does not exist (which used to be created, with an empty
file), and a file with no planflow schema. Exit code 2 for a bad argument,
1 for everything else; nothing is created on the way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import POSTGRES_URL, CliRun


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("planflow: error: ")
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ("plans", "show", "2147483648"),
        ("plans", "show", "99999999999999999999"),
        ("plans", "show", "0"),
        ("plans", "fire", "1", "submit", "--as", "x", "--expected-version", "99999999999"),
        ("audit", "export", "--plan", "9223372036854775808"),
        ("progress", "list", "4294967296"),
        ("scheduler", "run-once", "--now", "0001-01-01T00:00"),
        ("scheduler", "run-once", "--now", "9999-12-31T23:59"),
    ],
)
def test_arguments_beyond_what_the_database_holds_are_bad_arguments(
    cli: CliRun, database_url: str, argv: tuple[str, ...]
) -> None:
    code, _out, err = cli("--database-url", database_url, *argv)
    assert code == 2
    line = one_line(err)
    assert "range" in line or "2000-2100" in line


def test_a_plan_id_in_range_that_names_nothing_is_not_found(cli: CliRun, database_url: str) -> None:
    code, _out, err = cli("--database-url", database_url, "plans", "show", "2147483647")
    assert code == 1
    assert "unknown plan" in one_line(err)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("::::", "not one planflow can use"),
        ("nonsense://x", "not on 'nonsense'"),
        ("mysql://someone@localhost/db", "not on 'mysql'"),
    ],
)
def test_a_database_url_planflow_cannot_use(
    cli: CliRun, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", url)
    code, _out, err = cli("plans", "list")
    assert code == 1
    assert expected in one_line(err)


def test_a_server_that_does_not_answer(cli: CliRun) -> None:
    # A port nothing listens on: connection refused at once.
    url = "postgresql://postgres@127.0.0.1:9/test"
    code, _out, err = cli("--database-url", url, "plans", "list")
    assert code == 1
    line = one_line(err)
    assert line.startswith("planflow: error: database: ") and "refused" in line


@pytest.fixture
def missing_postgres_database() -> str:
    if not POSTGRES_URL:
        pytest.skip("PLANFLOW_TEST_POSTGRES_URL is not set")
    base, _, _name = POSTGRES_URL.rpartition("/")
    return f"{base}/planflow_no_such_database"


@pytest.mark.postgres
def test_a_postgres_database_that_does_not_exist(
    cli: CliRun, missing_postgres_database: str
) -> None:
    code, _out, err = cli("--database-url", missing_postgres_database, "plans", "list")
    assert code == 1
    assert "does not exist" in one_line(err)


@pytest.mark.parametrize("command", [("plans", "list"), ("init",)])
def test_a_sqlite_path_in_a_missing_folder_creates_nothing(
    cli: CliRun, tmp_path: Path, command: tuple[str, ...]
) -> None:
    folder = tmp_path / "nonexistent" / "dir"
    code, _out, err = cli("--database-url", f"sqlite:///{folder / 'x.db'}", *command)
    assert code == 1
    assert f"the folder {folder} of the SQLite database does not exist" in one_line(err)
    assert not (tmp_path / "nonexistent").exists()


def test_a_command_on_a_missing_sqlite_file_creates_nothing(cli: CliRun, tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite3"
    code, _out, err = cli("--database-url", f"sqlite:///{path}", "plans", "list")
    assert code == 1
    assert "there is no planflow database at" in one_line(err)
    assert not path.exists()
    # init is the command that creates it.
    code, _out, err = cli("--database-url", f"sqlite:///{path}", "init")
    assert code == 0, err
    assert path.exists()


def test_a_database_without_the_schema_says_to_run_init(cli: CliRun, tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    code, _out, err = cli("--database-url", f"sqlite:///{path}", "plans", "list")
    assert code == 1
    assert "run 'planflow init'" in one_line(err)
