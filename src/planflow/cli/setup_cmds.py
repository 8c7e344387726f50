"""``planflow init``, ``planflow demo`` and ``planflow run``."""

from __future__ import annotations

import click

from ..demo import DEMO_PASSWORD, load_demo
from .app import Context, pass_ctx


@click.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create the database, or upgrade it to the newest schema."""
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
    ctx.pf.init()
    summary = load_demo(ctx.pf, year=year)
    click.echo(summary.describe())
    click.echo(f"every demo user's password is: {DEMO_PASSWORD}")


@click.command()
@pass_ctx
def run(ctx: Context) -> None:
    """Prepare the database (demo data on first run) and show how to use it."""
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
    click.echo(
        f"Demo users (password {DEMO_PASSWORD}): fed.officer, union1.reviewer, "
        "branch1-1.drafter, branch1-1.chair, fed.inspector, admin"
    )
    click.echo("Try: planflow plans list | planflow plans show 1 | planflow audit verify")


COMMANDS = [init, demo, run]
