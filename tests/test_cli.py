"""Tests of the ``planflow`` command line, driven in-process through ``planflow.cli.main``.

Every test that touches a database runs on SQLite and PostgreSQL (the
``database_url`` fixture); the CLI finds it through ``PLANFLOW_DATABASE_URL``.
The contract under test: exit code 0 on success, 1 for a refused operation
and 2 for bad arguments, and every error is ONE line on stderr starting
``planflow: error:``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from argon2 import PasswordHasher
from seeds import seed, seeded
from sqlalchemy import create_engine, text

from planflow.app import Planflow
from planflow.cli import main
from planflow.cli.app import cli as root_command
from planflow.clock import FixedClock
from planflow.core.definitions import load_definition
from planflow.errors import DefinitionError
from planflow.storage import passwords
from planflow.storage.audit_repo import EXPORT_FIELDS
from planflow.storage.db import normalise_url

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
MIGRATIONS = ROOT / "src" / "planflow" / "storage" / "migrations" / "versions"
INVALID = Path(__file__).parent / "data" / "invalid_workflows"
INVALID_FILES = sorted(INVALID.glob("*.yaml"))
ANNUAL_PLAN_STATES = load_definition(WORKFLOWS / "annual_plan.yaml").state_names
POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")
YEAR = "2027"


# -- helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


Cli = Callable[..., Result]


def make_runner(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str) -> Result:
        capsys.readouterr()  # drop whatever an earlier step printed
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def assert_ok(result: Result) -> Result:
    assert result.code == 0, result
    return result


def assert_refused(result: Result, *fragments: str) -> None:
    """Exit 1, and exactly one line on stderr naming the reason."""
    assert result.code == 1, result
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("planflow: error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)


@dataclass(frozen=True)
class PlanLine:
    id: int
    year: int
    unit: str
    state: str
    version: int
    title: str


def parse_plans(out: str) -> list[PlanLine]:
    plans = []
    for line in out.splitlines():
        pid, year, unit, state, version, title = line.split(maxsplit=5)
        plans.append(PlanLine(int(pid), int(year), unit, state, int(version[1:]), title))
    return plans


def plan_in(plans: list[PlanLine], state: str) -> PlanLine:
    return next(p for p in plans if p.state == state)


def execute_sql(database_url: str, sql: str, **params: object) -> None:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group of the tree, as the words that reach it."""
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from command_paths(sub, (*path, name))


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def run(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """The CLI on this test's database (SQLite or PostgreSQL)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    return make_runner(capsys)


@pytest.fixture
def run_offline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """The CLI for commands that must not need a database (help, bad arguments)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    return make_runner(capsys)


@seed("demo", base=None)
def load_demo_with_the_cli(pf: Planflow, clock: FixedClock) -> None:
    """``planflow demo --year YEAR`` on ``pf``'s (empty) database.

    Password hashing is made cheap here: 38 demo users at the production
    Argon2 cost take ~2 s. The ``demo`` fixture's seed (tests/seeds.py): loaded
    once per session and database, and copied in for each test.
    """
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
        patch.setattr(passwords, "_hasher", cheap)
        patch.setenv("PLANFLOW_DATABASE_URL", pf.db.url)
        patch.chdir(folder)
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["demo", "--year", YEAR])
    assert code == 0, (out.getvalue(), err.getvalue())


@pytest.fixture
def demo(
    request: pytest.FixtureRequest, run: Cli, database_url: str, clock: FixedClock
) -> list[PlanLine]:
    """The demo federation (``load_demo_with_the_cli``); returns ``plans list``."""
    pf = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
    try:
        seeded(request, "demo", pf, clock)
    finally:
        pf.close()
    return parse_plans(assert_ok(run("plans", "list")).out)


# -- init and demo ------------------------------------------------------------------


#: The newest migration (tests/test_storage.py names it, so that adding one is a decision).
HEAD = max(p.name[:4] for p in MIGRATIONS.glob("0*.py"))


def test_init_creates_an_empty_database_and_is_idempotent(
    empty_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", empty_database_url)
    run = make_runner(capsys)
    first = assert_ok(run("init"))
    second = assert_ok(run("init"))
    assert first.out.startswith(f"database ready at schema revision {HEAD}")
    assert second.out == first.out
    assert assert_ok(run("plans", "list")).out == "no plans match\n"


def test_init_on_a_migrated_database_is_idempotent(run: Cli) -> None:
    for _ in range(2):
        assert f"database ready at schema revision {HEAD}" in assert_ok(run("init")).out


def test_database_url_option_overrides_the_environment(
    database_url: str, run: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert_ok(run("--database-url", database_url, "units", "add", "fed", "Federation"))
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    assert assert_ok(run("units", "list")).out == "fed  Federation\n"


def test_demo_loads_once_and_covers_every_state_of_annual_plan(run: Cli) -> None:
    first = assert_ok(run("demo", "--year", YEAR))
    assert first.out.startswith("demo loaded: 16 units, 38 users")
    again = assert_ok(run("demo", "--year", YEAR))
    assert "demo data is already loaded" in again.out
    plans = parse_plans(assert_ok(run("plans", "list")).out)
    # Every state of annual_plan, and the committee-reviewed plan of committee_plan.
    assert {p.state for p in plans} == {*ANNUAL_PLAN_STATES, "committee_review"}
    assert len(plans) == 13  # the second run added nothing
    assert all(p.year == int(YEAR) for p in plans)


def test_plans_list_filters(run: Cli, demo: list[PlanLine]) -> None:
    approved = parse_plans(assert_ok(run("plans", "list", "--state", "approved")).out)
    assert [p.state for p in approved] == ["approved"]
    unit = parse_plans(assert_ok(run("plans", "list", "--unit", "branch1-2")).out)
    assert {p.unit for p in unit} == {"branch1-2"} and len(unit) == 2
    assert len(parse_plans(assert_ok(run("plans", "list", "--limit", "3")).out)) == 3
    assert assert_ok(run("plans", "list", "--year", "2030")).out == "no plans match\n"
    # A state no workflow has is a typo, not "no plans" (a new user's walk).
    assert_refused(run("plans", "list", "--state", "aproved"), "no workflow has a state 'aproved'")


# -- units, users, roles ------------------------------------------------------------


def test_units_add_list_and_move(run: Cli) -> None:
    assert assert_ok(run("units", "add", "fed", "Federation 总工会")).out.startswith(
        "unit fed added (id "
    )
    assert_ok(run("units", "add", "union", "Union", "--parent", "fed"))
    assert_ok(run("units", "add", "branch", "Branch 분회", "--parent", "union"))
    assert assert_ok(run("units", "list")).out == (
        "fed  Federation 总工会\n  union  Union\n    branch  Branch 분회\n"
    )
    assert assert_ok(run("units", "move", "branch", "--parent", "fed")).out == (
        "unit branch moved under fed\n"
    )
    assert assert_ok(run("units", "move", "union")).out == "unit union moved under (top)\n"
    listing = assert_ok(run("units", "list")).out.splitlines()
    assert listing == ["fed  Federation 总工会", "  branch  Branch 분회", "union  Union"]


def test_units_move_refuses_a_cycle(run: Cli) -> None:
    assert_ok(run("units", "add", "fed", "Federation"))
    assert_ok(run("units", "add", "union", "Union", "--parent", "fed"))
    assert_ok(run("units", "add", "branch", "Branch", "--parent", "union"))
    before = run("units", "list").out
    assert_refused(run("units", "move", "fed", "--parent", "branch"), "'fed'", "below itself")
    assert_refused(run("units", "move", "union", "--parent", "union"), "below itself")
    assert run("units", "list").out == before


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["units", "add", "bad code", "X"], ["unit code 'bad code'"]),
        (["units", "add", "fed", "Again"], ["a unit with code 'fed' already exists"]),
        (["units", "add", "x", "X", "--parent", "nope"], ["unknown unit: 'nope'"]),
        (["units", "move", "nope"], ["unknown unit: 'nope'"]),
        # As on the admin pages: a code that differs only in case is the same code.
        (["units", "add", "FED", "Again"], ["a unit with code 'FED' already exists"]),
    ],
    ids=["bad-code", "duplicate", "unknown-parent", "move-unknown", "duplicate-case"],
)
def test_units_refusals(run: Cli, argv: list[str], fragments: list[str]) -> None:
    assert_ok(run("units", "add", "fed", "Federation"))
    assert_refused(run(*argv), *fragments)


def test_users_add_and_list(run: Cli) -> None:
    options = ["--email", "alice@example.org", "--language", "zh", "--password", "long enough"]
    added = assert_ok(run("users", "add", "alice", "--name", "Alice 李", *options))
    assert added.out.startswith("user alice added (id ")
    assert_ok(run("users", "add", "bob", "--name", "Bob"))
    assert_ok(run("users", "deactivate", "bob"))
    lines = assert_ok(run("users", "list")).out.splitlines()
    assert lines[0].split() == ["alice", "Alice", "李", "<alice@example.org>", "[zh]"]
    assert lines[1].endswith("(inactive)")


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["users", "add", "bad name", "--name", "X"], ["username 'bad name'"]),
        (["users", "add", "carol", "--name", "C", "--email", "nope"], ["'nope' is not an e-mail"]),
        (["users", "add", "carol", "--name", "C", "--password", "short"], ["at least 8"]),
        (["users", "add", "carol", "--name", " "], ["a display name is required"]),
        (["users", "add", "alice", "--name", "Alice"], ["'alice' already exists"]),
        (["users", "deactivate", "nobody"], ["unknown user: 'nobody'"]),
        # The admin pages' rules: the same name in other case, a password's upper bound.
        (["users", "add", "Alice", "--name", "Alice"], ["'Alice' already exists"]),
        (["users", "add", "carol", "--name", "C", "--password", "x" * 257], ["at most 256"]),
    ],
    ids=[
        "bad-username",
        "bad-email",
        "short-password",
        "blank-name",
        "duplicate",
        "unknown",
        "duplicate-case",
        "long-password",
    ],
)
def test_users_refusals(run: Cli, argv: list[str], fragments: list[str]) -> None:
    assert_ok(run("users", "add", "alice", "--name", "Alice"))
    assert_refused(run(*argv), *fragments)


def test_roles_assign_list_revoke(run: Cli) -> None:
    assert_ok(run("units", "add", "fed", "Federation"))
    assert_ok(run("users", "add", "alice", "--name", "Alice"))
    assert assert_ok(run("roles", "assign", "alice", "committee", "fed")).out == (
        "alice is committee at fed\n"
    )
    assert assert_ok(run("roles", "list")).out.split() == ["fed", "committee", "alice"]
    assert_ok(run("roles", "revoke", "alice", "committee", "fed"))
    assert assert_ok(run("roles", "list")).out == ""


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["roles", "assign", "alice", "wizard", "fed"], ["unknown role 'wizard'", "reviewer"]),
        (["roles", "assign", "nobody", "reviewer", "fed"], ["unknown user: 'nobody'"]),
        (["roles", "assign", "alice", "reviewer", "nowhere"], ["unknown unit: 'nowhere'"]),
        (["roles", "revoke", "alice", "reviewer", "fed"], ["unknown role assignment"]),
    ],
    ids=["unknown-role", "unknown-user", "unknown-unit", "revoke-missing"],
)
def test_roles_refusals(run: Cli, argv: list[str], fragments: list[str]) -> None:
    assert_ok(run("units", "add", "fed", "Federation"))
    assert_ok(run("users", "add", "alice", "--name", "Alice"))
    assert_refused(run(*argv), *fragments)


# -- plans --------------------------------------------------------------------------


def fire(run: Cli, plan_id: int | str, action: str, actor: str, *options: str) -> Result:
    return run("plans", "fire", str(plan_id), action, "--as", actor, *options)


def create_empty_plan(run: Cli, unit: str) -> int:
    created = assert_ok(
        run("plans", "create", "--unit", unit, "--year", YEAR, "--title", "Empty",
            "--as", f"{unit}.drafter")
    )  # fmt: skip
    plan_id = int(created.out.split()[1])
    assert created.out == f"plan {plan_id} created\n"
    return plan_id


def reviewer_of(plan: PlanLine) -> str:
    return f"union{plan.unit[6]}.reviewer"  # branch2-3 -> union2.reviewer


def test_plans_fire_moves_the_plan_and_show_reflects_it(run: Cli, demo: list[PlanLine]) -> None:
    plan = plan_in(demo, "submitted")
    reviewer = reviewer_of(plan)
    fired = assert_ok(fire(run, plan.id, "start_review", reviewer))
    assert fired.out == f"plan {plan.id}: start_review -> under_review\n"
    shown = assert_ok(run("plans", "show", str(plan.id))).out
    assert f"state under_review, version {plan.version + 1}" in shown
    assert f"task: reviewer at {reviewer.split('.')[0]}, due " in shown
    assert "next timer: remind at " in shown
    last = shown.rstrip().splitlines()[-1].split()[3:]
    assert last == [reviewer, "start_review", "submitted", "->", "under_review"]


def test_plans_fire_with_a_comment_and_expected_version(run: Cli, demo: list[PlanLine]) -> None:
    plan = plan_in(demo, "under_review")
    comment = ("--comment", "Add targets.")
    stale = fire(run, plan.id, "return_for_revision", reviewer_of(plan),
                 "--expected-version", str(plan.version - 1), *comment)  # fmt: skip
    assert_refused(stale, "changed by someone else", f"version {plan.version - 1}")
    assert_ok(fire(run, plan.id, "return_for_revision", reviewer_of(plan),
                   "--expected-version", str(plan.version), *comment))  # fmt: skip
    assert "\u201cAdd targets.\u201d" in run("plans", "show", str(plan.id)).out


def test_plans_fire_refusals(run: Cli, demo: list[PlanLine]) -> None:
    empty = create_empty_plan(run, "branch1-1")
    review = plan_in(demo, "under_review")
    # A guard refuses: the message says why.
    assert_refused(fire(run, empty, "submit", "branch1-1.chair"), "'submit' refused", "no items")
    # A comment is required to return a plan.
    result = fire(run, review.id, "return_for_revision", reviewer_of(review))
    assert_refused(result, "'return_for_revision' refused")
    # The wrong person (who may see the plan: its own drafter).
    result = fire(run, review.id, "approve", f"{review.unit}.drafter")
    assert_refused(result, "needs the role 'reviewer'")
    # Not an action of the state.
    result = fire(run, empty, "approve", "branch1-1.chair")
    assert_refused(result, "not allowed in state 'draft'")
    # Someone who may not see the plan (a draft, seen by its own unit only)
    # learns no more than of a plan that does not exist.
    result = fire(run, empty, "approve", "union1.reviewer")
    assert_refused(result, f"unknown plan: {empty}")
    # Unknown plan or person.
    assert_refused(fire(run, 999999, "submit", "admin"), "unknown plan")
    assert_refused(fire(run, empty, "submit", "ghost"), "unknown user")
    assert_refused(run("plans", "show", "999999"), "unknown plan")


def test_plans_actions(run: Cli, demo: list[PlanLine]) -> None:
    draft = plan_in(demo, "draft")
    chair = f"{draft.unit}.chair"
    lines = assert_ok(run("plans", "actions", str(draft.id), "--as", chair)).out.splitlines()
    assert [ln.split()[0] for ln in lines] == ["submit", "abandon"]
    zh = assert_ok(run("plans", "actions", str(draft.id), "--as", chair, "--lang", "zh")).out
    assert "提交" in zh
    # A draft is its own unit's: anyone else is told exactly what a missing plan tells.
    hidden = run("plans", "actions", str(draft.id), "--as", "fed.inspector")
    assert_refused(hidden, f"unknown plan: {draft.id}")
    review = plan_in(demo, "under_review")
    own_chair = f"{review.unit}.chair"
    # Under review, its chair may no longer recall it, and is told why.
    late = assert_ok(run("plans", "actions", str(review.id), "--as", own_chair)).out
    assert late.startswith("recall ") and "too late to recall" in late
    assert "start_review" in late and len(late.splitlines()) == 1
    empty = str(create_empty_plan(run, draft.unit))
    blocked = assert_ok(run("plans", "actions", empty, "--as", chair)).out
    assert "(blocked: the plan has no items yet)" in blocked
    assert_refused(run("plans", "actions", "999999", "--as", chair), "unknown plan")


def test_plans_show(run: Cli, demo: list[PlanLine]) -> None:
    plan = plan_in(demo, "archived")
    out = assert_ok(run("plans", "show", str(plan.id))).out.splitlines()
    assert out[0] == f"plan {plan.id}: {plan.title}"
    assert out[1] == f"  year {YEAR}, workflow annual_plan@5"
    assert out[2].startswith(f"  state archived, version {plan.version}, revision 1, 16 item(s)")
    assert out[3] == "  trail:"
    actions = [line.split()[4] for line in out[4:]]
    review = ["submit", "start_review", "approve"]
    inspection = ["schedule_inspection", "inspection_scores", "inspect", "accept", "archive"]
    assert actions == ["create", "edit_content", *review, *inspection]


# -- audit --------------------------------------------------------------------------


def test_audit_verify_ok(run: Cli, demo: list[PlanLine]) -> None:
    result = assert_ok(run("audit", "verify"))
    assert result.out.startswith("checked ")
    assert f" records of {len(demo)} plans and 0 checkpoints" in result.out
    assert result.out.endswith("audit trail OK\n")
    assert result.err == ""


def tamper(database_url: str, plan_id: int, seq: int) -> None:
    execute_sql(
        database_url,
        "UPDATE audit_record SET comment = 'forged' WHERE plan_id = :p AND seq = :s",
        p=plan_id,
        s=seq,
    )


def test_audit_verify_names_the_tampered_record(
    run: Cli, demo: list[PlanLine], database_url: str
) -> None:
    plan = plan_in(demo, "approved")
    tamper(database_url, plan.id, 3)
    result = run("audit", "verify")
    assert result.err_lines[0] == (
        f"audit trail BROKEN: plan {plan.id}, record 3: content does not match its hash (altered)"
    )
    assert "audit trail OK" not in result.out


def test_audit_verify_exits_1_when_tampered(
    run: Cli, demo: list[PlanLine], database_url: str
) -> None:
    tamper(database_url, plan_in(demo, "approved").id, 3)
    assert run("audit", "verify").code == 1


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_audit_export_to_a_file(run: Cli, demo: list[PlanLine], tmp_path: Path, fmt: str) -> None:
    total = int(run("audit", "verify").out.split()[1])
    out = tmp_path / f"trail.{fmt}"
    result = assert_ok(run("audit", "export", "--format", fmt, "-o", str(out)))
    assert result.err == f"{total} records written to {out}\n"
    assert result.out == ""
    text_ = out.read_text(encoding="utf-8")
    if fmt == "csv":
        rows = list(csv.DictReader(text_.splitlines()))
        assert tuple(rows[0]) == EXPORT_FIELDS
    else:
        rows = [json.loads(line) for line in text_.splitlines()]
        assert all(set(r) == set(EXPORT_FIELDS) for r in rows)
    assert len(rows) == total
    assert {str(r["plan_id"]) for r in rows} == {str(p.id) for p in demo}


def test_audit_export_one_plan_to_stdout(run: Cli, demo: list[PlanLine]) -> None:
    plan = plan_in(demo, "archived")
    result = assert_ok(run("audit", "export", "--plan", str(plan.id)))
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert [r["seq"] for r in rows] == list(range(1, 11))
    assert {r["plan_id"] for r in rows} == {plan.id}
    assert rows[-1]["action"] == "archive"


def test_audit_checkpoint(run: Cli, demo: list[PlanLine]) -> None:
    total = int(run("audit", "verify").out.split()[1])
    out = assert_ok(run("audit", "checkpoint")).out.split()
    assert out[:6] == ["checkpoint", "#1", "over", str(len(demo)), "plans,", str(total)]
    assert len(out[-1]) == 64 and int(out[-1], 16) >= 0
    second = assert_ok(run("audit", "checkpoint")).out
    assert second.startswith("checkpoint #2 ")
    verified = assert_ok(run("audit", "verify")).out
    assert " and 2 checkpoints" in verified and verified.endswith("audit trail OK\n")


# -- workflows ----------------------------------------------------------------------


def test_workflows_list(run: Cli) -> None:
    lines = assert_ok(run("workflows", "list")).out.splitlines()
    assert [ln.split()[0] for ln in lines] == ["annual_plan@5", "committee_plan@5"]
    assert str(WORKFLOWS / "annual_plan.yaml") in lines[0]


def test_workflows_show_annual_plan(run: Cli) -> None:
    spec = load_definition(WORKFLOWS / "annual_plan.yaml")
    out = assert_ok(run("workflows", "show", "annual_plan")).out
    assert out.startswith("annual_plan@5: Annual work plan\nstates:\n")
    for state in spec.states:
        assert f"  {state.name:26} {state.label.get('en')}" in out
    for t in spec.transitions:
        assert f"  {t.trigger:24} {','.join(t.sources)} -> {t.dest}" in out
    assert "年度工作计划" in assert_ok(run("workflows", "show", "annual_plan", "--lang", "zh")).out
    assert_refused(run("workflows", "show", "nope"), "unknown workflow definition: 'nope'")


def test_workflows_validate_valid_files(run_offline: Cli) -> None:
    paths = [str(WORKFLOWS / "annual_plan.yaml"), str(WORKFLOWS / "committee_plan.yaml")]
    result = assert_ok(run_offline("workflows", "validate", *paths))
    assert result.out.splitlines()[0] == (
        f"{paths[0]}: OK (annual_plan@5, 11 states, 14 transitions)"
    )
    assert result.out.splitlines()[1].startswith(f"{paths[1]}: OK (committee_plan@5, ")
    assert result.err == ""


@pytest.mark.parametrize("path", INVALID_FILES, ids=lambda p: p.stem)
def test_workflows_validate_reports_every_problem_with_file_and_line(
    run_offline: Cli, path: Path
) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    problems = caught.value.problems
    result = run_offline("workflows", "validate", str(path))
    assert "OK" not in result.out
    assert result.err.startswith(f"{path}: {len(problems)} problem(s)\n")
    for problem in problems:  # path:line[:column]: message
        assert f"  {problem}" in result.err


def test_workflows_validate_takes_a_folder(run_offline: Cli, tmp_path: Path) -> None:
    """A folder is checked as the registry loads it: each *.yaml and *.yml file in it."""
    result = assert_ok(run_offline("workflows", "validate", str(WORKFLOWS)))
    checked = [line.split(":")[0] for line in result.out.splitlines()]
    assert checked == [str(p) for p in sorted(WORKFLOWS.glob("*.yaml"))]
    (tmp_path / "notes.txt").write_text("not a definition", encoding="utf-8")
    empty = run_offline("workflows", "validate", str(tmp_path))
    assert empty.code == 1
    assert empty.err == f"{tmp_path}: no definition files (*.yaml, *.yml) in this folder\n"


def test_workflows_validate_exits_1_on_an_invalid_file(run_offline: Cli) -> None:
    valid = str(WORKFLOWS / "annual_plan.yaml")
    result = run_offline("workflows", "validate", valid, *map(str, INVALID_FILES))
    assert f"{valid}: OK" in result.out
    assert result.code == 1


# -- argument errors and help -------------------------------------------------------

BAD_ARGUMENTS = {
    "unknown-command": ["frobnicate"],
    "unknown-subcommand": ["plans", "frobnicate"],
    "unknown-option": ["plans", "list", "--colour"],
    "unknown-root-option": ["--no-such-option", "plans", "list"],
    "missing-argument": ["plans", "show"],
    "missing-option": ["plans", "fire", "1", "submit"],
    "missing-option-value": ["plans", "list", "--state"],
    "bad-int": ["plans", "show", "abc"],
    "bad-int-option": ["plans", "fire", "1", "submit", "--as", "x", "--expected-version", "v2"],
    "bad-choice": ["plans", "actions", "1", "--as", "x", "--lang", "fr"],
    "bad-format": ["audit", "export", "--format", "xml"],
    "out-of-range": ["plans", "list", "--year", "1900"],
    # The benchmark runs from a checkout (``python -m bench``), not from planflow.
    "no-bench-command": ["bench", "w1", "--n", "2000"],
    "extra-argument": ["units", "list", "surplus"],
    "validate-missing-file": ["workflows", "validate", "/no/such/file.yaml"],
    "validate-no-file": ["workflows", "validate"],
}


@pytest.mark.parametrize("argv", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_bad_arguments_exit_2_with_one_error_line(run_offline: Cli, argv: list[str]) -> None:
    result = run_offline(*argv)
    assert result.code == 2, result
    assert result.out == ""
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("planflow: error: "), result.err


def test_bare_planflow_shows_the_help_and_exits_2(run_offline: Cli) -> None:
    result = run_offline()
    assert result.code == 2
    assert result.err.startswith("Usage: planflow [OPTIONS] COMMAND [ARGS]...")


def test_version(run_offline: Cli) -> None:
    result = assert_ok(run_offline("--version"))
    assert result.out.startswith("planflow, version ")


@pytest.mark.parametrize(
    "path", list(command_paths(root_command)), ids=lambda p: " ".join(p) or "planflow"
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_on_every_command_and_group(
    run_offline: Cli, path: tuple[str, ...], flag: str
) -> None:
    result = run_offline(*path, flag)
    assert result.code == 0, result
    assert result.err == ""
    assert result.out.startswith(f"Usage: {' '.join(('planflow', *path))} ")
    assert not (Path.cwd() / "unused.sqlite3").exists()  # help opens no database


# -- the real console script ---------------------------------------------------------


def console_script() -> str:
    beside = shutil.which("planflow", path=str(Path(sys.executable).parent))
    found = beside or shutil.which("planflow")
    assert found, "the planflow console script is not installed"
    return found


def run_process(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PLANFLOW_DATABASE_URL": f"sqlite:///{cwd / 'db.sqlite3'}"}
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def test_console_script_entry_point(tmp_path: Path) -> None:
    script = console_script()
    helped = run_process(script, "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: planflow [OPTIONS] COMMAND [ARGS]...")
    bad = run_process(script, "plans", "show", "abc", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("planflow: error: Invalid value for 'PLAN_ID'")
    assert len(bad.stderr.splitlines()) == 1


def test_python_dash_m_planflow_cli(tmp_path: Path) -> None:
    proc = run_process(sys.executable, "-m", "planflow.cli", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
