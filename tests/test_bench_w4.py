"""W4 (``python -m bench w4``) runs end to end: gunicorn, a reviewer's bearer token, wrk.

A short run on SQLite and PostgreSQL: both API endpoints answer 200 to
every request (anything else counts as an error and fails the run), and the
figures are there. The figures themselves are the benchmark's business.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bench import w4
from bench.cli import main

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed: W4 SKIPPED"),
]


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
def test_w4_serves_both_endpoints_without_errors(url: str | None) -> None:
    result = w4.measure(600, url, seconds=1, workers=2, threads=2, warm_up=0)
    assert result["errors"] == 0, result
    for name in ("bare", "trivial", "api_list", "api_plan"):
        assert result["pages"][name]["requests"] > 0
    assert set(result["ratio_to_trivial"]) == {"api_list", "api_plan"}


def test_cli_bench_w4_reports_the_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["w4", "--plans", "600", "--seconds", "1", "--workers", "2", "--warm-up", "0"]) == 0
    out = capsys.readouterr().out
    for page in ("/healthz", "/about/", "/api/v1/plans", "/api/v1/plans/<random>", "targets met"):
        assert page in out
