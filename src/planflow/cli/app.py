"""The root command group and the shared ``Planflow`` instance per invocation."""

from __future__ import annotations

from typing import Any

import click

from planflow.app import Planflow
from planflow.core.definitions.registry import why_left_out
from planflow.storage.db import database_url_from_env, require_existing


class Context:
    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self._pf: Planflow | None = None
        #: Whether this command may create the database (init, demo, run, the scheduler);
        #: any other command refuses a SQLite file that does not exist.
        self.creates = False

    @property
    def url(self) -> str:
        return self.database_url or database_url_from_env()

    @property
    def pf(self) -> Planflow:
        if self._pf is None:
            if not self.creates:
                require_existing(self.url)
            self._pf = Planflow(self.url)
        return self._pf

    def close(self) -> None:
        if self._pf is not None:
            self._pf.close()


pass_ctx = click.make_pass_decorator(Context)


def warn_left_out(pf: Planflow) -> None:
    """Name each workflow file the registry left out, one line each on stderr."""
    for error in pf.registry.broken():
        click.echo(f"planflow: warning: {why_left_out(error)}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    envvar="PLANFLOW_DATABASE_URL",
    help="SQLAlchemy URL of the database (default: SQLite file in ./instance).",
)
@click.version_option(package_name="planflow")
@click.pass_context
def cli(click_ctx: click.Context, database_url: str | None) -> None:
    """planflow: annual plans, reviews, inspections and their audit trail."""
    ctx = Context(database_url)
    click_ctx.obj = ctx
    click_ctx.call_on_close(ctx.close)


def register(*modules: Any) -> None:
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)


from planflow.cli import (  # noqa: E402
    audit_cmds,
    backup_cmds,
    delegation_cmds,
    document_cmds,
    execution_cmds,
    feed_cmds,
    handover_cmds,
    inbox_cmds,
    org_cmds,
    plan_cmds,
    plan_import_cmds,
    review_cmds,
    scheduler_cmds,
    setup_cmds,
    token_cmds,
    webhook_cmds,
    workflow_cmds,
)

register(
    setup_cmds,
    org_cmds,
    plan_cmds,
    plan_import_cmds,
    review_cmds,
    handover_cmds,
    delegation_cmds,
    audit_cmds,
    workflow_cmds,
    execution_cmds,
    document_cmds,
    scheduler_cmds,
    inbox_cmds,
    token_cmds,
    feed_cmds,
    webhook_cmds,
    backup_cmds,
)
