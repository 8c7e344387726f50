"""``planflow scheduler``: run the scheduler, or one pass of it at a given time."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click

from planflow.app import Planflow
from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import parse_moment
from planflow.clock import FixedClock
from planflow.scheduling.scheduler import Scheduler
from planflow.services.simulation import FutureMomentRefused


@click.group(invoke_without_command=True)
@click.pass_context
def scheduler(click_ctx: click.Context) -> None:
    """Run the scheduler: rounds, reminders, escalations and e-mail, until stopped.

    Any number of scheduler processes may run against the same database;
    each effect happens once. Stop with Ctrl-C or SIGTERM.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.find_object(Context)
    assert ctx is not None
    ctx.creates = True  # a scheduler brings its database's schema up to date
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    pf = ctx.pf
    pf.init()
    runner = Scheduler(pf)

    def stop(signum: int, _frame: FrameType | None) -> None:
        runner.request_stop()  # first: the pass under way gives back what it claimed
        click.echo(f"scheduler {runner.worker_id}: signal {signum}, stopping", err=True)
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"scheduler {runner.worker_id} running every {runner.interval} on {pf.db.url}")
    runner.run_forever()


@scheduler.command("run-once")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="DATETIME",
    help="Process everything due at this time (e.g. 2027-04-01T08:00, UTC); default: now.",
)
@click.option(
    "--allow-future",
    is_flag=True,
    help="Allow a --now ahead of the real time on a database not marked for simulation.",
)
@pass_ctx
def run_once(ctx: Context, now_text: str | None, allow_future: bool) -> None:
    """Process everything due (at --now) once, print what was done, and exit.

    A --now in the past catches up. One ahead of the real time writes records
    dated then, so it is refused unless the database is marked for
    simulation ('planflow db mark-simulation') or --allow-future is given.
    """
    ctx.creates = True
    if now_text is None:
        pf = ctx.pf
    else:
        moment = parse_moment(now_text)
        pf = Planflow(ctx.database_url, clock=FixedClock(moment))
    try:
        pf.init()
        if now_text is not None:
            try:
                pf.check_moment(moment, allow_future=allow_future)
            except FutureMomentRefused as refused:
                raise click.BadParameter(
                    f"{refused.moment:%Y-%m-%d %H:%M} UTC is in the future "
                    f"(it is {refused.now:%Y-%m-%d %H:%M} UTC) and this database is not marked "
                    "for simulation; mark it with 'planflow db mark-simulation' if it is not "
                    "live, or give --allow-future",
                    param_hint="'--now'",
                ) from refused
        runner = Scheduler(pf)

        def stop(signum: int, _frame: FrameType | None) -> None:
            # Only flags: the pass runs on this very thread, maybe inside a transaction.
            # It ends at its next safe point and gives back what it claimed and did not do.
            runner.request_stop()
            click.echo(f"scheduler {runner.worker_id}: signal {signum}, stopping", err=True)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            report = runner.tick()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        click.echo(f"scheduler pass at {pf.clock.now():%Y-%m-%d %H:%M} UTC")
        click.echo(report.describe())
        if report.errors or report.stopped:
            raise click.exceptions.Exit(1)
    finally:
        if pf is not ctx.pf:
            pf.close()


COMMANDS = [scheduler]
