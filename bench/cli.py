"""``python -m bench``: the reference workloads, with their hand-written-SQL floors.

Run from a checkout (the package is not installed), against the planflow
installed in the same environment. Each size is measured in a child process.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from bench import deliveries, soak, soak_faults, w1, w2, w3, w4

Measure = Callable[[int, str | None], dict[str, Any]]

database_option = click.option(
    "--database-url",
    "bench_url",
    default=None,
    help="Run against this database (a fresh schema is used and dropped); "
    "default: a SQLite file in a temporary folder.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per measurement."
)


def _report(
    sizes: tuple[int, ...],
    bench_url: str | None,
    as_json: bool,
    measure: Measure,
    describe: Callable[[int, dict[str, Any]], str],
) -> None:
    """Measure each size in a child process; exit 1 if any run failed verification."""
    failed = False
    for size in sizes:
        result = measure(size, bench_url)
        failed |= not result["verified"]
        if as_json:
            click.echo(json.dumps(result))
            continue
        click.echo(describe(size, result))
        for problem in result["problems"]:
            click.echo(f"  problem: {problem}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@database_option
@json_option
def bench_w1(sizes: tuple[int, ...], bench_url: str | None, as_json: bool) -> None:
    """W1: the plan approval lifecycle, one persisted step at a time."""

    def describe(n: int, r: dict[str, Any]) -> str:
        return (
            f"W1 {r['database']} n={n}: {r['steps']} steps in {r['seconds']} s = "
            f"{r['steps_per_second']} steps/s; floor {r['floor_steps_per_second']} "
            f"steps/s; ratio {r['ratio_to_floor']}x (bare transitions on the same SQL: "
            f"{r['reference_ratio_to_floor']}x); peak RSS {r['peak_rss_mib']} MiB; "
            f"verified: {r['verified']}"
        )

    _report(sizes or (2000,), bench_url, as_json, w1.measure_in_child, describe)


@bench.command("w2")
@click.option(
    "--m",
    "sizes",
    type=click.IntRange(1, 10_000_000),
    multiple=True,
    help="Number of plans under review (repeat for several runs; default 100000).",
)
@database_option
@json_option
def bench_w2(sizes: tuple[int, ...], bench_url: str | None, as_json: bool) -> None:
    """W2: the escalation scan, one run of the deadline processor over M plans."""

    def describe(m: int, r: dict[str, Any]) -> str:
        return (
            f"W2 {r['database']} m={m}: escalated {r['escalated']} of "
            f"{r['overdue']} overdue in {r['seconds']} s; floor (hand-written SQL) "
            f"{r['floor_seconds']} s; planflow/floor {r['ratio_to_floor']}x "
            f"(target <= 5); second run escalated {r['second_run_escalated']}; "
            f"peak RSS {r['peak_rss_mib']} MiB; verified: {r['verified']}"
        )

    _report(sizes or (100_000,), bench_url, as_json, w2.measure_in_child, describe)


def server_options(command: Any) -> Any:
    """The options W3 and W4 share: population, duration, gunicorn, database, JSON."""
    for option in reversed(
        [
            click.option(
                "--plans", type=click.IntRange(10, 1_000_000), default=10_000, show_default=True
            ),
            click.option(
                "--seconds", type=click.IntRange(1, 3600), default=30, show_default=True,
                help="Per page.",
            ),
            click.option(
                "--workers", type=click.IntRange(0, 64), default=0,
                help="gunicorn workers (0: 2 x CPUs + 1).",
            ),
            click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True),
            click.option(
                "--warm-up", type=click.IntRange(0, 600), default=w3.WARM_UP_SECONDS,
                show_default=True,
                help="Seconds of load before each page's measurement, not counted (0: none).",
            ),
            database_option,
            json_option,
        ]
    ):  # fmt: skip
        command = option(command)
    return command


def _serve_and_report(
    measure: Callable[..., dict[str, Any]], header: str, target: float, as_json: bool, **args: Any
) -> None:
    """Run W3 or W4 and print its pages (or the JSON); exit 1 on any error."""
    try:
        r = measure(args.pop("plans"), args.pop("bench_url"), **args)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(r))
    else:
        click.echo(header.format(**r))
        for name, p in r["pages"].items():
            ratio = r["ratio_to_trivial"].get(name)
            bare = r.get("ratio_to_bare", {}).get(name)
            click.echo(
                f"  {name:13} {p['path']:24} {p['requests_per_second']:8.1f} req/s  "
                f"p50 {p['p50_ms']:.1f} ms  p95 {p['p95_ms']:.1f} ms  p99 {p['p99_ms']:.1f} ms  "
                f"errors {p['errors']}"
                + (f"  {ratio}x trivial (target >= {target})" if ratio else "")
                + (f"  {bare}x bare" if bare else "")
            )
        click.echo(f"  targets met: {r['targets_met']}")
    if not r["verified"]:
        raise click.exceptions.Exit(1)


@bench.command("w3")
@server_options
def bench_w3(as_json: bool, **args: Any) -> None:
    """W3: the review queue and plan page under 32 clients, against gunicorn (needs wrk).

    Run it against PostgreSQL (--database-url), the production setup.
    """
    header = (
        "W3 {database} plans={plans} (queue of {queue_size}), gunicorn {workers} workers x "
        "{threads} threads, {connections} clients, {seconds_per_page} s per page:"
    )
    _serve_and_report(w3.measure, header, 0.3, as_json, **args)


@bench.command("w4")
@server_options
def bench_w4(as_json: bool, **args: Any) -> None:
    """W4: the JSON API (list and one plan) under 32 clients with a bearer token (needs wrk).

    Run it against PostgreSQL (--database-url), the production setup.
    """
    header = (
        "W4 {database} plans={plans} ({visible} the reviewer's), gunicorn {workers} workers x "
        "{threads} threads, {connections} clients, {seconds_per_page} s per endpoint:"
    )
    _serve_and_report(w4.measure, header, w4.TARGET, as_json, **args)


@bench.command("soak")
@click.option("--minutes", type=click.FloatRange(0.1, 24 * 60), default=10, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=3, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--clients", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option(
    "--plans", type=click.IntRange(1, 100_000), default=200, show_default=True,
    help="Reviews seeded to fall due over the run (the schedulers remind and escalate them).",
)  # fmt: skip
@click.option(
    "--faults-every", type=click.FloatRange(0, 3600), default=0, show_default=True,
    help="Seconds between injected faults (0: none); the kinds in --faults, in turn.",
)  # fmt: skip
@click.option(
    "--faults", "fault_kinds", default=None,
    help="Comma-separated, from: worker (SIGKILL a gunicorn worker), scheduler (SIGKILL a "
    "scheduler, started again after 1 s), backends (pg_terminate_backend of the run's "
    "connections), restart (PostgreSQL restarted, down 2 s; needs --own-postgres). "
    "Default: every kind this database allows.",
)  # fmt: skip
@click.option(
    "--own-postgres", is_flag=True,
    help="Run on a PostgreSQL cluster of its own (initdb in a temporary folder), which "
    "the restart fault may restart; instead of --database-url.",
)  # fmt: skip
@database_option
def bench_soak(
    minutes: float,
    workers: int,
    threads: int,
    clients: int,
    plans: int,
    faults_every: float,
    fault_kinds: str | None,
    own_postgres: bool,
    bench_url: str | None,
) -> None:
    """The production set-up (gunicorn + 2 schedulers) under a mixed API load for N
    minutes, then the invariants; prints one JSON object. Run it against PostgreSQL
    (--database-url, or --own-postgres).

    With --faults-every, faults are injected while the load runs. Exit 1 on any
    problem in the invariants, any 5xx but a 503, or any error no fault explains
    (without faults: any error at all).
    """
    if own_postgres and bench_url is not None:
        raise click.UsageError("--own-postgres and --database-url: give one of them")
    if fault_kinds is None:
        postgres = own_postgres or (bench_url or "").startswith("postgres")
        kinds = [k for k in soak.ALL_FAULTS if postgres or k not in soak_faults.DATABASE_KINDS]
        kinds = [k for k in kinds if own_postgres or k != "restart"]
    else:
        kinds = [k.strip() for k in fault_kinds.split(",") if k.strip()]
    try:
        r = soak.run(bench_url, minutes, workers, threads, clients, plans,
                     faults_every=faults_every, faults=kinds,
                     own_postgres=own_postgres)  # fmt: skip
    except soak_faults.FaultNotPossible as refused:
        raise click.UsageError(str(refused)) from refused
    click.echo(json.dumps(r, indent=1))
    if r["problems"] or r["server_errors_not_503"] or r["errors_no_fault_explains"]:
        raise click.exceptions.Exit(1)


@bench.command("deliveries")
@click.option(
    "--n",
    "sizes",
    type=click.IntRange(1, 1_000_000),
    multiple=True,
    help="Deliveries in the outbox (repeat for several runs; default 1000).",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(0, 10_000),
    default=0,
    show_default=True,
    help="The receiver answers this late (a receiver across a network: tens of ms).",
)
@database_option
@json_option
def bench_deliveries(
    sizes: tuple[int, ...], latency_ms: int, bench_url: str | None, as_json: bool
) -> None:
    """Webhook deliveries per second to a local receiver: one at a time against pooled.

    Pooling is PostgreSQL's (--database-url); on SQLite every run is one at a time.
    """

    def describe(n: int, r: dict[str, Any]) -> str:
        lines = [f"deliveries {r['database']} n={n}, receiver latency {r['latency_ms']} ms:"]
        for run in r["runs"]:
            lines.append(
                f"  pool {run['pool']} batch {run['batch']}: {run['per_second']}/s "
                f"({run['seconds']} s), {run['ratio']}x pool 1; verified: {run['verified']}"
            )
        return "\n".join(lines)

    def measure(n: int, url: str | None) -> dict[str, Any]:
        return deliveries.measure(n, url, latency_ms)

    _report(sizes or (1000,), bench_url, as_json, measure, describe)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (errors as one line on stderr)."""
    try:
        # Without standalone mode click *returns* the code of a raised Exit.
        result = bench.main(args=argv, prog_name="python -m bench", standalone_mode=False)
    except click.UsageError as exc:
        if exc.ctx is not None and not (argv if argv is not None else sys.argv[1:]):
            click.echo(exc.ctx.get_help(), err=True)  # bare "python -m bench": the help
            return 2
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        click.echo(f"bench: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("bench: aborted", err=True)
        return 1
    except click.ClickException as exc:
        click.echo(f"bench: error: {exc.format_message()}", err=True)
        return exc.exit_code
    return result if isinstance(result, int) else 0
