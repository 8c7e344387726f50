"""``planflow workflows``: list, show and validate definitions."""

from __future__ import annotations

from pathlib import Path

import click

from planflow.cli.app import Context, pass_ctx, warn_left_out
from planflow.cli.params import VERSION
from planflow.core.definitions.loader import load_definition
from planflow.core.definitions.registry import definition_files
from planflow.errors import DefinitionError
from planflow.services.definition_migration import apply_migration, parse_mapping, plan_migration


@click.group()
def workflows() -> None:
    """Workflow definitions (files in workflows/)."""


@workflows.command("list")
@pass_ctx
def workflows_list(ctx: Context) -> None:
    """The definitions found, with their versions; files left out are named on stderr."""
    for spec in sorted(ctx.pf.registry.all(), key=lambda s: (s.name, s.version)):
        click.echo(f"{spec.key:24} {spec.title.get('en')}  ({spec.source})")
    warn_left_out(ctx.pf)


@workflows.command("show")
@click.argument("name")
@click.option("--version", "version", type=VERSION, default=None, help="Default: the latest.")
@click.option("--lang", type=click.Choice(["en", "zh", "ko"]), default="en")
@pass_ctx
def workflows_show(ctx: Context, name: str, version: int | None, lang: str) -> None:
    """Print a definition's states and transitions."""
    spec = ctx.pf.registry.get(name, version)
    click.echo(f"{spec.key}: {spec.title.get(lang)}")
    click.echo("states:")
    for s in spec.states:
        marks = []
        if s.name == spec.initial:
            marks.append("initial")
        if s.final:
            marks.append("final")
        if s.task:
            due = f", due {s.task.due.describe()}" if s.task.due else ""
            marks.append(f"task: {s.task.assignee.describe()}{due}")
        extra = f"  [{'; '.join(marks)}]" if marks else ""
        click.echo(f"  {s.name:26} {s.label.get(lang)}{extra}")
    click.echo("transitions:")
    for t in spec.transitions:
        who = t.actor.describe() if t.actor else "system"
        guards = f"  guards: {', '.join(g.name for g in t.guards)}" if t.guards else ""
        quorum = f"  quorum: {t.quorum.required}" if t.quorum else ""
        click.echo(f"  {t.trigger:24} {','.join(t.sources)} -> {t.dest}  by {who}{guards}{quorum}")


@workflows.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def workflows_validate(paths: tuple[str, ...]) -> None:
    """Check definition files, or every definition file of a folder; print their
    problems with file, line and column.

    A file is checked as the workflows folder would load it: one over 1 MiB
    is not parsed, a symbolic link to a file outside its folder is not followed.
    """
    failed = False
    files: list[str] = []
    for given in paths:
        if not Path(given).is_dir():
            files.append(given)
            continue
        found = definition_files(Path(given))
        if not found:
            failed = True
            click.echo(f"{given}: no definition files (*.yaml, *.yml) in this folder", err=True)
        files.extend(str(p) for p in found)
    for path in files:
        try:
            spec = load_definition(path, folder=Path(path).parent)
        except DefinitionError as exc:
            failed = True
            click.echo(str(exc), err=True)
        else:
            click.echo(
                f"{path}: OK ({spec.key}, {len(spec.states)} states, "
                f"{len(spec.transitions)} transitions)"
            )
    if failed:
        raise click.exceptions.Exit(1)


@workflows.command("migrate")
@click.argument("name")
@click.option("--to-version", "to_version", type=VERSION, required=True, help="Target version.")
@click.option(
    "--from-version",
    "from_version",
    type=VERSION,
    default=None,
    help="Plans of this version move (default: every older version, one at a time).",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="OLD=NEW",
    help="Where plans in a state the target lacks should go (repeatable).",
)
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Move the plans. Without it, only show what would happen (dry run).",
)
@click.option("--as", "actor", default=None, help="Username of the admin moving the plans.")
@pass_ctx
def workflows_migrate(
    ctx: Context,
    name: str,
    to_version: int,
    from_version: int | None,
    mapping: tuple[str, ...],
    apply_: bool,
    actor: str | None,
) -> None:
    """Move running plans of NAME to another definition version (dry run by default)."""
    pf = ctx.pf
    state_map = parse_mapping(list(mapping))
    versions = (
        [from_version]
        if from_version is not None
        else [s.version for s in pf.registry.all() if s.name == name and s.version < to_version]
    )
    if not versions:
        raise click.UsageError(f"no older version of {name!r} to migrate from")
    plans = [plan_migration(pf.service, name, v, to_version, state_map) for v in versions]
    for plan in plans:
        click.echo(plan.describe())
    if not apply_:
        click.echo("dry run: nothing changed (add --apply to move the plans)")
        return
    if actor is None:
        raise click.UsageError("--apply needs --as USERNAME (an admin)")
    actor_id = pf.user_id(actor)
    moved = sum(apply_migration(pf.service, plan, actor_id) for plan in plans)
    click.echo(f"{moved} plan(s) moved to {name}@{to_version}")


COMMANDS = [workflows]
