"""``planflow feeds``: calendar feed addresses (iCalendar) of a person or of a unit.

The same library calls as the web page "API tokens and calendars"
(``pf.feeds``): ``create`` makes an address for a person's own feed (their
tasks, their units' plan items, inspections, round dates) or, with
``--unit``, for a unit's plans as that person sees them; ``list`` shows a
person's addresses (without their secrets); ``revoke`` ends one.

``create`` prints the address alone on standard output (so that a script
can take it with ``$(...)``) and what it is on standard error: the secret in
it is not kept and cannot be shown again. The address is
``PLANFLOW_BASE_URL`` + ``/feeds/<secret>.ics`` when that is set, else the
path alone, to put after the web UI's own address.
"""

from __future__ import annotations

from datetime import datetime

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID
from planflow.facade.feeds import FeedView
from planflow.integrations.webhooks.sender_settings import base_url_from_env


def feed_address(secret: str) -> str:
    """Where a calendar app subscribes: the web UI's ``/feeds/<secret>.ics``."""
    return f"{base_url_from_env() or ''}/feeds/{secret}.ics"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else ""


def _line(f: FeedView) -> str:
    status = f"revoked {_when(f.revoked_at)}" if f.revoked_at else "active"
    of = f"unit {f.unit.code}" if f.unit is not None else "own"
    return f"{f.id:6}  {f.prefix}…  {of:18}  made {_when(f.created_at)}  {status}"


@click.group()
def feeds() -> None:
    """Calendar feed addresses (.ics) of a person, or of a unit's plans."""


@feeds.command("create")
@click.argument("username")
@click.option(
    "--unit",
    "unit_code",
    default=None,
    help="A unit whose plans USERNAME sees (default: USERNAME's own feed).",
)
@pass_ctx
def create(ctx: Context, username: str, unit_code: str | None) -> None:
    """Make a feed address for USERNAME and print it (shown this once only)."""
    new = ctx.pf.feeds.create(username, unit_code)
    f = new.feed
    of = f"unit {f.unit.code}'s plans" if f.unit is not None else "their own"
    click.echo(
        f"feed {f.id} of {f.username} ({of}); keep the address below, it is not shown again",
        err=True,
    )
    click.echo(feed_address(new.secret))


@feeds.command("list")
@click.argument("username")
@click.option("--all", "with_revoked", is_flag=True, help="Revoked addresses too.")
@pass_ctx
def list_(ctx: Context, username: str, with_revoked: bool) -> None:
    """USERNAME's feed addresses, newest first (without their secrets)."""
    found = [f for f in ctx.pf.feeds.of_user(username) if with_revoked or f.revoked_at is None]
    for f in found:
        click.echo(_line(f))
    if not found:
        click.echo(f"{username} has no calendar feeds")


@feeds.command("units")
@click.argument("username")
@pass_ctx
def units(ctx: Context, username: str) -> None:
    """The units USERNAME may make a unit feed of (where they see the plans)."""
    found = ctx.pf.feeds.units_for(username)
    for u in found:
        click.echo(f"{u.code:14}  {u.name}")
    if not found:
        click.echo(f"{username} sees no unit's plans")


@feeds.command("revoke")
@click.argument("feed_id", type=ID)
@pass_ctx
def revoke(ctx: Context, feed_id: int) -> None:
    """Revoke feed FEED_ID: its address answers 404 from now on."""
    f = ctx.pf.feeds.revoke(feed_id, actor=None)
    click.echo(f"feed {f.id} of {f.username} revoked at {_when(f.revoked_at)}")


COMMANDS = [feeds]
