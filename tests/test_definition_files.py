"""Definition files that once took planflow down, and the limits that hold them now.

Each case was a crash or a flood (issue 19, item 7): deep nesting gave a
3,000-line RecursionError, a NUL character a ReaderError traceback, a
version beyond PostgreSQL's INTEGER validated and then crashed ``planflow
run``, a 14 MB file took 67 s and 2.6 GB to print 800,000 problems. Now
each is one problem with its line (and column). Big and deep files are made
here, in tmp_path, not kept in git; the small ones are in
data/invalid_workflows (checked by test_definitions).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planflow.core.definitions import load_definition, parse_definition
from planflow.core.definitions import loader as loader_module
from planflow.core.definitions.source import MAX_BYTES, MAX_DEPTH, MAX_NODES
from planflow.errors import DefinitionError, DefinitionProblem

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
