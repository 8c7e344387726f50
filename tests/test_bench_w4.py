"""W4 (``python -m bench w4``) runs end to end: gunicorn, a reviewer's bearer token, wrk.

A short run on SQLite and PostgreSQL, started by the command: both API
endpoints answer 200 to every request (anything else counts as an error and
fails the run), the figures are there, and the command prints each endpoint.
The figures themselves are the benchmark's business.

One run per database checks both the measurement and the command's report
(a spy keeps what ``w4.measure`` returned to the command).
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from bench import w4
from bench.cli import main

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed: W4 SKIPPED"),
]


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What each ``w4.measure`` the command runs returned (the real measurement)."""
    results: list[dict[str, Any]] = []
    real = w4.measure

    def recording(*args: Any, **kwargs: Any) -> dict[str, Any]:
        result = real(*args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(w4, "measure", recording)
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
def test_cli_bench_w4_serves_both_endpoints_without_errors(
    url: str | None, measured: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["w4", "--plans", "600", "--seconds", "2", "--workers", "2", "--threads", "2"]
    argv += ["--warm-up", "0", *(["--database-url", url] if url else [])]
    assert main(argv) == 0
    [result] = measured
    assert result["errors"] == 0, result
    assert result["database"] == ("postgresql" if url else "sqlite")
    assert (result["plans"], result["workers"], result["threads"]) == (600, 2, 2)
    for name in ("bare", "trivial", "api_list", "api_plan"):
        assert result["pages"][name]["requests"] > 0
    assert set(result["ratio_to_trivial"]) == {"api_list", "api_plan"}
    out = capsys.readouterr().out
    for page in ("/healthz", "/about/", "/api/v1/plans", "/api/v1/plans/<random>", "targets met"):
        assert page in out
