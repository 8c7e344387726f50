"""W3 (``python -m bench w3``) runs end to end: gunicorn, a signed-in reviewer, wrk.

A short run (a hundred plans, two seconds per page; a second of warm-up on SQLite) on
SQLite and PostgreSQL, started by the command: every page answers 200 to
every request (the Lua script counts anything else as an error, so a session
that fell back to the sign-in page fails the run), the figures are there, and
the command prints each page. The figures themselves are the benchmark's
business, not the test's.

One run per database checks both the measurement and the command's report
(a spy keeps what ``w3.measure`` returned to the command): a run costs a
population, a gunicorn and eight to twelve seconds of wrk on both cores (one second per
page measured nothing on a busy machine: no request finished within it). The
warm-up (``--warm-up``, a second of wrk per page before the two measured) runs on
SQLite only, so that its path is still run and checked: on PostgreSQL, as in W4,
the two measured seconds include a cold worker's first answers (every page answered
within them in 5 of 5 runs with the machine's load at 1 to 7), which spares four
seconds of wrk on both cores.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from bench import w3
from bench.cli import main

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed: W3 SKIPPED"),
]


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What each ``w3.measure`` the command runs returned (the real measurement)."""
    results: list[dict[str, Any]] = []
    real = w3.measure

    def recording(*args: Any, **kwargs: Any) -> dict[str, Any]:
        result = real(*args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(w3, "measure", recording)
    return results


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(None, id="sqlite"),
        pytest.param(
            POSTGRES_URL,
            id="postgresql",
            marks=pytest.mark.skipif(POSTGRES_URL is None, reason="no PostgreSQL"),
        ),
    ],
)
def test_cli_bench_w3_serves_every_page_without_errors(
    url: str | None, measured: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    warm_up = 0 if url else 1
    argv = ["w3", "--plans", "100", "--seconds", "2", "--warm-up", str(warm_up)]
    argv += ["--workers", "2", "--threads", "2", *(["--database-url", url] if url else [])]
    assert main(argv) == 0
    [result] = measured
    assert result["errors"] == 0, result
    assert result["database"] == ("postgresql" if url else "sqlite")
    assert (result["plans"], result["workers"], result["threads"]) == (100, 2, 2)
    assert (result["seconds_per_page"], result["warm_up_seconds"]) == (2, warm_up)
    assert result["queue_size"] == 10  # one union of ten: a tenth of the plans
    for name in ("bare", "trivial", "review_queue", "plan_page"):
        assert result["pages"][name]["requests"] > 0
    assert set(result["ratio_to_trivial"]) == {"review_queue", "plan_page"}
    out = capsys.readouterr().out
    for page in ("/healthz", "/about/", "/reviews/", "/plans/<random>", "targets met"):
        assert page in out
