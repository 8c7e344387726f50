"""Tests of the W1 benchmark (``bench.w1``) and ``python -m bench w1``.

These check that a measurement runs, does the work it claims and verifies
it; they assert nothing about timings (the machine is shared and noisy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bench import w1
from bench.cli import main
from bench.common import Scratch
from planflow.core.definitions.actions import GUARDS, SHEET_FACT
from planflow.core.definitions.loader import load_definition
from planflow.core.guard_registry import BUILTIN_REGISTRY
from planflow.storage.db import normalise_url

ROOT = Path(__file__).resolve().parent.parent
#: The built-in guards that read the scoring sheet.
SHEET_GUARDS = frozenset(g for g in GUARDS if SHEET_FACT in BUILTIN_REGISTRY.needs(g))
POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="PLANFLOW_TEST_POSTGRES_URL is not set: no PostgreSQL to bench on"
)

#: The measured figures, each a positive number.
FIGURES = (
    "seconds",
    "steps_per_second",
    "floor_steps_per_second",
    "ratio_to_floor",
    "reference_steps_per_second",
    "reference_ratio_to_floor",
)
RESULT_KEYS = {"workload", "database", "n", "steps", "peak_rss_mib", "verified", *FIGURES}


def check_result(result: dict[str, Any], n: int, database: str) -> None:
    assert set(result) >= RESULT_KEYS, RESULT_KEYS - set(result)
    assert result["problems"] == []
    assert result["verified"] is True
    assert (result["workload"], result["database"], result["n"]) == ("w1", database, n)
    assert result["steps"] == result["expected_steps"] == w1.expected_steps(n)
    for key in FIGURES:
        assert isinstance(result[key], int | float) and result[key] > 0, key
    assert result["peak_rss_mib"] > 0


def schema_exists(name: str) -> bool:
    assert POSTGRES_URL
    engine = create_engine(normalise_url(POSTGRES_URL))
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :n"),
                {"n": name},
            ).first()
        return found is not None
    finally:
        engine.dispose()


@pytest.fixture
def scratches(monkeypatch: pytest.MonkeyPatch) -> list[Scratch]:
    """Records every scratch database ``w1.measure`` uses."""
    seen: list[Scratch] = []
    real = w1.scratch_database

    @contextmanager
    def recording(base_url: str | None, name: str) -> Iterator[Scratch]:
        with real(base_url, name) as scratch:
            seen.append(scratch)
            yield scratch

    monkeypatch.setattr(w1, "scratch_database", recording)
    return seen


def test_expected_steps() -> None:
    # Every fifth plan is returned once: 9 actions instead of 6, plus the creation.
    assert w1.expected_steps(1) == 7
    assert w1.expected_steps(5) == 4 * 7 + 10
    assert w1.expected_steps(20) == 16 * 7 + 4 * 10


def test_interleave_takes_turns_rotating_the_first_and_times_only_chunks() -> None:
    log: list[tuple[str, int]] = []

    def runner(name: str) -> w1.Runner:
        log.append((name, -1))  # set-up
        yield
        for chunk in range(w1.ROUNDS):
            log.append((name, chunk))
            yield
        return {"name": name}

    results = w1.interleave({"a": runner("a"), "b": runner("b"), "c": runner("c")})
    assert log[:3] == [("a", -1), ("b", -1), ("c", -1)]
    rounds = [[name for name, _ in log[3 + 3 * r : 6 + 3 * r]] for r in range(3)]
    assert rounds == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    assert all(chunk == r for r in range(w1.ROUNDS) for _, chunk in log[3 + 3 * r : 6 + 3 * r])
    assert {k: v["name"] for k, v in results.items()} == {"a": "a", "b": "b", "c": "c"}
    assert all(v["seconds"] >= 0 for v in results.values())


def test_interleave_refuses_a_runner_with_more_chunks() -> None:
    def greedy() -> w1.Runner:
        while True:
            yield

    with pytest.raises(AssertionError, match="more than"):
        w1.interleave({"greedy": greedy()})


def test_measure_on_sqlite(scratches: list[Scratch]) -> None:
    result = w1.measure(n=20, database_url=None)
    check_result(result, 20, "sqlite")
    [scratch] = scratches
    assert not Path(scratch.raw).parent.exists()  # the temporary folder is gone


@pytest.mark.postgres
@needs_postgres
def test_measure_on_postgresql(scratches: list[Scratch]) -> None:
    assert POSTGRES_URL
    result = w1.measure(n=20, database_url=POSTGRES_URL)
    check_result(result, 20, "postgresql")
    [scratch] = scratches
    assert scratch.schema and scratch.schema.startswith("bench_w1_")
    assert not schema_exists(scratch.schema)  # created for the run, dropped after it


def test_cli_bench_w1_json_runs_in_a_child(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child finds the (not installed) package whatever the current directory.
    monkeypatch.chdir(tmp_path)
    assert main(["w1", "--n", "10", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    [line] = out.splitlines()
    check_result(json.loads(line), 10, "sqlite")


def test_python_m_bench_runs_from_the_checkout() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    command = [sys.executable, "-m", "bench", "w1", "--n", "5"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"W1 sqlite n=5: {w1.expected_steps(5)} steps in ")
    assert done.stdout.rstrip().endswith("verified: True")


def test_planflow_has_no_bench_command_and_starts_without_the_checkout(tmp_path: Path) -> None:
    # As from a wheel: the checkout (and so ``bench``) is not on the path.
    code = (
        "import sys\n"
        "from planflow.cli import main\n"
        "code = main(['bench', 'w1'])\n"
        "assert not any(m == 'bench' or m.startswith('bench.') for m in sys.modules)\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2, done.stderr
    assert "No such command 'bench'" in done.stderr


def test_w1_definition_is_the_shipped_annual_plan_without_the_sheet_guards() -> None:
    shipped = load_definition(ROOT / "workflows" / "annual_plan.yaml")
    ours = load_definition(w1.WORKFLOWS / f"{w1.WORKFLOW}.yaml")
    assert ours.name == w1.WORKFLOW
    sheet_guards = {
        t.trigger: [g.name for g in t.guards if g.name in SHEET_GUARDS] for t in shipped.transitions
    }
    assert {k: v for k, v in sheet_guards.items() if v} == {
        "inspect": ["inspection_recorded"],
        "accept": ["inspection_passed"],
    }
    # Everything else as shipped (the branch told of its inspection round included):
    # W1 measures the product's lifecycle, not a cheaper one.
    assert ours.transitions == tuple(
        replace(t, guards=tuple(g for g in t.guards if g.name not in SHEET_GUARDS))
        for t in shipped.transitions
    )
    same = ("initial", "states", "roles", "creator", "timers", "schedules", "inspection")
    assert all(getattr(ours, f) == getattr(shipped, f) for f in same)


@pytest.mark.postgres
@needs_postgres
def test_cli_bench_w1_json_on_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    assert POSTGRES_URL
    assert main(["w1", "--n", "5", "--json", "--database-url", POSTGRES_URL]) == 0
    [line] = capsys.readouterr().out.splitlines()
    check_result(json.loads(line), 5, "postgresql")


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str | None]]:
    """Run the CLI's measurements in this process (no child interpreter)."""
    calls: list[tuple[int, str | None]] = []

    def measure(n: int, database_url: str | None) -> dict[str, Any]:
        calls.append((n, database_url))
        return w1.measure(n, database_url)

    monkeypatch.setattr(w1, "measure_in_child", measure)
    return calls


def test_cli_bench_w1_several_sizes(
    in_process: list[tuple[int, str | None]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["w1", "--n", "3", "--n", "4", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert in_process == [(3, None), (4, None)]
    assert [json.loads(line)["n"] for line in lines] == [3, 4]


def test_cli_bench_w1_text(
    in_process: list[tuple[int, str | None]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["w1", "--n", "3"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"W1 sqlite n=3: {w1.expected_steps(3)} steps in ")
    assert line.endswith("verified: True")


def test_cli_bench_w1_exits_1_when_not_verified(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(n: int, database_url: str | None) -> dict[str, Any]:
        return {"verified": False, "problems": ["3 of 4 plans accepted"], "n": n}

    monkeypatch.setattr(w1, "measure_in_child", broken)
    code = main(["w1", "--n", "4", "--json"])
    assert json.loads(capsys.readouterr().out)["verified"] is False
    assert code == 1
