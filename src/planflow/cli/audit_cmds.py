"""``planflow audit``: verify, checkpoint and export the trail."""

from __future__ import annotations

import sys

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID
from planflow.storage import audit_repo


@click.group()
def audit() -> None:
    """The verifiable audit trail."""


@audit.command("verify")
@pass_ctx
def audit_verify(ctx: Context) -> None:
    """Check every chain and checkpoint; name the first record that was tampered with."""
    report = audit_repo.verify(ctx.pf.db)
    click.echo(
        f"checked {report.records} records of {report.plans} plans "
        f"and {report.checkpoints} checkpoints"
    )
    if report.ok:
        click.echo("audit trail OK")
        return
    click.echo(f"audit trail BROKEN: {report.first_problem}", err=True)
    for problem in report.problems[1:10]:
        click.echo(f"  also: {problem}", err=True)
    raise click.exceptions.Exit(1)


@audit.command("checkpoint")
@pass_ctx
def audit_checkpoint(ctx: Context) -> None:
    """Anchor every plan's chain head; print the checkpoint hash to keep elsewhere."""
    cp = audit_repo.checkpoint(ctx.pf.db, ctx.pf.clock.now())
    click.echo(
        f"checkpoint #{cp.id} over {cp.plan_count} plans, {cp.record_count} records: {cp.hash}"
    )


@audit.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--plan", "plan_id", type=ID, default=None, help="Only this plan.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output).",
)
@pass_ctx
def audit_export(ctx: Context, fmt: str, plan_id: int | None, output: str | None) -> None:
    """Write the trail as JSON lines or CSV."""
    records = audit_repo.iter_records(ctx.pf.db, plan_id)
    if output is None:
        audit_repo.export(records, sys.stdout, fmt)
        return
    with open(output, "w", encoding="utf-8", newline="") as out:
        count = audit_repo.export(records, out, fmt)
    click.echo(f"{count} records written to {output}", err=True)


COMMANDS = [audit]
