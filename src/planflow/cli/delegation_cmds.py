"""``planflow delegations add|list|end``: deputies for people who are away (委托).

Thin over ``Planflow.delegations``; dates are the organisation's days
(``PLANFLOW_TIMEZONE``) as ``YYYY-MM-DD``, checked by the library so a bad
one is refused with the same code as in the web UI and the API.
"""

from __future__ import annotations

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID
from planflow.views import DelegationView


@click.group("delegations")
def delegations() -> None:
    """A deputy who acts for someone away, for a range of days (委托)."""


COMMANDS: list[click.Command] = [delegations]


def _line(d: DelegationView) -> str:
    scope = ", ".join(p for p in (d.workflow, d.role) if p) or "all tasks"
    return (
        f"{d.id:6}  {d.delegator} -> {d.deputy}  {d.starts_on} .. {d.ends_on}  "
        f"{d.status:9}  {scope}" + (f"  ({d.reason})" if d.reason else "")
    )


@delegations.command("add")
@click.argument("deputy")
@click.option("--as", "actor", required=True, help="Your username.")
@click.option("--from", "starts_on", required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "ends_on", required=True, help="Last day (YYYY-MM-DD), included.")
@click.option("--for", "for_user", default=None, help="An admin: whom the deputy acts for.")
@click.option("--workflow", default=None, help="Only the tasks of this workflow.")
@click.option("--role", default=None, help="Only the tasks waiting for this role.")
@click.option("--reason", default=None, help="Why (optional; shown to the deputy).")
@pass_ctx
def delegations_add(
    ctx: Context,
    deputy: str,
    actor: str,
    starts_on: str,
    ends_on: str,
    for_user: str | None,
    workflow: str | None,
    role: str | None,
    reason: str | None,
) -> None:
    """Name DEPUTY to act for you (or, as an admin, for --for) from --from to --to."""
    done = ctx.pf.delegations.add(
        actor,
        deputy,
        starts_on,
        ends_on,
        for_user=for_user,
        workflow=workflow,
        role=role,
        reason=reason,
    )
    click.echo(
        f"delegation {done.id}: {done.deputy} acts for {done.delegator} "
        f"from {done.starts_on} to {done.ends_on}"
    )


@delegations.command("list")
@click.option("--as", "actor", required=True, help="Your username.")
@click.option("--for", "for_user", default=None, help="An admin: whose delegations.")
@pass_ctx
def delegations_list(ctx: Context, actor: str, for_user: str | None) -> None:
    """The delegations you (or --for) gave or received, the latest first."""
    for d in ctx.pf.delegations.list(actor, for_user=for_user):
        click.echo(_line(d))


@delegations.command("end")
@click.argument("delegation_id", type=ID)
@click.option("--as", "actor", required=True, help="Your username.")
@pass_ctx
def delegations_end(ctx: Context, delegation_id: int, actor: str) -> None:
    """End a delegation now: open tasks are the delegator's alone again."""
    if ctx.pf.delegations.end(actor, delegation_id):
        click.echo(f"delegation {delegation_id}: ended")
    else:
        click.echo(f"delegation {delegation_id}: had ended already")
