"""``planflow units``, ``planflow users`` and ``planflow roles``."""

from __future__ import annotations

import click

from planflow.cli.app import Context, pass_ctx


@click.group()
def units() -> None:
    """The organisation tree."""


@units.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--parent", "parent_code", help="Code of the unit above.")
@pass_ctx
def units_add(ctx: Context, code: str, name: str, parent_code: str | None) -> None:
    """Add a unit with a stable CODE and a NAME in any language."""
    with ctx.pf.session() as s:
        unit = ctx.pf.org_repo.add_unit(s, code, name, parent_code)
        click.echo(f"unit {unit.code} added (id {unit.id})")


@units.command("move")
@click.argument("code")
@click.option("--parent", "parent_code", help="New unit above (omit for a root).")
@click.option(
    "--as",
    "actor",
    default=None,
    metavar="USER",
    help="Move it as this administrator (their rights apply; recorded on the plans).",
)
@pass_ctx
def units_move(ctx: Context, code: str, parent_code: str | None, actor: str | None) -> None:
    """Move a unit (and everything below it) under another unit.

    The open tasks of its plans are sent by the new tree in the same
    transaction, as when an admin moves it on the web; each re-routing is on
    the plan's audit trail. Moving a unit to the parent it has re-routes
    whatever was left.
    """
    moved = ctx.pf.org.move_unit(code, parent_code, actor=actor)
    click.echo(f"unit {code} moved under {parent_code or '(top)'}")
    if moved.rerouted:
        plans = ", ".join(str(p) for p in moved.rerouted)
        click.echo(
            f"open tasks routed again by the new tree: {len(moved.rerouted)} (plans {plans})"
        )


@units.command("list")
@pass_ctx
def units_list(ctx: Context) -> None:
    """Print the tree, indented."""
    snap = ctx.pf.org_snapshot()
    roots = sorted(u.id for u in snap.units.values() if u.parent_id is None)

    def show(unit_id: int, depth: int) -> None:
        u = snap.unit(unit_id)
        click.echo(f"{'  ' * depth}{u.code}  {u.name}")
        for child in sorted(c.id for c in snap.units.values() if c.parent_id == unit_id):
            show(child, depth + 1)

    for root in roots:
        show(root, 0)


@click.group()
def users() -> None:
    """People who use planflow."""


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--email", default="", help="E-mail address for notifications.")
@click.option("--language", type=click.Choice(["en", "zh", "ko"]), default="en")
@click.option("--password", default=None, help="Initial password (at least 8 characters).")
@pass_ctx
def users_add(
    ctx: Context, username: str, display_name: str, email: str, language: str, password: str | None
) -> None:
    """Add a user."""
    with ctx.pf.session() as s:
        user = ctx.pf.org_repo.add_user(
            s, username, display_name, email=email, language=language, password=password
        )
        click.echo(f"user {user.username} added (id {user.id})")


@users.command("list")
@pass_ctx
def users_list(ctx: Context) -> None:
    """List users."""
    for u in ctx.pf.org.users():
        flag = "" if u.active else "  (inactive)"
        click.echo(f"{u.username:24} {u.display_name}  <{u.email}> [{u.language}]{flag}")


@users.command("deactivate")
@click.argument("username")
@pass_ctx
def users_deactivate(ctx: Context, username: str) -> None:
    """Deactivate a user: they can no longer act or sign in."""
    with ctx.pf.session() as s:
        ctx.pf.org_repo.set_active(s, username, False)
    click.echo(f"user {username} deactivated")


@users.command("activate")
@click.argument("username")
@pass_ctx
def users_activate(ctx: Context, username: str) -> None:
    """Re-activate a user."""
    with ctx.pf.session() as s:
        ctx.pf.org_repo.set_active(s, username, True)
    click.echo(f"user {username} activated")


@users.command("set-password")
@click.argument("username")
@click.password_option()
@pass_ctx
def users_set_password(ctx: Context, username: str, password: str) -> None:
    """Set a user's password (ends their other sessions)."""
    with ctx.pf.session() as s:
        ctx.pf.org_repo.set_password(s, username, password)
    click.echo(f"password of {username} changed")


@click.group()
def roles() -> None:
    """Who holds which role at which unit."""


@roles.command("assign")
@click.argument("username")
@click.argument("role")
@click.argument("unit_code")
@pass_ctx
def roles_assign(ctx: Context, username: str, role: str, unit_code: str) -> None:
    """Give USERNAME the ROLE at UNIT_CODE."""
    known = tuple(sorted({r for spec in ctx.pf.registry.all() for r in spec.roles}))
    ctx.pf.org.assign_role(username, role, unit_code, known_roles=known)
    click.echo(f"{username} is {role} at {unit_code}")


@roles.command("revoke")
@click.argument("username")
@click.argument("role")
@click.argument("unit_code")
@pass_ctx
def roles_revoke(ctx: Context, username: str, role: str, unit_code: str) -> None:
    """Take the ROLE at UNIT_CODE away from USERNAME."""
    ctx.pf.org.revoke_role(username, role, unit_code)
    click.echo(f"{username} is no longer {role} at {unit_code}")


@roles.command("list")
@click.option("--unit", "unit_code", help="Only this unit.")
@pass_ctx
def roles_list(ctx: Context, unit_code: str | None) -> None:
    """List role assignments."""
    for r in ctx.pf.org.roles(unit=unit_code):
        click.echo(f"{r.unit:16} {r.role:12} {r.username}")


COMMANDS = [units, users, roles]
