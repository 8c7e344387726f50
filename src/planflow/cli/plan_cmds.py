"""``planflow plans``: list, show, create and act on plans."""

from __future__ import annotations

import json
from pathlib import Path

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID, NUMBER, expected_version_option
from planflow.cli.refusal_words import LANGUAGES, guard_failed_words, refusal_words
from planflow.core.content.model import PlanContent
from planflow.core.notes import record_text
from planflow.errors import GuardFailed, ValidationError
from planflow.facade.plans import MAX_PAGE_SIZE
from planflow.integrations.documents.importing import import_document
from planflow.integrations.documents.reading import read_plan_file

#: The importer's account beside the content in 'plans import --dry-run --json'.
IMPORT_ACCOUNT = ("title", "part", "parts", "skipped", "warnings", "plan")


@click.group()
def plans() -> None:
    """Plans and their workflow."""


@plans.command("list")
@click.option("--as", "as_user", help="Only the plans this user may see (as in the web UI).")
@click.option("--state", help="Only plans in this state.")
@click.option("--year", type=click.IntRange(2000, 2100), help="Only plans of this year.")
@click.option("--unit", "unit_code", help="Only plans of this unit (code).")
@click.option("--search", help="Only plans with these words in the title (any case).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@pass_ctx
def plans_list(
    ctx: Context,
    as_user: str | None,
    state: str | None,
    year: int | None,
    unit_code: str | None,
    search: str | None,
    limit: int,
) -> None:
    """List plans, oldest first (with --as, those USER may see: the web UI's rule)."""
    shown, number = 0, 1
    while shown < limit:
        page = ctx.pf.plans(
            as_user=as_user,
            state=state,
            year=year,
            unit_code=unit_code,
            search=search,
            order="id",
            page=number,
            page_size=min(limit - shown, MAX_PAGE_SIZE),
        )
        for p in page.items:
            click.echo(
                f"{p.id:6}  {p.year}  {p.unit.code:14} {p.state:24} v{p.version:<4} {p.title}"
            )
        shown += len(page.items)
        if not page.more:
            break
        number += 1
    if not shown:
        click.echo("no plans match")


@plans.command("show")
@click.argument("plan_id", type=ID)
@click.option("--as", "as_user", help="Only if this user may see the plan.")
@pass_ctx
def plans_show(ctx: Context, plan_id: int, as_user: str | None) -> None:
    """Show a plan, its open task and its audit trail."""
    pf = ctx.pf
    plan = pf.plan(plan_id, as_user=as_user)
    click.echo(f"plan {plan.id}: {plan.title}")
    click.echo(f"  year {plan.year}, workflow {plan.workflow}@{plan.workflow_version}")
    click.echo(
        f"  state {plan.state}, version {plan.version}, revision {plan.revision}, "
        f"{plan.item_count} item(s)"
    )
    task = plan.task
    if task is not None:
        due = f"{task.due_at:%Y-%m-%d %H:%M}" if task.due_at else "no due date"
        escalated = f" (escalated to {task.escalated_to.code})" if task.escalated_to else ""
        click.echo(
            f"  task: {task.role} at {task.unit.code if task.unit else '?'}, due {due}, "
            f"escalation level {task.level}{escalated}"
        )
        if plan.next_timer_at:
            click.echo(f"  next timer: {plan.next_timer} at {plan.next_timer_at:%Y-%m-%d %H:%M}")
    click.echo("  trail:")
    for r in pf.audit_trail(plan_id, as_user=as_user):
        who = r.actor or "system"
        if r.on_behalf_of:  # a deputy's decision (委托), or a colleague standing in
            who = f"{who} on behalf of {r.on_behalf_of}"
        moved = f"{r.from_state} -> {r.to_state}" if r.from_state != r.to_state else r.to_state
        said = record_text(r.comment, r.detail)
        note = f"  \u201c{said}\u201d" if said else ""
        click.echo(f"    {r.seq:3} {r.at:%Y-%m-%d %H:%M} {who:20} {r.action:22} {moved}{note}")


@plans.command("create")
@click.option("--unit", "unit_code", required=True, help="Code of the plan's unit.")
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
@click.option("--title", required=True)
@click.option("--as", "actor", required=True, help="Username of the drafter.")
@click.option("--workflow", default="annual_plan", show_default=True)
@pass_ctx
def plans_create(
    ctx: Context, unit_code: str, year: int, title: str, actor: str, workflow: str
) -> None:
    """Create a plan (in its workflow's initial state)."""
    plan_id = ctx.pf.create_plan(
        unit_code=unit_code, year=year, title=title, actor=actor, workflow=workflow
    )
    click.echo(f"plan {plan_id} created")


@plans.command("fire")
@click.argument("plan_id", type=ID)
@click.argument("action")
@click.option("--as", "actor", required=True, help="Username of whoever acts.")
@click.option("--comment", default=None, help="Reason or remark (required to return).")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default="en",
    help="The language of a refusal that names the definition's words (a failed sheet's criteria).",
)
@expected_version_option
@pass_ctx
def plans_fire(
    ctx: Context,
    plan_id: int,
    action: str,
    actor: str,
    comment: str | None,
    lang: str,
    expected_version: int | None,
) -> None:
    """Run ACTION (a workflow trigger such as submit or approve) on a plan."""
    try:
        state = ctx.pf.fire(plan_id, action, actor, comment, expected_version).to_state
    except GuardFailed as refused:
        raise click.ClickException(guard_failed_words(refused, lang)) from refused
    click.echo(f"plan {plan_id}: {action} -> {state}")


@plans.command("recall")
@click.argument("plan_id", type=ID)
@click.option("--as", "actor", required=True, help="Username of the plan's submitter (chair).")
@click.option("--comment", default=None, help="Why it is taken back (optional).")
@pass_ctx
def plans_recall(ctx: Context, plan_id: int, actor: str, comment: str | None) -> None:
    """Take a submitted plan back to its draft, while no reviewer has decided on it."""
    state = ctx.pf.recall(plan_id, actor, comment).to_state
    click.echo(f"plan {plan_id}: recall -> {state}")


@plans.command("abandon")
@click.argument("plan_id", type=ID)
@click.option("--as", "actor", required=True, help="Username of the plan's submitter (chair).")
@click.option("--comment", required=True, help="Why the plan is abandoned.")
@pass_ctx
def plans_abandon(ctx: Context, plan_id: int, actor: str, comment: str) -> None:
    """End a plan for good (formerly 'withdraw'; plans of an older definition
    version still need 'plans fire PLAN withdraw')."""
    state = ctx.pf.abandon(plan_id, actor, comment).to_state
    click.echo(f"plan {plan_id}: abandon -> {state}")


@plans.command("urge")
@click.argument("plan_id", type=ID)
@click.option("--as", "actor", required=True, help="Username of its submitter or a drafter.")
@click.option("--comment", default=None, help="A word to the people reminded.")
@pass_ctx
def plans_urge(ctx: Context, plan_id: int, actor: str, comment: str | None) -> None:
    """Remind whoever holds the plan's open task now (at most once a day per task)."""
    done = ctx.pf.urge(plan_id, actor, comment)
    click.echo(f"plan {plan_id}: urged {', '.join(done.notified)}")


@plans.command("actions")
@click.argument("plan_id", type=ID)
@click.option("--as", "actor", required=True, help="Username.")
@click.option("--lang", type=click.Choice(["en", "zh", "ko"]), default="en")
@pass_ctx
def plans_actions(ctx: Context, plan_id: int, actor: str, lang: str) -> None:
    """What a user may do with a plan now."""
    options = ctx.pf.available_actions(plan_id, actor, lang)
    if not options:
        click.echo(f"{actor} has no action on plan {plan_id} now")
    for o in options:
        reasons = "; ".join(refusal_words(r, lang) for r in o.blocked_by)
        blocked = f"  (blocked: {reasons})" if o.blocked_by else ""
        click.echo(f"{o.trigger:24} {o.label}{blocked}")


@plans.command("content")
@click.argument("plan_id", type=ID)
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "actor", required=True, help="Username of a drafter of the plan's unit.")
@expected_version_option
@pass_ctx
def plans_content(
    ctx: Context, plan_id: int, source: str, actor: str, expected_version: int | None
) -> None:
    """Replace a plan's content from SOURCE: JSON ({"sections": [...]}) or a .txt/.docx plan.

    JSON may be what 'plans import --dry-run --json' printed. A .txt or .docx
    file is imported: numbered headings in Chinese, Korean or English
    become sections and items, months become due months, "at least 90%"
    becomes a target. Check the result with 'planflow plans items'.
    """
    pf = ctx.pf
    year = pf.plan(plan_id).year
    if source.lower().endswith(".json"):
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(f"{source}: not valid JSON: {exc}") from exc
        if isinstance(data, dict):
            # What 'plans import --dry-run --json' prints, edited or not, is taken as it is.
            data = {k: v for k, v in data.items() if k not in IMPORT_ACCOUNT}
        content = PlanContent.from_dict(data, year=year)
    else:
        content = import_document(read_plan_file(source), year=year).content
    pf.content.set_content(plan_id, content, actor=actor, expected_version=expected_version)
    click.echo(
        f"plan {plan_id}: {len(content.sections)} section(s), "
        f"{content.item_count} item(s), {len(content.items_without_due())} without due date"
    )


@plans.command("items")
@click.argument("plan_id", type=ID)
@click.option(
    "--revision", type=NUMBER, default=None, help="A submitted revision (default: current)."
)
@pass_ctx
def plans_items(ctx: Context, plan_id: int, revision: int | None) -> None:
    """Print a plan's sections and numbered items."""
    pf = ctx.pf
    if revision is None:
        content = pf.content.content(plan_id)
    else:
        found = {r.number: r for r in pf.content.revisions(plan_id)}
        if revision not in found:
            raise ValidationError(f"plan {plan_id} has no revision {revision}")
        content = found[revision].content
    current = None
    for number, section, item in content.numbered_items():
        if section.key != current:
            current = section.key
            click.echo(f"{number.split('.')[0]}. {section.title}")
        due = f"  [due {item.due}]" if item.due is not None else ""
        target = "".join(f"  [{t.describe()}]" for t in item.targets)
        click.echo(f"   {number} {item.text}{due}{target}  ({item.key})")


@plans.command("diff")
@click.argument("plan_id", type=ID)
@click.option("--from", "old", type=NUMBER, required=True, help="Older revision number.")
@click.option("--to", "new", type=NUMBER, required=True, help="Newer revision number.")
@pass_ctx
def plans_diff(ctx: Context, plan_id: int, old: int, new: int) -> None:
    """What changed between two submitted revisions, item by item."""
    d = ctx.pf.content.diff_revisions(plan_id, old, new)
    if d.is_empty:
        click.echo("no changes")
    for ref in d.added:
        click.echo(f"+ {ref.number} {ref.text}")
    for ref in d.removed:
        click.echo(f"- {ref.number} {ref.text}")
    for ch in d.changed:
        fields = ", ".join(f"{f.field}: {f.old!r} -> {f.new!r}" for f in ch.fields)
        click.echo(f"~ {ch.number} {fields}")
    for mv in d.moved:
        click.echo(f"> {mv.old_number} moved to {mv.new_number}")


@plans.command("comment")
@click.argument("plan_id", type=ID)
@click.argument("text")
@click.option("--as", "actor", required=True, help="Username.")
@click.option("--item", "item_key", default=None, help="Key of the item the comment is about.")
@pass_ctx
def plans_comment(ctx: Context, plan_id: int, text: str, actor: str, item_key: str | None) -> None:
    """Comment on a plan, or on one of its items."""
    ctx.pf.content.add_comment(plan_id, text, actor=actor, item_key=item_key)
    click.echo(f"comment added to plan {plan_id}")


@plans.command("comments")
@click.argument("plan_id", type=ID)
@pass_ctx
def plans_comments(ctx: Context, plan_id: int) -> None:
    """The plan's comments, with the comments given with decisions (a return's reason)."""
    found = ctx.pf.content.comments(plan_id)
    if not found:
        click.echo("no comments")
    for c in found:
        about = f" on item {c.item_key}" if c.item_key else ""
        decided = f" [{c.action} -> {c.state}]" if c.kind == "decision" else ""
        click.echo(f"{c.created_at:%Y-%m-%d %H:%M} {c.author}{about}{decided}: {c.body}")


COMMANDS = [plans]
