"""``planflow webhooks``: outgoing webhooks, their delivery log, and a delivery pass.

``add`` prints the signing secret alone on standard output (so that a
script can take it with ``$(...)``) and what was registered on standard
error; the secret cannot be shown again. A refusal is one line naming its
code in brackets (``[webhook_url_private]``), for scripts to tell apart.

``--kind dingtalk|wecom|feishu`` registers a group robot instead, posting
short messages in ``--language`` (en, zh, ko); DingTalk and Feishu need the
signing secret the vendor issued (``--secret`` or ``PLANFLOW_ROBOT_SECRET``).
``planflow robots add|list|remove`` are the same commands for robots only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID
from planflow.core.robots import KINDS, LANGUAGES, ROBOT_KINDS
from planflow.core.webhooks import EVENT_TYPES
from planflow.errors import PlanflowError
from planflow.integrations.webhooks import WebhookReport, WebhookSender
from planflow.views import WebhookDeliveryView, WebhookView

F = TypeVar("F", bound=Callable[..., Any])

#: Batches one ``deliver`` runs at most (what is left waits for the next pass).
MAX_BATCHES = 50


@contextmanager
def coded() -> Iterator[None]:
    """A refusal as one line with its code (exit 1)."""
    try:
        yield
    except PlanflowError as exc:
        raise click.ClickException(f"{exc} [{exc.code}]") from exc


def _hook_line(w: WebhookView) -> str:
    status = "active" if w.active else "removed"
    private = "  (private addresses allowed)" if w.allow_private else ""
    kind = w.kind if w.kind == "webhook" else f"{w.kind}/{w.language}"
    if w.owner is not None:
        private = f"{private}  (own channel of {w.owner})"
    return (
        f"{w.id:5}  {status:7}  {kind:11}  {w.unit.code:12}  {','.join(w.events)}  {w.url}{private}"
    )


def _delivery_line(d: WebhookDeliveryView) -> str:
    code = str(d.last_status_code) if d.last_status_code is not None else "-"
    error = f"  {d.last_error}" if d.last_error else ""
    return (
        f"{d.id:6}  webhook {d.webhook_id:<4} {d.status:9}  attempts {d.attempts:<2}  "
        f"last {code:>3}  {d.event_type:18}  plan {d.plan_id}  {d.event_id}{error}"
    )


# The options ``webhooks add``, ``robots add`` and ``webhooks add-own`` share.
UNIT = click.option(
    "--unit", "unit", required=True, help="Unit code: its plans and those below it."
)
ALLOW_PRIVATE = click.option(
    "--allow-private",
    is_flag=True,
    help="Allow a private, loopback or link-local address (an intranet receiver).",
)
ROBOT_SECRET = click.option(
    "--secret",
    envvar="PLANFLOW_ROBOT_SECRET",
    default=None,
    help="A DingTalk or Feishu robot's signing secret (or PLANFLOW_ROBOT_SECRET).",
)
ROBOT_LANGUAGE = click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default="en",
    show_default=True,
    help="A robot's language: that of the group it posts to.",
)


def events_option(verb: str) -> Callable[[F], F]:
    return click.option(
        "--event",
        "events",
        multiple=True,
        required=True,
        help=f"An event to {verb} (repeat for several): {', '.join(EVENT_TYPES)}.",
    )


def as_admin(verb: str) -> Callable[[F], F]:
    return click.option(
        "--as", "actor", default=None, help=f"{verb} as this admin (default: the system)."
    )


def echo_channels(found: list[WebhookView], none: str) -> None:
    for w in found:
        click.echo(_hook_line(w))
    if not found:
        click.echo(none)


@click.group()
def webhooks() -> None:
    """Outgoing webhooks: signed JSON POSTs of plan events, from the scheduler."""


@webhooks.command("add")
@UNIT
@click.option("--url", required=True, help="http(s) URL that receives the POSTs.")
@events_option("send")
@ALLOW_PRIVATE
@as_admin("Register")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="webhook",
    show_default=True,
    help="webhook (signed JSON) or a group robot: dingtalk, wecom, feishu.",
)
@ROBOT_SECRET
@ROBOT_LANGUAGE
@pass_ctx
def add(
    ctx: Context,
    unit: str,
    url: str,
    events: tuple[str, ...],
    allow_private: bool,
    actor: str | None,
    kind: str,
    secret: str | None,
    language: str,
) -> None:
    """Register a webhook and print its signing secret (shown this once only)."""
    _add(ctx, unit, url, events, allow_private, actor, kind, secret, language)


def _add(
    ctx: Context,
    unit: str,
    url: str,
    events: tuple[str, ...],
    allow_private: bool,
    actor: str | None,
    kind: str,
    secret: str | None,
    language: str,
) -> None:
    with coded():
        new = ctx.pf.webhooks.add(
            unit,
            url,
            events,
            allow_private=allow_private,
            actor=actor,
            kind=kind,
            secret=secret,
            language=language,
        )
    w = new.webhook
    if w.kind != "webhook":
        click.echo(
            f"{w.kind} robot {w.id} for {w.unit.code} in {w.language} "
            f"({', '.join(w.events)}) -> {w.url}"
        )
        return
    click.echo(
        f"webhook {w.id} for {w.unit.code} ({', '.join(w.events)}) -> {w.url}; "
        "keep the secret below, it is not shown again",
        err=True,
    )
    click.echo(new.secret)


@webhooks.command("list")
@click.option("--all", "with_removed", is_flag=True, help="Removed webhooks too.")
@pass_ctx
def list_(ctx: Context, with_removed: bool) -> None:
    """The webhooks (without their secrets)."""
    echo_channels(ctx.pf.webhooks.list(with_removed=with_removed), "no webhooks")


@webhooks.command("remove")
@click.argument("webhook_id", type=ID)
@as_admin("Remove")
@pass_ctx
def remove(ctx: Context, webhook_id: int, actor: str | None) -> None:
    """Remove webhook WEBHOOK_ID: no new events; what was not sent is cancelled."""
    with coded():
        w = ctx.pf.webhooks.remove(webhook_id, actor=actor)
    click.echo(f"webhook {w.id} removed ({w.url})")


@webhooks.command("deliveries")
@click.option("--webhook", "webhook_id", type=ID, default=None, help="Only this webhook's.")
@click.option("--failed", is_flag=True, help="Only the ones that failed for good.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--log", "show_log", is_flag=True, help="Every attempt of each delivery too.")
@pass_ctx
def deliveries(
    ctx: Context, webhook_id: int | None, failed: bool, limit: int, show_log: bool
) -> None:
    """The delivery log, newest first: status, attempts, last HTTP status and error."""
    with coded():
        found = ctx.pf.webhooks.deliveries(webhook_id=webhook_id, failed=failed, limit=limit)
    for d in found:
        click.echo(_delivery_line(d))
        if show_log:
            for a in d.log:
                status = a.status if a.status is not None else "-"
                click.echo(f"        {a.at}  {status}  {a.ms} ms  {a.error or ''}".rstrip())
    if not found:
        click.echo("no deliveries")


@webhooks.command("redeliver")
@click.argument("delivery_id", type=ID)
@as_admin("Send")
@pass_ctx
def redeliver(ctx: Context, delivery_id: int, actor: str | None) -> None:
    """Send delivery DELIVERY_ID again (same event id and body) at the next pass."""
    with coded():
        d = ctx.pf.webhooks.redeliver(delivery_id, actor=actor)
    click.echo(f"delivery {d.id} ({d.event_type}, event {d.event_id}) is due again")


@webhooks.command("deliver")
@pass_ctx
def deliver(ctx: Context) -> None:
    """One delivery pass now: send what is due, print what happened, exit."""
    pf = ctx.pf
    sender = WebhookSender(pf.db, pf.clock)
    total = WebhookReport()
    for _ in range(MAX_BATCHES):
        batch = sender.run_once()
        total.add(batch)
        if batch.total == 0:
            break
    click.echo(
        f"delivered: {total.delivered}, retried: {total.retried}, failed: {total.failed}, "
        f"cancelled: {total.cancelled}"
        + (f", taken over from a stopped sender: {total.resumed}" if total.resumed else "")
    )


@webhooks.command("user-channels")
@click.argument("state", type=click.Choice(["on", "off", "show"]))
@pass_ctx
def user_channels(ctx: Context, state: str) -> None:
    """Let people register their own webhook or robot (on), stop it (off), or show."""
    if state != "show":
        with coded():
            ctx.pf.webhooks.set_user_channels(state == "on")
    shown = "on" if ctx.pf.webhooks.user_channels() else "off"
    click.echo(f"people's own webhooks and robots: {shown}")


@webhooks.command("add-own")
@click.option("--user", "username", required=True, help="Whose channel: told what notifies them.")
@click.option("--url", required=True, help="http(s) URL (a public address).")
@events_option("be told of")
@click.option("--kind", type=click.Choice(KINDS), default="webhook", show_default=True)
@ROBOT_SECRET
@ROBOT_LANGUAGE
@pass_ctx
def add_own(
    ctx: Context,
    username: str,
    url: str,
    events: tuple[str, ...],
    kind: str,
    secret: str | None,
    language: str,
) -> None:
    """A person's own webhook or robot (needs 'user-channels on'); a webhook's secret is printed."""
    with coded():
        new = ctx.pf.webhooks.add_own(
            username, url, events, kind=kind, secret=secret, language=language
        )
    w = new.webhook
    click.echo(f"{w.kind} {w.id}: own channel of {w.owner} -> {w.url}", err=bool(new.secret))
    if new.secret:
        click.echo(new.secret)


@click.group()
def robots() -> None:
    """Group robots (DingTalk, WeCom, Feishu): short messages in a unit's chat group."""


@robots.command("add")
@click.option("--kind", type=click.Choice(ROBOT_KINDS), required=True, help="The vendor.")
@UNIT
@click.option("--url", required=True, help="The robot's webhook URL, with its token or key.")
@events_option("post")
@ROBOT_SECRET
@ROBOT_LANGUAGE
@ALLOW_PRIVATE
@as_admin("Register")
@pass_ctx
def robots_add(
    ctx: Context,
    kind: str,
    unit: str,
    url: str,
    events: tuple[str, ...],
    secret: str | None,
    language: str,
    allow_private: bool,
    actor: str | None,
) -> None:
    """Register a group robot for UNIT's subtree."""
    _add(ctx, unit, url, events, allow_private, actor, kind, secret, language)


@robots.command("list")
@click.option("--all", "with_removed", is_flag=True, help="Removed robots too.")
@pass_ctx
def robots_list(ctx: Context, with_removed: bool) -> None:
    """The group robots (without their secrets)."""
    found = [w for w in ctx.pf.webhooks.list(with_removed=with_removed) if w.kind != "webhook"]
    echo_channels(found, "no robots")


robots.add_command(remove, "remove")

COMMANDS = [webhooks, robots]
