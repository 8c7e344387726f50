"""``planflow plans docx`` and ``planflow inspection docx``: the Word files of the web UI.

Both call ``Planflow.documents`` as the web's download links do, as the
user named by ``--as`` (who must be able to see the plan), and write the
file to ``--output``.
"""

from __future__ import annotations

from pathlib import Path

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.execution_cmds import inspection
from planflow.cli.params import ID
from planflow.cli.plan_cmds import plans

COMMANDS: list[click.Command] = []  # both join existing groups below

_LANGUAGE = click.Choice(["en", "zh", "ko"])


def _write(data: bytes, output: str) -> None:
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"{output}: {len(data)} bytes")


@plans.command("docx")
@click.argument("plan_id", type=ID)
@click.option("--as", "actor", required=True, help="Username of someone who may see the plan.")
@click.option("--language", type=_LANGUAGE, default="en", show_default=True)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False))
@pass_ctx
def plans_docx(ctx: Context, plan_id: int, actor: str, language: str, output: str) -> None:
    """Write plan PLAN_ID as a Word file: its outline and approval record."""
    _write(ctx.pf.documents.plan_docx(plan_id, as_user=actor, language=language), output)


@inspection.command("docx")
@click.argument("plan_id", type=ID)
@click.option("--as", "actor", required=True, help="Username of someone who may see the plan.")
@click.option("--language", type=_LANGUAGE, default="en", show_default=True)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False))
@pass_ctx
def inspection_docx(ctx: Context, plan_id: int, actor: str, language: str, output: str) -> None:
    """Write the latest inspection of PLAN_ID as a Word file: scores, outcome, rectification."""
    _write(ctx.pf.documents.inspection_docx(plan_id, as_user=actor, language=language), output)
