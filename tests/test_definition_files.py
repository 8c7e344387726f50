"""Definition files that once took planflow down, and the limits that hold them now.

Each case was a crash or a flood (issue 19, item 7): deep nesting gave a
3,000-line RecursionError, a NUL character a ReaderError traceback, a
version beyond PostgreSQL's INTEGER validated and then crashed ``planflow
run``, a 14 MB file took 67 s and 2.6 GB to print 800,000 problems, and a
symbolic link to another file echoed that file's content. Now each is one
problem with its line (and column), and one broken file in the workflows
folder leaves the others working: the registry, the command line and the
scheduler. Big and deep files are made here, in tmp_path, not kept in git;
the small ones are in data/invalid_workflows (checked by test_definitions).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from conftest import WORKFLOWS, CliRun, Org
from stored import stored_plan
from test_scheduler import APRIL_ROUND, approved

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.definitions import DefinitionRegistry, load_definition, parse_definition
from planflow.core.definitions import loader as loader_module
from planflow.core.definitions.source import MAX_BYTES, MAX_DEPTH, MAX_NODES
from planflow.errors import DefinitionError, DefinitionProblem, NotFound
from planflow.scheduling.scheduler import Scheduler
from planflow.storage import passwords

TINY = """\
name: {name}
version: {version}
initial: draft
states:
  draft: {{}}
  done: {{final: true}}
transitions:
  - {{trigger: finish, source: draft, dest: done, role: drafter}}
"""
SECRET = "SECRET-7f3a: the content of a file outside the folder"


def tiny(name: str = "tiny", version: int | str = 1) -> str:
    return TINY.format(name=name, version=version)


def problems_of(path: Path, **kwargs: object) -> list[DefinitionProblem]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(path, **kwargs)  # type: ignore[arg-type]
    return list(caught.value.problems)


def only_problem(path: Path, **kwargs: object) -> DefinitionProblem:
    problems = problems_of(path, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


def nested_lists(depth: int) -> str:
    """``title:`` holding lists ``depth`` deep (the document's mapping is one level more)."""
    return tiny() + "title: " + "[" * depth + "]" * depth + "\n"


def nested_mappings(depth: int) -> str:
    """Block mappings by indentation, ``depth`` deep under ``title:``."""
    lines = [f"{'  ' * (i + 1)}k{i}:" for i in range(depth)]
    return tiny() + "title:\n" + "\n".join(lines) + " x\n"


def fourteen_megabytes() -> str:
    """The shape of the file in the report: 800,000 unknown keys, about 14 MB."""
    return "name: huge\nversion: 1\n" + "".join(f"k{i}: v{i}\n" for i in range(800_000))


# -- size -------------------------------------------------------------------------------


def test_a_file_over_1_mib_is_refused_without_being_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(fourteen_megabytes())
    size = path.stat().st_size
    assert size > 13_000_000

    def no_parse(text: str) -> object:
        raise AssertionError("a file over the limit was parsed")

    monkeypatch.setattr(loader_module, "compose", no_parse)
    problem = only_problem(path)
    assert problem.message == f"file is {size} bytes; at most 1 MiB (1048576 bytes)"
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert len(str(caught.value).splitlines()) == 2  # the file, then its one problem


def test_a_file_of_exactly_1_mib_is_read(tmp_path: Path) -> None:
    text = tiny()
    padding = MAX_BYTES - len(text.encode())
    path = tmp_path / "padded.yaml"
    path.write_text(text + "#" * (padding - 1) + "\n")
    assert path.stat().st_size == MAX_BYTES
    assert load_definition(path).key == "tiny@1"
    path.write_text(text + "#" * padding + "\n")
    assert "at most 1 MiB" in only_problem(path).message


def test_a_text_over_1_mib_is_refused_too() -> None:
    with pytest.raises(DefinitionError, match="at most 1 MiB") as caught:
        parse_definition(tiny() + "#" * MAX_BYTES + "\n", "<db>")
    assert len(caught.value.problems) == 1


def test_a_file_with_too_many_values_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "long_list.yaml"
    path.write_text(tiny() + "title: [" + ", ".join(["1"] * (MAX_NODES + 10)) + "]\n")
    problem = only_problem(path)
    assert f"more than {MAX_NODES} values" in problem.message
    assert problem.line == 9 and problem.column is not None


# -- depth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        nested_lists(5_000),  # past libyaml's own limit: its error, still one line
        nested_lists(500),
        nested_lists(MAX_DEPTH),  # one more than allowed: the document's mapping counts
        nested_mappings(300),
        tiny() + "title: " + "{a: " * 300 + "x" + "}" * 300 + "\n",
        tiny() + "title:\n" + "".join(f"{'  ' * i}- \n" for i in range(200)),
    ],
    ids=["lists-5000", "lists-500", "lists-65", "indented-300", "flow-mappings-300", "dashes"],
)
def test_deep_nesting_is_one_problem_with_line_and_column(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    problem = only_problem(path)
    assert "nest" in problem.message
    assert problem.line is not None and problem.line >= 9
    assert problem.column is not None


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(nested_lists(MAX_DEPTH - 1))
    # Read as far as meaning goes: a title must be a text, whatever its depth.
    assert "nest" not in only_problem(path).message


# -- characters YAML refuses ---------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\ufffe", "\x7f"])
def test_a_character_yaml_refuses_is_a_problem_at_its_place(tmp_path: Path, char: str) -> None:
    path = tmp_path / "char.yaml"
    path.write_text(tiny() + f"title: Tiny{char}plan\n", encoding="utf-8")
    problem = only_problem(path)
    assert problem.message == (f"the character U+{ord(char):04X} is not allowed in YAML; remove it")
    assert (problem.line, problem.column) == (9, 12)
    assert str(problem) == f"(document):9:12: {problem.message}"


def test_a_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text(tiny() + "title: {en: a\n")
    problem = only_problem(path)
    assert problem.message.startswith("YAML syntax error")
    assert problem.line is not None and problem.column is not None


# -- the version -------------------------------------------------------------------------


def test_the_version_fits_an_integer_column() -> None:
    assert parse_definition(tiny(version=2**31 - 1)).version == 2**31 - 1
    for version in (2**31, 2**63, 10**30):
        with pytest.raises(DefinitionError, match="must be at most 2147483647") as caught:
            parse_definition(tiny(version=version))
        assert len(caught.value.problems) == 1


# -- how many problems, and how long ----------------------------------------------------


def with_unknown_keys(count: int) -> str:
    return tiny() + "".join(f"extra_{i}: 1\n" for i in range(count))


def test_at_most_100_problems_are_listed_then_how_many_more() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(with_unknown_keys(150), "many.yaml")
    error = caught.value
    assert len(error.problems) == 150 and not error.stopped
    lines = str(error).splitlines()
    assert lines[0] == "many.yaml: 150 problem(s)"
    assert len(lines) == 1 + 100 + 1
    assert lines[-1] == "  … and 50 more"
    assert len(error.params["problems"]) == 100 and error.params["more"] == 50


def test_checking_stops_after_1000_problems() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(with_unknown_keys(5_000), "flood.yaml")
    error = caught.value
    assert error.stopped and len(error.problems) == 1000
    lines = str(error).splitlines()
    assert lines[0] == "flood.yaml: 1000+ problem(s)"
    assert lines[-1] == "  … and 900 more; checking stopped after 1000 problems"


def test_values_quoted_in_problems_are_cut_short() -> None:
    key = "k" * 1000  # YAML's longest implicit key
    with pytest.raises(DefinitionError) as caught:
        parse_definition(tiny() + f"{key}: 1\n" + f"title: {{en: {'t' * 50_000}, {key}: x}}\n")
    assert len(caught.value.problems) == 2
    for problem in caught.value.problems:
        assert len(str(problem)) < 400, str(problem)[:400]
        assert "k" * 60 + "…" in str(problem)
    with pytest.raises(DefinitionError) as caught:
        parse_definition(tiny().replace("draft: {}", "draft: " + "x" * 200_000))
    (problem,) = caught.value.problems
    assert problem.message == "must be a mapping, not '" + "x" * 60 + "…'"


# -- symbolic links -------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A workflows folder with one good definition (tiny@1) in it."""
    path = tmp_path / "workflows"
    path.mkdir()
    (path / "tiny.yaml").write_text(tiny())
    return path


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the folder whose content must never show."""
    path = tmp_path / "secret.yaml"
    path.write_text(f"{SECRET}\n")
    return path


def test_a_link_out_of_the_folder_is_not_followed(folder: Path, secret: Path) -> None:
    link = folder / "link.yaml"
    link.symlink_to(secret)
    problem = only_problem(link, folder=folder)
    assert problem.message.startswith("a symbolic link to a file outside")
    registry = DefinitionRegistry(folder)
    assert [s.key for s in registry.all()] == ["tiny@1"]
    (error,) = registry.broken()
    assert error.source == str(link)
    assert SECRET not in str(error) and "SECRET" not in str(registry.problems())


def test_a_link_within_the_folder_is_followed(folder: Path) -> None:
    (folder / "same.yaml").symlink_to(folder / "tiny.yaml")
    registry = DefinitionRegistry(folder)
    assert [s.key for s in registry.all()] == ["tiny@1"]
    assert registry.broken() == ()


def test_a_dangling_link_is_reported(folder: Path) -> None:
    (folder / "gone.yaml").symlink_to(folder / "nowhere.yaml")
    registry = DefinitionRegistry(folder)
    assert [s.key for s in registry.all()] == ["tiny@1"]
    (problem,) = registry.problems()
    assert problem.path == "gone.yaml: (document)"
    assert problem.message.startswith("cannot read the file")


# -- the registry -----------------------------------------------------------------------------


#: The files ``break_the_folder`` writes, in the order they are reported.
BROKEN = ["big_version.yaml", "deep.yaml", "huge.yaml", "link.yaml", "nul.yaml"]


def break_the_folder(folder: Path, secret: Path) -> None:
    """One file of each kind that once took the folder down (``BROKEN``)."""
    (folder / "deep.yaml").write_text(nested_lists(5_000))
    (folder / "nul.yaml").write_text(tiny("nul") + "title: a\x00b\n")
    (folder / "huge.yaml").write_text(tiny("huge") + "#" * MAX_BYTES + "\n")
    (folder / "big_version.yaml").write_text(tiny("big_version", 2**31))
    (folder / "link.yaml").symlink_to(secret)


def test_broken_files_are_left_out_and_the_others_load(folder: Path, secret: Path) -> None:
    break_the_folder(folder, secret)
    registry = DefinitionRegistry(folder)
    assert [s.key for s in registry.all()] == ["tiny@1"]
    assert registry.get("tiny").key == "tiny@1"
    assert [Path(e.source).name for e in registry.broken()] == BROKEN
    assert all(len(e.problems) == 1 for e in registry.broken())
    assert [p.path.split(":")[0] for p in registry.problems()] == BROKEN


def test_a_look_up_of_a_left_out_definition_says_why(folder: Path, secret: Path) -> None:
    break_the_folder(folder, secret)
    registry = DefinitionRegistry(folder)
    with pytest.raises(NotFound) as caught:
        registry.get("big_version")
    assert str(caught.value) == (
        "unknown workflow definition: 'big_version' (big_version.yaml was left out: "
        "version:2: must be at most 2147483647, not 2147483648)"
    )
    assert caught.value.params == {"kind": "workflow definition", "ident": "big_version"}
    with pytest.raises(NotFound, match=r"^unknown workflow definition: 'nope'$"):
        registry.get("nope")


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def broken_folder(folder: Path, secret: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder with broken files beside tiny.yaml, as the command line's workflows."""
    break_the_folder(folder, secret)
    monkeypatch.setenv("PLANFLOW_WORKFLOWS_DIR", str(folder))
    return folder


@pytest.fixture
def with_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)


@pytest.mark.usefixtures("with_database")
def test_workflows_list_prints_the_good_and_names_the_broken(
    broken_folder: Path, cli: CliRun
) -> None:
    code, out, err = cli("workflows", "list")
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()] == ["tiny@1"]
    warned = [line.split(" was left out: ")[0] for line in err.splitlines()]
    assert warned == [f"planflow: warning: {name}" for name in BROKEN]
    assert "Traceback" not in err and SECRET not in err


@pytest.mark.usefixtures("with_database")
def test_workflows_show_works_beside_broken_files(broken_folder: Path, cli: CliRun) -> None:
    code, out, err = cli("workflows", "show", "tiny")
    assert code == 0, err
    assert out.startswith("tiny@1: tiny\n")
    code, _out, err = cli("workflows", "show", "big_version")
    assert code == 1
    (line,) = err.splitlines()
    assert line.startswith("planflow: error: unknown workflow definition: 'big_version' (")
    assert "must be at most 2147483647" in line


@pytest.mark.parametrize("name", ["deep", "nul", "huge", "big_version", "link"])
def test_workflows_validate_says_one_short_thing_per_broken_file(
    broken_folder: Path, cli: CliRun, name: str
) -> None:
    code, out, err = cli("workflows", "validate", str(broken_folder / f"{name}.yaml"))
    assert code == 1 and out == ""
    assert "Traceback" not in err and SECRET not in err
    header, problem = err.splitlines()
    assert header == f"{broken_folder / name}.yaml: 1 problem(s)"
    assert len(problem) < 200


def test_run_with_a_version_too_large_fails_with_one_line(
    tmp_path: Path, database_url: str, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "too_large"
    folder.mkdir()
    for source in WORKFLOWS.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.name == "annual_plan.yaml":
            assert "\nversion: 5\n" in text
            text = text.replace("\nversion: 5\n", "\nversion: 2147483648\n")
        (folder / source.name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("PLANFLOW_WORKFLOWS_DIR", str(folder))
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    code, _out, err = cli("--database-url", database_url, "run", "--prepare-only")
    assert code == 1
    (line,) = err.splitlines()
    assert line.startswith("planflow: error: unknown workflow definition: 'annual_plan' (")
    assert "annual_plan.yaml was left out: version:" in line
    assert "must be at most 2147483647, not 2147483648" in line


# -- the scheduler ---------------------------------------------------------------------------


@pytest.fixture
def pf(database_url: str, clock: FixedClock, tmp_path: Path, secret: Path) -> Iterator[Planflow]:
    """Planflow on the shipped definitions, with a broken file of each kind beside them."""
    folder = tmp_path / "shipped_and_broken"
    folder.mkdir()
    for source in WORKFLOWS.glob("*.yaml"):
        (folder / source.name).write_bytes(source.read_bytes())
    break_the_folder(folder, secret)
    instance = Planflow(database_url, clock=clock, workflows_dir=folder)
    yield instance
    instance.close()


def test_the_scheduler_runs_the_good_definitions_beside_broken_files(
    pf: Planflow, org: Org, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    plan_id = approved(pf)
    clock.set(APRIL_ROUND)
    scheduler = Scheduler(pf)
    with caplog.at_level(logging.WARNING, logger="planflow.scheduling.scheduler"):
        first = scheduler.tick()
        second = scheduler.tick()
    assert first.errors == [] and second.errors == []
    assert first.rounds.fired == ["annual_plan:april_inspection_round:2027-04-01"]
    assert stored_plan(pf, plan_id).state == "inspection_scheduled"
    assert [line.split(" ")[0] for line in first.left_out] == BROKEN
    assert "\nworkflow files: big_version.yaml was left out: " in first.describe()
    # Logged once, not every tick.
    logged = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(logged) == 5
    assert not any(SECRET in message for message in logged)
