"""Blueprint ``self_assessment``: the unit scores itself before the inspection.

``/plans/<id>/self-assessment`` shows the definition's scoring sheet
(categories, criteria, points, mandatory criteria, targets) with the unit's
own column of the current round and its running totals, both read through
``planflow.services.inspections.self_assessment``. The plan's own drafter and submitter fill it
in while the library allows (the state ``inspect`` is fired from); it is
saved whole through ``InspectionService.record_self_assessment``, pinned to
the version the page showed. The form checks that numbers are numbers; the
library judges them (``InvalidScores`` names every bad criterion, and each
problem is shown at its criterion and column, said by its code, with
everything typed kept). Others who may see the plan read the sheet; a plan
they may not see is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from planflow.core.definitions.spec import ScoringSheet
from planflow.core.inspection.scoring import CriterionScore, InvalidScores, validate_scores
from planflow.core.text import TextError, clean_text
from planflow.errors import PermissionDenied, PlanflowError, StaleVersion
from planflow.services.inspections.rounds import MAX_NOTE
from planflow.services.inspections.self_assessment import Refusal, SelfAssessment
from planflow.views import PlanView

from . import plan_views as views
from .access import visible_plan
from .codes import score_problem_text
from .errors import describe, status_of
from .i18n import state_label
from .progress_forms import SelfAssessmentForm, gettext, parse_number, states_text
from .users import me, planflow, require_login

bp = Blueprint("self_assessment", __name__, url_prefix="/plans")
require_login(bp)


def _page(
    plan: PlanView,
    found: SelfAssessment,
    form: SelfAssessmentForm | None = None,
    message: str | None = None,
    status: int = 200,
    fresh: bool = False,
) -> tuple[str, int]:
    """The page; a sent ``form`` keeps the version it was sent with unless ``fresh``."""
    pf = planflow()
    spec = views.spec_of(pf, plan)
    sheet = found.sheet
    if form is None and found.may_record and sheet is not None:
        form = SelfAssessmentForm.for_sheet(sheet)(formdata=None)
        for n, criterion in enumerate(sheet.criteria()):
            saved = found.scores.get(criterion.code)
            if saved is None:
                continue
            score, measured, note = form.row(n)
            score.data = "" if saved.self_score is None else f"{saved.self_score:g}"
            if measured is not None and saved.measured is not None:
                measured.data = f"{saved.measured:g}"
            note.data = saved.self_note
    refusal = None
    if found.refusal is Refusal.ROLE:
        refusal = gettext(
            "Only the drafter or submitter of the plan's own unit can record the"
            " self-assessment. You can read it."
        )
    elif found.refusal is Refusal.STATE:
        refusal = gettext(
            "The self-assessment can be recorded only while the plan is %(states)s;"
            " it is now %(state)s.",
            states=states_text(spec, found.open_states),
            state=state_label(spec, found.state),
        )
    html = render_template(
        "progress/self_assessment.html",
        plan=plan,
        spec=spec,
        unit=plan.unit,
        found=found,
        sheet=sheet,
        form=form,
        numbers={c.code: n for n, c in enumerate(sheet.criteria())} if sheet else {},
        category_totals={c.code: c for c in found.totals.categories} if found.totals else {},
        refusal=refusal,
        message=message,
        max_note=MAX_NOTE,
        version=_pinned(form) if form is not None and not fresh else None,
    )
    return html, status


def _pinned(form: SelfAssessmentForm) -> int | None:
    value = form.expected_version.data
    return value if isinstance(value, int) and not form.expected_version.errors else None


def _load(plan_id: int) -> tuple[PlanView, SelfAssessment]:
    pf, user = planflow(), me()
    plan = visible_plan(pf, user.username, plan_id)
    return plan, pf.inspections.self_assessment(plan_id, user.username)


@bp.route("/<id:plan_id>/self-assessment")
def sheet(plan_id: int) -> tuple[str, int]:
    plan, found = _load(plan_id)
    return _page(plan, found)


def _number(field: Any) -> float | None:
    """A number field's value; None when blank or when the form already refused it."""
    try:
        return parse_number(field.data) if field is not None and not field.errors else None
    except ValueError:
        return None


def _scores(sheet: ScoringSheet, form: SelfAssessmentForm) -> list[CriterionScore]:
    """The form's rows for the library (what the form refused counts as not given)."""
    rows = []
    for n, criterion in enumerate(sheet.criteria()):
        score, measured, note = form.row(n)
        try:
            text = clean_text(note.data or "", field="note", max_length=MAX_NOTE, multiline=True)
        except TextError as error:  # the form's own checks normally catch this first
            if not note.errors:
                note.errors.append(describe(error))
            text = ""
        rows.append(
            CriterionScore(criterion.code, _number(score), text, measured=_number(measured))
        )
    return rows


def _mark(sheet: ScoringSheet, form: SelfAssessmentForm, error: InvalidScores) -> None:
    """Put each of the library's problems at its criterion's field, said by its code."""
    numbers = {c.code: n for n, c in enumerate(sheet.criteria())}
    for problem in error.problems:
        words = score_problem_text(problem)
        n = numbers.get(problem.criterion)
        if n is None:
            form.form_errors.append(f"{problem.criterion}: {words}")
            continue
        score, measured, _note = form.row(n)
        field = measured if problem.column == "measured" and measured is not None else score
        field.errors.append(words)


@bp.route("/<id:plan_id>/self-assessment", methods=["POST"])
def save(plan_id: int) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan, found = _load(plan_id)
    sheet = found.sheet
    if sheet is None:
        return _page(plan, found, message=gettext("This plan has no scoring sheet."), status=422)
    form = SelfAssessmentForm.for_sheet(sheet)()
    valid = form.validate()
    rows = _scores(sheet, form)
    correct = gettext("Nothing was saved. Correct the marked fields.")
    if not valid or any(f.errors for f in form):
        # Also ask the library about the numbers that did parse, to mark every problem at once.
        try:
            validate_scores(sheet, rows)
        except InvalidScores as error:
            _mark(sheet, form, error)
        return _page(plan, found, form, correct, 422)
    try:
        pf.inspections.record_self_assessment(
            plan_id, rows, actor=user.username, expected_version=form.expected_version.data
        )
    except InvalidScores as error:
        _mark(sheet, form, error)
        return _page(plan, found, form, correct, 422)
    except PlanflowError as error:
        plan, fresh = _load(plan_id)
        if isinstance(error, PermissionDenied):
            message = gettext(
                "Only the drafter or submitter of the plan's own unit can record the"
                " self-assessment. Nothing was saved."
            )
        elif isinstance(error, StaleVersion) or fresh.may_record:
            message = describe(error)
        else:
            message = gettext("The self-assessment cannot be recorded now. Nothing was saved.")
        # Keep what was typed: the form comes back even if the page is read-only now.
        stale = isinstance(error, StaleVersion)
        return _page(plan, fresh, form, message, status_of(error), fresh=stale)
    flash(gettext("Your self-assessment was saved."), "success")
    return redirect(url_for("self_assessment.sheet", plan_id=plan_id) + "#totals")
