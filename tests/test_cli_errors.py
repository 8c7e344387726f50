"""The command line answers odd input and broken set-ups with one line, never a traceback.

Each case was a traceback once: ids beyond what the database holds, a
moment outside any plan year, a malformed or unsupported database URL, a
server that does not answer, a database that does not exist, a SQLite path
in a folder that does not exist (which used to be created, with an empty
file), and a file with no planflow schema. Exit code 2 for a bad argument,
1 for everything else; nothing is created on the way.

And one was silent: ``scheduler run-once --now`` at a moment ahead of the
real time wrote future-dated records into a live database. It is refused
now (exit 2) unless the database is marked for simulation or
``--allow-future`` says it is meant; a moment in the past stays allowed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import POSTGRES_URL, T0, CliRun, Org
from test_scheduler import under_review

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.services import simulation
from planflow.services.simulation import FutureMomentRefused


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
    assert "is a whole number from" in line or "2000-2100" in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("plans", "fire", "abc", "x", "--as", "y"), "a plan id is a whole number, not 'abc'"),
        (("plans", "show", "1.5"), "a plan id is a whole number, not '1.5'"),
        (("plans", "docx", "x", "--as", "y", "-o", "f"), "a plan id is a whole number, not 'x'"),
        (("tokens", "revoke", "7a"), "a token id is a whole number, not '7a'"),
        (("feeds", "revoke", "x1"), "a feed id is a whole number, not 'x1'"),
        (("webhooks", "remove", "one"), "a webhook id is a whole number, not 'one'"),
        (("webhooks", "redeliver", "١"), "a delivery id is a whole number"),
        (("audit", "export", "--plan", "p1"), "a plan id is a whole number, not 'p1'"),
        (("plans", "fire", "1", "x", "--as", "y", "--expected-version", "v3"),
         "a version number is a whole number, not 'v3'"),
        (("workflows", "show", "annual_plan", "--version", "latest"),
         "a version is a whole number, not 'latest'"),
        (("plans", "show", "0"), "a plan id is a whole number from 1 to 2147483647, not 0"),
    ],
)  # fmt: skip
def test_an_id_that_is_not_a_number_is_named_in_words(
    cli: CliRun, database_url: str, argv: tuple[str, ...], expected: str
) -> None:
    """Not click's "is not a valid integer range": what the number names, and what it must be."""
    code, _out, err = cli("--database-url", database_url, *argv)
    assert code == 2
    line = one_line(err)
    assert expected in line and "integer" not in line, line


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


# -- a scheduler pass ahead of the real time ------------------------------------------------

#: Ahead of any real time these tests will meet; and long past.
FUTURE = "2099-01-05T08:00"
PAST = "2001-01-05T08:00"


def run_once(cli: CliRun, url: str, *options: str) -> tuple[int, str, str]:
    return cli("--database-url", url, "scheduler", "run-once", *options)


def records(pf: Planflow, plan_id: int) -> list[str]:
    return [r.action for r in pf.audit_trail(plan_id)]


def test_a_future_now_on_a_live_database_is_refused_and_writes_nothing(
    pf: Planflow, org: Org, cli: CliRun, database_url: str
) -> None:
    plan_id = under_review(pf)  # overdue by 2099: reminded, escalated, returned
    before = records(pf, plan_id)
    assert not pf.is_simulation()
    code, out, err = run_once(cli, database_url, "--now", FUTURE)
    assert (code, out) == (2, "")
    line = one_line(err)
    assert "'--now'" in line and "2099-01-05 08:00 UTC is in the future" in line
    assert "planflow db mark-simulation" in line and "--allow-future" in line
    assert records(pf, plan_id) == before


def test_a_now_in_the_past_stays_allowed(
    pf: Planflow, org: Org, cli: CliRun, database_url: str
) -> None:
    under_review(pf)
    code, out, err = run_once(cli, database_url, "--now", PAST)
    assert code == 0, err
    assert "scheduler pass at 2001-01-05 08:00 UTC" in out


def test_allow_future_runs_it_anyway(
    pf: Planflow, org: Org, cli: CliRun, database_url: str
) -> None:
    plan_id = under_review(pf)
    code, out, err = run_once(cli, database_url, "--now", FUTURE, "--allow-future")
    assert code == 0, err
    assert "scheduler pass at 2099-01-05 08:00 UTC" in out
    assert "escalate" in records(pf, plan_id)
    assert not pf.is_simulation()  # the flag is for this run; the database stays live


def test_a_database_marked_for_simulation_runs_ahead_until_marked_live(
    pf: Planflow, org: Org, cli: CliRun, database_url: str
) -> None:
    plan_id = under_review(pf)
    code, out, err = cli("--database-url", database_url, "db", "mark-simulation")
    assert code == 0, err
    assert out.startswith("marked for simulation")
    assert pf.is_simulation()
    code, _out, err = run_once(cli, database_url, "--now", FUTURE)
    assert code == 0, err
    assert "escalate" in records(pf, plan_id)
    code, out, err = cli("--database-url", database_url, "db", "mark-live")
    assert code == 0 and out.startswith("marked live"), err
    assert not pf.is_simulation()
    code, _out, err = run_once(cli, database_url, "--now", "2099-06-01T08:00")
    assert code == 2 and "is in the future" in one_line(err)


def test_init_simulation_marks_a_new_database(cli: CliRun, empty_database_url: str) -> None:
    code, out, err = cli("--database-url", empty_database_url, "init", "--simulation")
    assert code == 0, err
    assert out.splitlines()[1].startswith("marked for simulation")
    code, out, err = run_once(cli, empty_database_url, "--now", FUTURE)
    assert code == 0, err
    # Without the flag init leaves it as it is; a new database is live.
    code, out, _ = cli("--database-url", empty_database_url, "init")
    assert code == 0 and "marked for simulation" in out


def test_the_rule_in_the_library(pf: Planflow, org: Org) -> None:
    real = FixedClock(T0)
    simulation.check_moment(pf.db, T0 - timedelta(days=400), clock=real)  # the past
    simulation.check_moment(pf.db, T0 + timedelta(minutes=4), clock=real)  # clocks differ
    with pytest.raises(FutureMomentRefused) as refused:
        simulation.check_moment(pf.db, T0 + timedelta(days=1), clock=real)
    assert refused.value.code == "future_moment"
    assert refused.value.params == {
        "moment": (T0 + timedelta(days=1)).isoformat(),
        "now": T0.isoformat(),
    }
    simulation.check_moment(pf.db, T0 + timedelta(days=1), clock=real, allow_future=True)
    pf.mark_simulation()
    simulation.check_moment(pf.db, T0 + timedelta(days=1), clock=real)
    pf.mark_simulation(False)
    assert not pf.is_simulation()
