"""``planflow tasks``, ``notifications`` and ``email-preference``: what waits for one
person, and how they want it e-mailed."""

from __future__ import annotations

import click

from planflow.cli.app import Context, pass_ctx
from planflow.services.email_preferences import EMAIL_PREFERENCES


@click.command()
@click.argument("username")
@pass_ctx
def tasks(ctx: Context, username: str) -> None:
    """The open tasks of USERNAME: escalated and overdue first, with their level."""
    pf = ctx.pf
    now = pf.clock.now()
    entries = pf.inbox.tasks(username)
    for t in entries:
        due = f"{t.due_at:%Y-%m-%d %H:%M}" if t.due_at else "no due date"
        flags = []
        if t.overdue(now):
            flags.append("OVERDUE")
        if t.level:
            flags.append(f"escalation level {t.level}")
        if t.escalated_to_me:
            flags.append("escalated to you")
        if t.on_behalf_of:
            flags.append(f"for {t.on_behalf_of}")
        click.echo(
            f"{t.plan_id:6}  {t.unit_code:14} {t.state:24} {t.role:10} due {due}"
            + (f"  [{', '.join(flags)}]" if flags else "")
            + f"  {t.title}"
        )
    if not entries:
        click.echo(f"{username} has no open tasks")


@click.command()
@click.argument("username")
@click.option("--unread", is_flag=True, help="Only unread notifications.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--mark-read", is_flag=True, help="Mark every listed notification read.")
@pass_ctx
def notifications(ctx: Context, username: str, unread: bool, limit: int, mark_read: bool) -> None:
    """The in-app notifications of USERNAME, newest first."""
    pf = ctx.pf
    entries = pf.inbox.notifications(username, unread_only=unread, limit=limit)
    for n in entries:
        p = n.payload
        what = p.get("action") or n.kind
        if n.kind == "escalate":
            what = f"escalated (level {p.get('level')}) to {p.get('unit')}"
        elif n.kind == "escalated_away":
            what = f"escalated (level {p.get('level')}) away from you to {p.get('unit')}"
        elif n.kind == "draft_ready":
            what = "the draft is ready to submit"
        elif n.kind == "visit_planned":
            what = f"inspection visit set for {p.get('visit_date') or '(no date)'}"
        elif n.kind == "remind":
            what = f"reminder: due {p.get('due_at')}"
        elif n.kind == "reroute":
            what = f"task moved to you at {p.get('unit')} (its unit moved)"
        mark = " " if n.read_at else "*"
        click.echo(
            f"{mark} {n.id:6}  {n.created_at:%Y-%m-%d %H:%M}  plan {n.plan_id}  {what}"
            f"  {p.get('title', '')}"
        )
    if not entries:
        click.echo(f"no {'unread ' if unread else ''}notifications for {username}")
    if mark_read and entries:
        count = pf.inbox.mark_read(username, [n.id for n in entries])
        click.echo(f"marked {count} notification(s) read")


@click.command("email-preference")
@click.argument("username")
@click.argument("choice", required=False, type=click.Choice(EMAIL_PREFERENCES))
@pass_ctx
def email_preference(ctx: Context, username: str, choice: str | None) -> None:
    """Show or set how USERNAME's notifications are e-mailed: immediately, a daily
    digest, or off."""
    if choice is not None:
        ctx.pf.inbox.set_email_preference(username, choice)
    click.echo(f"{username}: e-mail {ctx.pf.inbox.email_preference(username)}")


COMMANDS = [tasks, notifications, email_preference]
