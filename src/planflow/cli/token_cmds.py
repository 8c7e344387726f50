"""``planflow tokens``: personal access tokens of the HTTP API.

``create`` prints the secret alone on standard output (so that a script can
take it with ``$(...)``) and what it is on standard error; the secret is
not kept and cannot be shown again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID
from planflow.services.api_tokens import SCOPES
from planflow.views import ApiTokenView

_DAYS = re.compile(r"(\d{1,4})d")


def parse_expiry(value: str, now: datetime) -> datetime | None:
    """``never``, a number of days (``90d``) or a date (``2027-12-31``, end of that day, UTC)."""
    if value == "never":
        return None
    days = _DAYS.fullmatch(value)
    if days:
        return now + timedelta(days=int(days.group(1)))
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: give a number of days (90d), a date (2027-12-31) or 'never'"
        ) from None
    return day + timedelta(days=1)


def _when(moment: datetime | None, empty: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else empty


def _line(t: ApiTokenView, now: datetime) -> str:
    status = "revoked" if t.revoked_at else ("active" if t.usable(now) else "expired")
    return (
        f"{t.id:6}  {t.prefix}…  {t.scope:5}  {status:7}  "
        f"expires {_when(t.expires_at, 'never'):16}  last used {_when(t.last_used_at, 'never'):16}"
        f"  {t.name}"
    )


@click.group()
def tokens() -> None:
    """Personal access tokens for the HTTP API (/api/v1)."""


@tokens.command("create")
@click.argument("username")
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default="read",
    show_default=True,
    help="read: look; write: also act; admin: also administer (each includes the ones before).",
)
@click.option("--name", default="API token", show_default=True, help="What the token is for.")
@click.option(
    "--expires",
    default="90d",
    show_default=True,
    help="A number of days (30d), a date (2027-12-31) or 'never'.",
)
@pass_ctx
def create(ctx: Context, username: str, scope: str, name: str, expires: str) -> None:
    """Make a token for USERNAME and print its secret (shown this once only)."""
    pf = ctx.pf
    new = pf.tokens.create(
        username, scope=scope, name=name, expires_at=parse_expiry(expires, pf.clock.now())
    )
    t = new.token
    click.echo(
        f"token {t.id} for {t.username} ({t.scope}), expires {_when(t.expires_at, 'never')}; "
        "keep the secret below, it is not shown again",
        err=True,
    )
    click.echo(new.secret)


@tokens.command("list")
@click.argument("username")
@pass_ctx
def list_(ctx: Context, username: str) -> None:
    """USERNAME's tokens, newest first (without their secrets)."""
    pf = ctx.pf
    found = pf.tokens.of_user(username)
    now = pf.clock.now()
    for t in found:
        click.echo(_line(t, now))
    if not found:
        click.echo(f"{username} has no API tokens")


@tokens.command("revoke")
@click.argument("token_id", type=ID)
@pass_ctx
def revoke(ctx: Context, token_id: int) -> None:
    """Revoke token TOKEN_ID: from now on it authenticates nobody."""
    t = ctx.pf.tokens.revoke(token_id, actor=None)
    click.echo(f"token {t.id} of {t.username} revoked at {_when(t.revoked_at, '')}")


COMMANDS = [tokens]
