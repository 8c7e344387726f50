"""``planflow bench``: the reference workloads, with their hand-written-SQL floors."""

from __future__ import annotations

import json

import click

from ..bench import w1, w2


@click.group()
def bench() -> None:
    """Benchmarks of shared/bench/WORKLOAD.md (figures as ratios to a floor)."""


@bench.command("w1")
@click.option(
    "--n",
    "sizes",
    type=click.IntRange(1, 1_000_000),
    multiple=True,
    help="Number of plans (repeat for several runs; default 2000).",
)
@click.option(
    "--database-url",
    "bench_url",
    default=None,
    help="Run against this database (a fresh schema is used and dropped); "
    "default: a SQLite file in a temporary folder.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per measurement.")
def bench_w1(sizes: tuple[int, ...], bench_url: str | None, as_json: bool) -> None:
    """W1: the plan approval lifecycle, one persisted step at a time."""
    failed = False
    for n in sizes or (2000,):
        result = w1.measure_in_child(n, bench_url)
        failed |= not result["verified"]
        if as_json:
            click.echo(json.dumps(result))
            continue
        click.echo(
            f"W1 {result['database']} n={n}: {result['steps']} steps in {result['seconds']} s = "
            f"{result['steps_per_second']} steps/s; floor {result['floor_steps_per_second']} "
            f"steps/s; ratio {result['ratio_to_floor']}x; peak RSS {result['peak_rss_mib']} MiB; "
            f"verified: {result['verified']}"
        )
        for problem in result["problems"]:
            click.echo(f"  problem: {problem}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


@bench.command("w2")
@click.option(
    "--m",
    "sizes",
    type=click.IntRange(1, 10_000_000),
    multiple=True,
    help="Number of plans under review (repeat for several runs; default 100000).",
)
@click.option(
    "--database-url",
    "bench_url",
    default=None,
    help="Run against this database (a fresh schema is used and dropped); "
    "default: a SQLite file in a temporary folder.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per measurement.")
def bench_w2(sizes: tuple[int, ...], bench_url: str | None, as_json: bool) -> None:
    """W2: the escalation scan, one run of the deadline processor over M plans."""
    failed = False
    for m in sizes or (100_000,):
        result = w2.measure_in_child(m, bench_url)
        failed |= not result["verified"]
        if as_json:
            click.echo(json.dumps(result))
            continue
        click.echo(
            f"W2 {result['database']} m={m}: escalated {result['escalated']} of "
            f"{result['overdue']} overdue in {result['seconds']} s; floor (hand-written SQL) "
            f"{result['floor_seconds']} s; planflow/floor {result['ratio_to_floor']}x "
            f"(target <= 5); second run escalated {result['second_run_escalated']}; "
            f"peak RSS {result['peak_rss_mib']} MiB; verified: {result['verified']}"
        )
        for problem in result["problems"]:
            click.echo(f"  problem: {problem}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


COMMANDS = [bench]
