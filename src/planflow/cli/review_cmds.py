"""``planflow plans return-to`` and ``planflow plans bulk``: a reviewer's gestures.

Return to a chosen earlier step, and approve or return several plans of the
review queue at once (each plan its own transition; one line per plan).
"""

from __future__ import annotations

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID, expected_version_option
from planflow.cli.plan_cmds import plans
from planflow.errors import NotFound
from planflow.services.bulk import BULK_ACTIONS, check_selection

COMMANDS: list[click.Command] = []  # the commands join the ``plans`` group below


@plans.command("return-to")
@click.argument("plan_id", type=ID)
@click.argument("state")
@click.option("--as", "actor", required=True, help="Username of a holder of the plan's task.")
@click.option("--comment", required=True, help="Why the plan goes back (required).")
@expected_version_option
@pass_ctx
def plans_return_to(
    ctx: Context,
    plan_id: int,
    state: str,
    actor: str,
    comment: str,
    expected_version: int | None,
) -> None:
    """Send a plan back to an earlier STATE its definition allows (allows: return_to)."""
    done = ctx.pf.return_to(plan_id, state, actor, comment, expected_version)
    click.echo(f"plan {plan_id}: return_to -> {done.to_state}")


def _item(text: str) -> tuple[int, int]:
    """``PLAN@VERSION`` (the version the reviewer saw) or ``PLAN`` (its current one)."""
    plan, _, version = text.partition("@")
    try:
        return int(plan), int(version) if version else -1
    except ValueError:
        raise click.BadParameter(f"{text!r} is not PLAN or PLAN@VERSION") from None


def _current_version(ctx: Context, plan_id: int, actor: str) -> int:
    """Without @VERSION: the version the plan has now (no check against an earlier
    look); a plan the reviewer may not see is left to the library to refuse."""
    try:
        return ctx.pf.plan(plan_id, as_user=actor).version
    except NotFound:
        return 0


@plans.command("bulk")
@click.argument("action", type=click.Choice(BULK_ACTIONS))
@click.argument("items", nargs=-1, required=True)
@click.option("--as", "actor", required=True, help="Username of the reviewer.")
@click.option("--comment", default=None, help="One comment for every plan (required to return).")
@click.option("--to", "return_to", default=None, help="return: the earlier state to send back to.")
@pass_ctx
def plans_bulk(
    ctx: Context,
    action: str,
    items: tuple[str, ...],
    actor: str,
    comment: str | None,
    return_to: str | None,
) -> None:
    """Approve or return several plans (PLAN@VERSION ...), each on its own: one line
    per plan, done or refused; exit 1 if any was refused."""
    selection = [_item(text) for text in items]
    check_selection([(p, max(v, 0)) for p, v in selection], action)
    pinned = [(p, v if v >= 0 else _current_version(ctx, p, actor)) for p, v in selection]
    outcomes = ctx.pf.bulk(pinned, action, actor, comment, return_to=return_to)
    for o in outcomes:
        if o.done:
            click.echo(f"plan {o.plan_id}: {action} -> {o.to_state}")
        else:
            click.echo(f"planflow: error: plan {o.plan_id}: {o.message}", err=True)
    if any(not o.done for o in outcomes):
        raise click.exceptions.Exit(1)
