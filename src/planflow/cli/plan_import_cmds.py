"""``planflow plans import``: a draft plan from a .txt or .docx plan document.

The file is read by ``planflow.integrations.documents`` (encodings, Word's
numbering), imported by ``planflow.core.content.importer`` and saved through
the library's facade like ``plans create`` and ``plans content`` do, as the
drafter. ``--dry-run --json`` saves nothing and prints what ``plans content``
accepts, with the importer's account: ``skipped`` (what was left out, and
why), ``warnings`` (codes to check) and, for a file of several plans,
``parts`` and the ``part`` taken.
"""

from __future__ import annotations

import json

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.plan_cmds import plans
from planflow.core.content.importer import ImportResult
from planflow.core.text import MAX_PLAN_TITLE
from planflow.integrations.documents.importing import import_document, require_one_plan
from planflow.integrations.documents.reading import read_plan_file

COMMANDS: list[click.Command] = []  # "import" joins the ``plans`` group below

_WARNINGS = {
    "several_plans": "the file holds {count} plans; part {part} was taken (--part N for another)",
    "too_many_targets": "item {item} names {count} targets; the first {max} were kept, "
    "the others stay in its text",
    "review_only": "part {part} reads as a review of past work, not a plan",
}


def _describe(result: ImportResult) -> None:
    content = result.content
    click.echo(f"{result.title}: {len(content.sections)} section(s), {content.item_count} item(s)")
    for number, section, item in content.numbered_items():
        if number.endswith(".1"):
            click.echo(f"{number.split('.')[0]}. {section.title}")
        due = f"  [due {item.due}]" if item.due is not None else ""
        target = "".join(f"  [{t.describe()}]" for t in item.targets)
        click.echo(f"   {number} {item.text.splitlines()[0][:60]}{due}{target}")
    for section in content.sections:
        if not section.items:
            click.echo(f"   (section without items: {section.title})")
    for reason, text in result.skipped:
        click.echo(f"  skipped ({reason}): {text[:70]}")


def _warn(result: ImportResult) -> None:
    for code, params in result.warnings:
        click.echo(f"planflow: warning: {_WARNINGS[code].format(**params)}", err=True)


@plans.command("import")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--unit", "unit_code", required=True, help="Code of the plan's unit.")
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
@click.option("--as", "actor", required=True, help="Username of the drafter.")
@click.option("--title", default=None, help="The plan's title (default: the document's).")
@click.option("--part", type=click.IntRange(1, 1000), default=None, help="Which plan of the file.")
@click.option("--workflow", default="annual_plan", show_default=True)
@click.option("--dry-run", is_flag=True, help="Save nothing; show what would be imported.")
@click.option("--json", "as_json", is_flag=True, help="Print the imported content as JSON.")
@pass_ctx
def plans_import(
    ctx: Context,
    source: str,
    unit_code: str,
    year: int,
    actor: str,
    title: str | None,
    part: int | None,
    workflow: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Create a draft plan from SOURCE, a .txt or .docx plan in Chinese, Korean or English.

    Numbered headings become sections and items, months due months, "at
    least 90%" a target; web-page debris, a review of last year and closings
    are left out and listed. Check it first with --dry-run.
    """
    result = import_document(read_plan_file(source), year=year, part=part)
    if dry_run:
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            _describe(result)
        _warn(result)
        return
    require_one_plan(result, part)
    # The draft is created holding its content in one transaction: a refusal leaves
    # no empty draft behind (the web import saves through the same call).
    plan_id = ctx.pf.create_plan(
        unit_code=unit_code,
        year=year,
        title=(title or result.title)[:MAX_PLAN_TITLE],
        actor=actor,
        workflow=workflow,
        content=result.content,
    )
    content = result.content
    if as_json:
        click.echo(json.dumps({"plan": plan_id, **result.to_dict()}, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"plan {plan_id} created: {len(content.sections)} section(s), "
            f"{content.item_count} item(s), {len(content.items_without_due())} without due date"
        )
    _warn(result)
