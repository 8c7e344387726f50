"""``planflow progress``, ``planflow evidence`` and ``planflow inspection``.

Carrying out an approved plan (progress reports, evidence files) and its
inspection (self-assessment, the inspector's scores, the verdict). Users are
given by username; refusals are one-line errors from ``planflow.cli.main``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from planflow.cli.app import Context, pass_ctx
from planflow.cli.params import ID, expected_version_option
from planflow.core.content.attainment import TargetProgress, item_progress
from planflow.core.inspection.scoring import CriterionScore, InspectionOutcome, grade_label
from planflow.errors import ValidationError
from planflow.services.execution import STATUSES
from planflow.storage.evidence_files import kind_for_filename, sanitize_filename

SCORE_FIELDS = ("code", "score", "note", "measured")


# -- progress ---------------------------------------------------------------------------


@click.group()
def progress() -> None:
    """Progress reports on the items of an approved plan."""


@progress.command("report")
@click.argument("plan_id", type=ID)
@click.argument("item")
@click.option("--status", type=click.Choice(STATUSES), required=True, help="Where the item is.")
@click.option("--report", default="", help="What was done (up to 4000 characters).")
@click.option(
    "--measured",
    type=float,
    multiple=True,
    help="Measured value for its target; repeat it for an item's second and later targets.",
)
@click.option("--as", "actor", required=True, help="Username of the drafter or submitter.")
@expected_version_option
@pass_ctx
def progress_report(
    ctx: Context,
    plan_id: int,
    item: str,
    status: str,
    report: str,
    measured: tuple[float, ...],
    actor: str,
    expected_version: int | None,
) -> None:
    """Report progress on ITEM (an item key) of a plan."""
    pf = ctx.pf
    pf.execution.report_progress(
        plan_id,
        item,
        status,
        report,
        actor=actor,
        measured=measured[0] if measured else None,
        expected_version=expected_version,
        more=measured[1:],
    )
    click.echo(f"plan {plan_id}: item {item} is {status}")


@progress.command("list")
@click.argument("plan_id", type=ID)
@pass_ctx
def progress_list(ctx: Context, plan_id: int) -> None:
    """Every item of a plan with its latest progress report."""
    pf = ctx.pf
    reports = {p.item_key: p for p in pf.execution.progress(plan_id)}
    for number, _section, item in pf.content.content(plan_id).numbered_items():
        p = reports.get(item.key)
        if p is None:
            click.echo(f"{number:6} {item.key:10} {'-':12} {item.text[:60]}")
            continue
        measured = f" measured {p.measured:g}" if p.measured is not None else ""
        who = p.updated_by
        click.echo(
            f"{number:6} {item.key:10} {p.status:12} {item.text[:60]}"
            f"  ({who}, {p.updated_at:%Y-%m-%d}{measured})"
        )
        if p.report:
            click.echo(f"{'':18} {p.report[:200]}")
        for t in item_progress(item, p.measured, p.measured_more):
            click.echo(f"{'':18} target: {t.target.describe()} - {_attained(t)}")


def _attained(t: TargetProgress) -> str:
    if t.met is None:
        return "no measured value yet"
    share = f", {t.percent}% of the target" if t.percent is not None else ""
    return f"{'met' if t.met else 'not met'} (measured {t.measured:g}{share})"


# -- evidence -----------------------------------------------------------------------------


@click.group()
def evidence() -> None:
    """Evidence files attached to a plan's items."""


@evidence.command("add")
@click.argument("plan_id", type=ID)
@click.argument("item")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor", required=True, help="Username of the drafter or submitter.")
@click.option("--content-type", default=None, help="Declared type (default: from the name).")
@pass_ctx
def evidence_add(
    ctx: Context, plan_id: int, item: str, file: Path, actor: str, content_type: str | None
) -> None:
    """Attach FILE as evidence for ITEM of a plan."""
    pf = ctx.pf
    name = sanitize_filename(file.name)
    # Refuse a huge file before reading it into memory.
    pf.execution.store.check_size(name, file.stat().st_size)
    if content_type is None:
        kind = kind_for_filename(name)
        content_type = kind.content_types[0] if kind else "application/octet-stream"
    row = pf.execution.attach_evidence(
        plan_id,
        item,
        name,
        content_type,
        file.read_bytes(),
        actor=actor,
    )
    click.echo(f"plan {plan_id}: evidence {row.id} {row.filename} ({row.size} bytes) for {item}")


@evidence.command("list")
@click.argument("plan_id", type=ID)
@pass_ctx
def evidence_list(ctx: Context, plan_id: int) -> None:
    """The evidence files of a plan."""
    rows = ctx.pf.execution.evidence(plan_id)
    for e in rows:
        click.echo(
            f"{e.id:6} {e.item_key:10} {e.size:>10} {e.uploaded_at:%Y-%m-%d} "
            f"{e.sha256[:12]} {e.filename}"
        )
    if not rows:
        click.echo("no evidence")


# -- inspection ---------------------------------------------------------------------------


@click.group()
def inspection() -> None:
    """Scoring a plan's inspection and deciding it."""


def read_scores(path: Path, *, self_assessment: bool) -> list[CriterionScore]:
    """A JSON list of {code, score, note, measured} as one column of the sheet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(data, list) or not data:
        raise ValidationError(f"{path}: expected a non-empty JSON list of {{code, score, ...}}")
    out: list[CriterionScore] = []
    for index, entry in enumerate(data):
        where = f"{path}: entry {index}"
        if not isinstance(entry, dict):
            raise ValidationError(f"{where} is not an object")
        unknown = sorted(set(entry) - set(SCORE_FIELDS))
        if unknown:
            raise ValidationError(f"{where} has unknown field(s) {', '.join(unknown)}")
        code, note = entry.get("code"), entry.get("note", "")
        if not isinstance(code, str) or not code:
            raise ValidationError(f"{where} needs a criterion code")
        if not isinstance(note, str):
            raise ValidationError(f"{where} ({code}): the note must be text")
        # Numbers are checked by inspection.validate_scores, which names every bad one.
        score: Any = entry.get("score")
        measured: Any = entry.get("measured")
        if self_assessment:
            out.append(CriterionScore(code, self_score=score, self_note=note, measured=measured))
        else:
            out.append(
                CriterionScore(code, inspector_score=score, inspector_note=note, measured=measured)
            )
    return out


@inspection.command("score")
@click.argument("plan_id", type=ID)
@click.option("--as", "actor", required=True, help="Username of the inspector (or the unit).")
@click.option(
    "--file",
    "scores_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON list of {code, score, note, measured}.",
)
@click.option("--self", "self_assessment", is_flag=True, help="The unit's self-assessment.")
@pass_ctx
def inspection_score(
    ctx: Context, plan_id: int, actor: str, scores_file: Path, self_assessment: bool
) -> None:
    """Record the inspector's scores for the current round (with --self, the unit's)."""
    pf = ctx.pf
    scores = read_scores(scores_file, self_assessment=self_assessment)
    actor_id = pf.user_id(actor)
    if self_assessment:
        change = pf.services.inspections.record_self_assessment(plan_id, actor_id, scores)
    else:
        change = pf.services.inspections.record_scores(plan_id, actor_id, scores)
    column = "self-assessment" if self_assessment else "inspector"
    click.echo(
        f"plan {plan_id}: {len(scores)} {column} score(s) recorded for round "
        f"{change.detail['round']} (total {change.detail['total']:g})"
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@inspection.command("show")
@click.argument("plan_id", type=ID)
@click.option("--lang", type=click.Choice(["en", "zh", "ko"]), default="en")
@pass_ctx
def inspection_show(ctx: Context, plan_id: int, lang: str) -> None:
    """The scoring sheet with the self and inspector columns, totals and grade."""
    pf = ctx.pf
    sheet = pf.inspections.sheet(plan_id)
    current = pf.inspections.current(plan_id)
    outcome: InspectionOutcome = pf.inspections.outcome(plan_id, pf.clock.now().date())
    by_code = {s.code: s for s in current.scores} if current else {}
    self_measured = current.self_measured if current else {}
    finished = current is not None and current.outcome is not None
    round_ = f"round {current.round}" if current else "nothing recorded yet"
    click.echo(f"{sheet.title.get(lang)} - plan {plan_id}, {round_}")
    click.echo(f"  {'code':6}{'points':>7}{'self':>7}{'insp.':>7}{'meas.':>8}  criterion")
    totals = {c.code: c for c in outcome.categories}
    for cat in sheet.categories:
        t = totals[cat.code]
        click.echo(
            f"  {cat.code:6}{cat.max_score:>7g}{t.self_total:>7g}{t.inspector_total:>7g}"
            f"{'':8}  {cat.title.get(lang)}"
        )
        for cr in cat.criteria:
            s = by_code.get(cr.code, CriterionScore(cr.code))
            mark = "*" if cr.mandatory else ""
            measured = s.measured if s.measured is not None else self_measured.get(cr.code)
            click.echo(
                f"    {cr.code + mark:4}{cr.points:>7g}{_fmt(s.self_score):>7}"
                f"{_fmt(s.inspector_score):>7}{_fmt(measured):>8}  {cr.text.get(lang)}"
            )
            for who, note in (("self", s.self_note), ("inspector", s.inspector_note)):
                if note:
                    click.echo(f"{'':12}{who}: {note}")
    click.echo(
        f"  total: self {outcome.self_total:g}, inspector {outcome.inspector_total:g} "
        f"of {outcome.max_total:g}  (* mandatory)"
    )
    state = "decided" if finished else "if finished now"
    extra = f", downgraded from {outcome.downgraded_from}" if outcome.downgraded_from else ""
    click.echo(
        f"  grade ({state}): {grade_label(sheet, outcome.grade, lang)} ({outcome.grade}){extra}"
    )
    if outcome.capped_by_rule:
        click.echo(f"  capped: {outcome.capped_by_rule.reason}")
    for point in outcome.rectification:
        click.echo(f"  rectify {point.code}: {point.reason}")
    due = current.rectification_due if finished and current else outcome.rectification_due
    if due:
        click.echo(f"  rectification due {due.isoformat()}")


@inspection.command("finish")
@click.argument("plan_id", type=ID)
@click.option("--as", "actor", required=True, help="Username of the inspector.")
@click.option("--comment", default=None, help="Remark (the rectification points by default).")
@expected_version_option
@pass_ctx
def inspection_finish(
    ctx: Context, plan_id: int, actor: str, comment: str | None, expected_version: int | None
) -> None:
    """Accept the plan or require rectification, as the inspector's scores decide."""
    pf = ctx.pf
    done = pf.inspections.finish(
        plan_id, actor=actor, comment=comment, expected_version=expected_version
    )
    due = f", rectification due {done.rectification_due}" if done.rectification_due else ""
    click.echo(
        f"plan {plan_id}: {done.action} -> {done.to_state}, grade {done.grade} "
        f"(total {done.total:g}){due}"
    )


COMMANDS = [progress, evidence, inspection]
