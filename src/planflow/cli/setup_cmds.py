"""``planflow init``, ``planflow demo`` and ``planflow run``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points

import click

from planflow.app import Planflow
from planflow.cli.app import Context, pass_ctx, warn_left_out
from planflow.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from planflow.scheduling.scheduler import Scheduler


@click.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create the database, or upgrade it to the newest schema."""
    ctx.creates = True
    revision = ctx.pf.init()
    click.echo(f"database ready at schema revision {revision}: {ctx.pf.db.url}")


@click.command()
@click.option(
    "--year",
    type=click.IntRange(2000, 2100),
    default=None,
    help="Plan year of the demo (default: the current year).",
)
@pass_ctx
def demo(ctx: Context, year: int | None) -> None:
    """Load the demo federation: units, users for every role, plans in every state."""
    ctx.creates = True
    ctx.pf.init()
    summary = load_demo(ctx.pf, year=year)
    click.echo(summary.describe())
    click.echo(f"every demo user's password is: {DEMO_PASSWORD}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option(
    "--no-scheduler", is_flag=True, help="Do not run the embedded scheduler (one runs elsewhere)."
)
@click.option("--prepare-only", is_flag=True, help="Prepare the database and demo data, then exit.")
@pass_ctx
def run(ctx: Context, host: str, port: int, no_scheduler: bool, prepare_only: bool) -> None:
    """Run planflow on one machine: database, demo data, web UI and scheduler.

    The database is created or upgraded, the demo federation is loaded on
    the first run, a scheduler runs inside this process, and the web UI is
    served until Ctrl-C. For several workers and hosts, see the README's
    deployment section (gunicorn, and ``planflow scheduler`` on its own).
    """
    ctx.creates = True
    pf = ctx.pf
    pf.init()
    if pf.counts()["units"] == 0:
        summary = load_demo(pf)
        click.echo(summary.describe())
    counts = pf.counts()
    click.echo(
        f"planflow is ready on {pf.db.url}: {counts['units']} units, {counts['users']} users, "
        f"{counts['plans']} plans, {counts['audit_records']} audit records."
    )
    click.echo(f"Demo logins (password {DEMO_PASSWORD}):")
    for role, username in DEMO_LOGINS:
        click.echo(f"  {role:<28} {username}")
    warn_left_out(pf)
    if prepare_only:
        return
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    scheduler = None if no_scheduler else Scheduler(pf)
    if scheduler is not None:
        scheduler.start()
        click.echo(f"scheduler {scheduler.worker_id} runs every {scheduler.interval}")
    try:
        serve = _web_server()
        if serve is None:
            click.echo("the web UI is not installed: running the scheduler only (Ctrl-C stops)")
            if scheduler is None:
                return
            scheduler.run_forever()
        else:
            serve(pf, host, port)
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.stop()


def _web_server() -> Callable[[Planflow, str, int], None] | None:
    """The web UI's server, found by entry point so the library never imports Flask."""
    for entry in entry_points(group="planflow.servers"):
        if entry.name == "web":
            server: Callable[[Planflow, str, int], None] = entry.load()
            return server
    return None


COMMANDS = [init, demo, run]
