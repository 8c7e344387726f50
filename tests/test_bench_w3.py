"""W3 (``python -m bench w3``) runs end to end: gunicorn, a signed-in reviewer, wrk.

A short run (a hundred plans, one second per page, no warm-up) on SQLite and
PostgreSQL: every page answers 200 to every request (the Lua script counts
anything else as an error, so a session that fell back to the sign-in page
fails the run), and the figures are there. The figures themselves are the
benchmark's business, not the test's.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bench import w3
from bench.cli import main

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed: W3 SKIPPED"),
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
def test_w3_serves_every_page_without_errors(url: str | None) -> None:
    # A second of warm-up: on a loaded machine a cold worker may not answer within the first.
    result = w3.measure(100, url, seconds=1, workers=2, threads=2, warm_up=1)
    assert result["errors"] == 0, result
    assert result["queue_size"] == 10  # one union of ten: a tenth of the plans
    for name in ("bare", "trivial", "review_queue", "plan_page"):
        assert result["pages"][name]["requests"] > 0
    assert set(result["ratio_to_trivial"]) == {"review_queue", "plan_page"}


def test_cli_bench_w3_reports_the_pages(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["w3", "--plans", "100", "--seconds", "1", "--warm-up", "0", "--workers", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for page in ("/healthz", "/about/", "/reviews/", "/plans/<random>", "targets met"):
        assert page in out
