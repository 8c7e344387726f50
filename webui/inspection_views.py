"""The inspection form's page: the scoring sheet laid out, with both columns and totals.

Nothing here decides anything. The library says what the user may do on the
plan's inspection now (``InspectionCalendar.status``), keeps the rounds
(``InspectionService.rounds``) and totals and grades them
(``planflow.core.inspection.scoring``: a finished round's stored outcome, else what the
saved scores would give); this module arranges that category by category
for the template, in the user's language, with the plan's progress reports
and evidence beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from flask import render_template
from flask_babel import format_date  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l

from planflow.app import Planflow
from planflow.core.content.attainment import TargetProgress, TargetTally, item_progress, tally
from planflow.core.content.items import Item
from planflow.core.definitions.spec import Criterion, ScoringSheet
from planflow.core.inspection.scoring import (
    CriterionScore,
    InspectionOutcome,
    TargetMiss,
    grade_label,
)
from planflow.errors import ValidationError
from planflow.services.inspections.visits import INSPECTED, MAX_DAYS_AHEAD, SCHEDULED
from planflow.views import EvidenceFile, InspectionRoundView, PlanView, ProgressReport

from .i18n import current_language
from .inspection_forms import SheetForm, VisitForm, sheet_form
from .inspection_month import gettext, local_tz, number
from .plan_views import spec_of
from .target_texts import criterion_target_text
from .users import me, planflow

PROGRESS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "blocked": _l("Blocked"),
}


@dataclass
class CriterionRow:
    index: int  # position on the sheet: the form's fields are named by it
    criterion: Criterion
    own: CriterionScore  # the saved columns, the unit's and the inspector's
    own_measured: float | None  # the unit's measured value
    failed: bool = False  # a mandatory criterion the outcome fails
    missed: bool = False  # its target was missed


@dataclass
class CategoryBlock:
    code: str
    title: str
    max_score: float
    self_total: float | None
    inspector_total: float | None
    rows: list[CriterionRow] = field(default_factory=list)


@dataclass(frozen=True)
class Point:
    """A point to rectify, told from the outcome's data in the user's language."""

    code: str
    text: str
    reasons: list[str]


@dataclass(frozen=True)
class ItemRow:
    number: str
    item: Item
    progress: ProgressReport | None
    evidence: list[EvidenceFile]
    #: Each target of the item against the value its report records (the library's rule).
    targets: tuple[TargetProgress, ...] = ()


def sheet_blocks(
    sheet: ScoringSheet,
    lang: str,
    found: InspectionRoundView | None,
    outcome: InspectionOutcome | None,
) -> list[CategoryBlock]:
    saved = {s.code: s for s in found.scores} if found else {}
    measured: Mapping[str, float] = found.self_measured if found else {}
    totals = {c.code: c for c in outcome.categories} if outcome else {}
    failed = set(outcome.failed_mandatory) if outcome else set()
    missed = {m.code for m in outcome.target_misses} if outcome else set()
    blocks, index = [], 0
    for cat in sheet.categories:
        total = totals.get(cat.code)
        block = CategoryBlock(
            cat.code,
            cat.title.get(lang),
            cat.max_score,
            total.self_total if total else None,
            total.inspector_total if total else None,
        )
        for cr in cat.criteria:
            own = saved.get(cr.code, CriterionScore(cr.code))
            row = CriterionRow(index, cr, own, measured.get(cr.code))
            row.failed, row.missed = cr.code in failed, cr.code in missed
            block.rows.append(row)
            index += 1
        blocks.append(block)
    return blocks


def points(
    outcome: InspectionOutcome | None, blocks: list[CategoryBlock], lang: str
) -> list[Point]:
    if outcome is None:
        return []
    rows = {r.criterion.code: r for b in blocks for r in b.rows}
    misses = {m.code: m for m in outcome.target_misses}
    found = []
    for p in outcome.rectification:
        row, reasons = rows.get(p.code), []
        if p.code in outcome.failed_mandatory:
            reasons.append(gettext("mandatory criterion not met"))
        score = row.own.inspector_score if row else None
        if row is not None and score is None:
            reasons.append(gettext("not scored"))
        elif row is not None and score is not None and score < row.criterion.points:
            reasons.append(
                gettext(
                    "%(score)s of %(points)s points",
                    score=number(score),
                    points=number(row.criterion.points),
                )
            )
        if p.code in misses:
            miss = misses[p.code]
            target = row.criterion.target if row is not None else None
            said = criterion_target_text(target, lang) if target is not None else miss.target
            reasons.append(
                gettext(
                    "target missed: %(target)s, measured %(measured)s",
                    target=said,
                    measured=number(miss.measured),
                )
            )
        if row is not None and row.own.inspector_note:
            reasons.append(row.own.inspector_note)
        text = row.criterion.text.get(lang) if row else ""
        found.append(Point(p.code, text, reasons))
    return found


def form_data(sheet: ScoringSheet, found: InspectionRoundView | None) -> dict[str, str]:
    """The inspector's saved column as the sheet form's data."""
    saved = {s.code: s for s in found.scores} if found else {}
    data: dict[str, str] = {}
    for index, cr in enumerate(sheet.criteria()):
        own = saved.get(cr.code, CriterionScore(cr.code))
        data[f"score_{index}"] = number(own.inspector_score)
        data[f"measured_{index}"] = number(own.measured)
        data[f"note_{index}"] = own.inspector_note
    return data


def grade_name(sheet: ScoringSheet | None, grade: str | None, lang: str) -> str:
    if not grade or sheet is None:
        return grade or ""
    try:
        return grade_label(sheet, grade, lang)
    except ValidationError:  # a grade this sheet version does not have
        return grade


def item_rows(pf: Planflow, plan_id: int) -> list[ItemRow]:
    progress = {p.item_key: p for p in pf.execution.progress(plan_id)}
    files: dict[str, list[EvidenceFile]] = {}
    for e in pf.execution.evidence(plan_id):
        files.setdefault(e.item_key, []).append(e)
    rows = []
    for n, _section, item in pf.content.content(plan_id).numbered_items():
        report = progress.get(item.key)
        values = report.measured_values if report else (None,)
        targets = item_progress(item, values[0], values[1:])
        rows.append(ItemRow(n, item, report, files.get(item.key, []), targets))
    return rows


def items_tally(rows: list[ItemRow]) -> TargetTally:
    """The plan's targets met, missed and without a value, for the inspector."""
    return tally(t for row in rows for t in row.targets)


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    kb = size / 1024
    return f"{kb:.1f} KB" if kb < 1024 else f"{kb / 1024:.1f} MB"


def _unscored(sheet: ScoringSheet, found: InspectionRoundView | None) -> int:
    saved = {s.code: s.inspector_score for s in found.scores} if found else {}
    return sum(1 for cr in sheet.criteria() if saved.get(cr.code) is None)


def _target_text(sheet: ScoringSheet | None, miss: TargetMiss, lang: str) -> str:
    """A missed target with its metric's label in ``lang`` (as stored, for a gone criterion)."""
    criterion = next((c for c in sheet.criteria() if c.code == miss.code), None) if sheet else None
    if criterion is None or criterion.target is None:
        return miss.target
    return criterion_target_text(criterion.target, lang)


def sheet_page(
    plan: PlanView,
    *,
    form: SheetForm | None = None,
    visit_form: VisitForm | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The inspection form of ``plan``, which the caller loaded with ``visible_plan``."""
    pf, user = planflow(), me()
    spec = spec_of(pf, plan)
    sheet, lang = spec.inspection, current_language()
    state = pf.inspections.status(plan.id, user.username)
    rounds = pf.inspections.rounds(plan.id) if sheet is not None and state.round else []
    found = next((r for r in rounds if r.round == state.round), None)
    outcome = found.outcome if found is not None else None
    finished = outcome is not None
    due = found.rectification_due if found is not None else None
    if sheet is not None and outcome is None and state.kind in (SCHEDULED, INSPECTED):
        # What finishing now would give, from the saved scores.
        outcome = pf.inspections.outcome(plan.id, pf.clock.now().date())
        due = outcome.rectification_due
    posted = form is not None
    if sheet is not None and form is None:
        form = sheet_form(sheet)(formdata=None, data=form_data(sheet, found))
    if visit_form is None:
        day = state.visit_date.isoformat() if state.visit_date else ""
        visit_form = VisitForm(formdata=None, visit_date=day)
    blocks = sheet_blocks(sheet, lang, found, outcome) if sheet is not None else []
    items = item_rows(pf, plan.id)
    earlier = []
    for r in rounds:
        if sheet is not None and r.round != state.round:
            r_blocks = sheet_blocks(sheet, lang, r, r.outcome)
            earlier.append((r, r_blocks, points(r.outcome, r_blocks, lang)))
    today = pf.inspections.today(local_tz())
    html = render_template(
        "inspections/sheet.html",
        plan=plan,
        spec=spec,
        sheet=sheet,
        state=state,
        unit=plan.unit,
        blocks=blocks,
        form=form,
        posted=posted,
        editable=state.may_score and not finished,
        visit_form=visit_form,
        message=message,
        found=found,
        finished=finished,
        outcome=outcome,
        points=points(outcome, blocks, lang),
        due=due,
        unscored=_unscored(sheet, found) if sheet is not None else 0,
        earlier=earlier,
        names=pf.display_names([r.inspector for r in rounds]),
        items=items,
        items_tally=items_tally(items),
        progress_labels=PROGRESS_LABELS,
        grade_name=lambda grade: grade_name(sheet, grade, lang),
        target_of=lambda miss: _target_text(sheet, miss, lang),
        number=number,
        file_size=file_size,
        format_day=format_date,
        today=today,
        latest=today + timedelta(days=MAX_DAYS_AHEAD),
        lang=lang,
    )
    return html, status
