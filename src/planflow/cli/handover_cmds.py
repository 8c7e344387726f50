"""``planflow plans transfer|add-approver|cc``: hand a task on, add an approver, copy people.

Thin over ``Planflow.transfer``, ``add_approver`` and ``cc``; a refusal is
one line on standard error, as for every command (``cli.app``).
"""

from __future__ import annotations

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID
from planflow.cli.plan_cmds import plans
from planflow.core.definitions.spec import ADD_APPROVER_MODES

COMMANDS: list[click.Command] = []  # the commands join the ``plans`` group below


@plans.command("transfer")
@click.argument("plan_id", type=ID)
@click.argument("to")
@click.option("--as", "actor", required=True, help="Username of whoever holds the task.")
@click.option("--comment", default=None, help="Why it is handed on (optional).")
@pass_ctx
def plans_transfer(ctx: Context, plan_id: int, to: str, actor: str, comment: str | None) -> None:
    """Hand the plan's task to TO (转交); the definition says who may take it."""
    ctx.pf.transfer(plan_id, actor, to, comment)
    click.echo(f"plan {plan_id}: transferred from {actor} to {to}")


@plans.command("add-approver")
@click.argument("plan_id", type=ID)
@click.argument("user")
@click.option(
    "--mode",
    type=click.Choice(ADD_APPROVER_MODES),
    required=True,
    help="before: USER decides first; after: after your approval; alongside: both must approve.",
)
@click.option("--as", "actor", required=True, help="Username of whoever holds the task.")
@click.option("--comment", default=None, help="A word to the person added (optional).")
@pass_ctx
def plans_add_approver(
    ctx: Context, plan_id: int, user: str, mode: str, actor: str, comment: str | None
) -> None:
    """Add USER as an approver of the plan's task (加签)."""
    ctx.pf.add_approver(plan_id, actor, user, mode, comment)
    click.echo(f"plan {plan_id}: {user} added {mode} {actor}")


@plans.command("cc")
@click.argument("plan_id", type=ID)
@click.argument("users", nargs=-1, required=True)
@click.option("--as", "actor", required=True, help="Username of whoever holds the task.")
@click.option("--comment", default=None, help="A word to the people copied (optional).")
@pass_ctx
def plans_cc(
    ctx: Context, plan_id: int, users: tuple[str, ...], actor: str, comment: str | None
) -> None:
    """Copy USERS on the plan (抄送): they are told and may read it until it ends."""
    done = ctx.pf.cc(plan_id, actor, list(users), comment)
    click.echo(f"plan {plan_id}: copied {', '.join(done.notified)}")


@plans.command("cc-receipts")
@click.argument("plan_id", type=ID)
@click.option("--as", "as_user", default=None, help="Only if this user may see the plan.")
@pass_ctx
def plans_cc_receipts(ctx: Context, plan_id: int, as_user: str | None) -> None:
    """Who was copied on the plan, by whom, and when they read it."""
    for r in ctx.pf.cc_receipts(plan_id, as_user=as_user):
        read = r.read_at.isoformat() if r.read_at else "unread"
        click.echo(f"{r.user}\t{r.added_by or '(definition)'}\t{read}")
