"""``planflow init``, ``planflow demo`` and ``planflow run``."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from importlib.metadata import entry_points

import click

from planflow.app import Planflow
from planflow.cli.app import Context, pass_ctx, warn_left_out
from planflow.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from planflow.scheduling.scheduler import Scheduler


@click.command()
@click.option(
    "--simulation",
    is_flag=True,
    help="Mark the database for simulation: scheduler passes may run ahead of the real time.",
)
@pass_ctx
def init(ctx: Context, simulation: bool) -> None:
    """Create the database, or upgrade it to the newest schema."""
    ctx.creates = True
    revision = ctx.pf.init()
    if simulation:
        ctx.pf.mark_simulation()
    click.echo(f"database ready at schema revision {revision}: {ctx.pf.db.url}")
    if ctx.pf.is_simulation():
        click.echo(SIMULATION_NOTE)


SIMULATION_NOTE = "marked for simulation: 'scheduler run-once --now' may run ahead of the real time"


@click.group()
def db() -> None:
    """The database itself: whether it is live or for simulation."""


@db.command("mark-simulation")
@pass_ctx
def db_mark_simulation(ctx: Context) -> None:
    """Mark the database for simulation (the demo, a rehearsal, a test copy).

    'planflow scheduler run-once --now' may then run at a moment ahead of the
    real time, writing records dated then. Never on the live database.
    """
    ctx.pf.mark_simulation()
    click.echo(SIMULATION_NOTE)


@db.command("mark-live")
@pass_ctx
def db_mark_live(ctx: Context) -> None:
    """Mark the database live again: a --now ahead of the real time is refused."""
    ctx.pf.mark_simulation(False)
    click.echo("marked live: 'scheduler run-once --now' is refused ahead of the real time")


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
    ctx.pf.mark_simulation()  # a database for trying things out
    click.echo(summary.describe())
    click.echo(SIMULATION_NOTE)
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
        pf.mark_simulation()  # a database for trying things out
        click.echo(summary.describe())
        click.echo(SIMULATION_NOTE)
    counts = pf.counts()
    click.echo(
        f"planflow is ready on {pf.db.url}: {counts['units']} units, {counts['users']} users, "
        f"{counts['plans']} plans, {counts['audit_records']} audit records."
    )
    click.echo(f"Demo logins (password {DEMO_PASSWORD}):")
    width = max(len(role) for role, _ in DEMO_LOGINS)
    for role, username in DEMO_LOGINS:
        click.echo(f"  {role:<{width}}  {username}")
    warn_left_out(pf)
    if prepare_only:
        return
    serve, missing = _web_server()
    if serve is None:
        absent = f"the web UI is not installed ({missing}; pip install 'planflow[web]' adds it)"
        if no_scheduler:
            raise click.ClickException(f"{absent}, and --no-scheduler leaves nothing to run")
        click.echo(f"{absent}: running the scheduler only (Ctrl-C stops)")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _stop_on_signals()
    scheduler = None if no_scheduler else Scheduler(pf)
    if scheduler is not None:
        scheduler.start()
        click.echo(f"scheduler {scheduler.worker_id} runs every {scheduler.interval}")
    try:
        if serve is not None:
            serve(pf, host, port)
        elif scheduler is not None:
            scheduler.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.stop()


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM (a service manager, ``docker stop``) both stop the server,
    then the scheduler, which gives its claims back. Set here, not left to Python's
    default: a process started in the background by a shell inherits SIGINT ignored,
    and Python then never raises KeyboardInterrupt; SIGTERM would kill it outright."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)


Server = Callable[[Planflow, str, int], None]


def _web_server() -> tuple[Server | None, str]:
    """The web UI's server, found by entry point so the library never imports Flask.

    ``pip install planflow`` without the ``[web]`` extra installs the web
    package's entry point but not Flask: the server is then missing, with
    what is missing said in words, not a traceback.
    """
    for entry in entry_points(group="planflow.servers"):
        if entry.name == "web":
            try:
                server: Server = entry.load()
            except ModuleNotFoundError as exc:
                return None, f"no module named {exc.name!r}"
            return server, ""
    return None, "no planflow.servers entry point named 'web'"


COMMANDS = [init, db, demo, run]
