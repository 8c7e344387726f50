"""The delivery bench runs, on both databases, and checks what it measured.

Small sizes only: the figures are the bench's business, not the suite's; what
is checked here is that every configuration delivers each event exactly once
(the receiver in its own process counts them) and that the CLI prints each.
"""

from __future__ import annotations

import os

import pytest

from bench import deliveries
from bench.cli import main

POSTGRES_URL = os.environ.get("PLANFLOW_TEST_POSTGRES_URL")


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
def test_every_configuration_delivers_each_event_once(url: str | None) -> None:
    result = deliveries.measure(60, url)
    assert result["verified"] and result["problems"] == [], result
    assert [(r["pool"], r["batch"]) for r in result["runs"]] == list(deliveries.CONFIGS)
    assert all(r["delivered"] == 60 and r["per_second"] > 0 for r in result["runs"])
    assert result["runs"][0]["ratio"] == 1.0


def test_cli_bench_deliveries_reports_each_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["deliveries", "--n", "30", "--latency-ms", "1"]) == 0
    out = capsys.readouterr().out
    assert "receiver latency 1 ms" in out
    assert out.count("verified: True") == len(deliveries.CONFIGS)
