"""Blueprint ``inspections``: the inspection calendar and the inspection form.

- ``/inspections/`` (this month) and ``/inspections/<yyyy>/<mm>``: the
  inspections the user may see (the library's visibility rule) as the library
  places them (``InspectionCalendar.entries``): on the planned visit date,
  else on the task's due date; a plan being rectified on its rectification
  due date. A grid on wide screens and a day-by-day list, where the
  inspector plans the visits.
- ``/inspections/plan/<id>``: the plan's scoring sheet with the unit's
  self-assessment beside the inspector's scores, the totals and the grade
  they lead to, the plan's progress reports and evidence, earlier rounds;
  the inspector saves scores, starts and finishes the inspection there.
- ``/inspections/plan/<id>/visit`` (POST): plan, move or remove the visit.

Every route that takes a plan id loads it through ``visible_plan`` (404).
The library decides who may do what (``InspectionCalendar.status``) and
checks again when acting, with the version the user saw; a refusal shows
the page again with what was typed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import format_date  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from planflow.core.definitions.spec import ScoringSheet
from planflow.core.inspection.scoring import CriterionScore, InvalidScores
from planflow.errors import ActionNotAllowed, PlanflowError, StaleVersion
from planflow.services.inspections.rounds import ACCEPT
from planflow.services.inspections.visits import VisitDateRefused
from planflow.views import InspectionRoundView

from . import plan_views
from .access import visible_plan
from .codes import score_problem_text
from .errors import describe, status_of
from .i18n import current_language
from .inspection_forms import NUMBER_HINT, SheetForm, VisitForm, parse_number, sheet_form
from .inspection_month import (
    FIRST_YEAR,
    LAST_YEAR,
    gettext,
    local_tz,
    month_key,
    month_page,
    number,
)
from .inspection_views import grade_name, sheet_page
from .users import me, planflow, require_login

bp = Blueprint("inspections", __name__, url_prefix="/inspections")
require_login(bp)


# -- the calendar ---------------------------------------------------------------------


@bp.route("/")
def index() -> str:
    today = planflow().inspections.today(local_tz())
    return month_page(today.year, today.month)


@bp.route("/<int:year>/<int:month>")
def month(year: int, month: int) -> str:
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        abort(404)
    return month_page(year, month)


# -- the visit ----------------------------------------------------------------------------


@bp.route("/plan/<id:plan_id>/visit", methods=["POST"])
def visit(plan_id: int) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan = visible_plan(pf, user.username, plan_id)
    form = VisitForm()
    if not form.validate():
        return sheet_page(plan, visit_form=form, status=422)
    day = form.visit_day() if form.op.data == "set" else None
    try:
        pf.inspections.set_visit_date(
            plan_id,
            day,
            actor=user.username,
            expected_version=form.expected_version.data,
            tz=local_tz(),
        )
    except VisitDateRefused as error:
        form.visit_date.errors.append(
            gettext(
                "Choose a day from %(earliest)s to %(latest)s.",
                earliest=format_date(error.earliest),
                latest=format_date(error.latest),
            )
        )
        return sheet_page(visible_plan(pf, user.username, plan_id), visit_form=form, status=422)
    except PlanflowError as error:
        fresh = visible_plan(pf, user.username, plan_id)
        return sheet_page(fresh, visit_form=form, message=describe(error), status=status_of(error))
    if day is None:
        flash(gettext("The visit date was removed."), "success")
    else:
        flash(gettext("The visit is planned for %(day)s.", day=format_date(day)), "success")
    if form.back.data == "calendar":
        shown = month_key(form.month.data) or ((day.year, day.month) if day else None)
        if shown is None:
            return redirect(url_for("inspections.index"))
        return redirect(url_for("inspections.month", year=shown[0], month=shown[1]))
    return redirect(url_for("inspections.sheet", plan_id=plan_id) + "#visit")


# -- the sheet ----------------------------------------------------------------------------


@bp.route("/plan/<id:plan_id>")
def sheet(plan_id: int) -> tuple[str, int]:
    return sheet_page(visible_plan(planflow(), me().username, plan_id))


def _typed(form: SheetForm, sheet: ScoringSheet) -> list[CriterionScore]:
    """The inspector's column as typed (the form has checked that numbers are numbers)."""
    rows = []
    for index, cr in enumerate(sheet.criteria()):
        measured = form.measured(index)
        rows.append(
            CriterionScore(
                cr.code,
                inspector_score=parse_number(form.score(index).data),
                inspector_note=form.note(index).data or "",
                measured=parse_number(measured.data) if measured is not None else None,
            )
        )
    return rows


def _changed(typed: list[CriterionScore], found: InspectionRoundView | None) -> bool:
    saved = {s.code: s for s in found.scores} if found else {}
    for row in typed:
        old = saved.get(row.code, CriterionScore(row.code))
        if (row.inspector_score, row.measured, row.inspector_note) != (
            old.inspector_score,
            old.measured,
            old.inspector_note,
        ):
            return True
    return False


def _score_problems(form: SheetForm, sheet: ScoringSheet, error: InvalidScores) -> None:
    """The library's findings about the scores, by code, next to their fields."""
    where = {cr.code: (i, cr) for i, cr in enumerate(sheet.criteria())}
    for problem in error.problems:
        if problem.criterion not in where:
            form.form_errors.append(f"{problem.criterion}: {score_problem_text(problem)}")
            continue
        index, cr = where[problem.criterion]
        field, measured = form.score(index), form.measured(index)
        if problem.column == "measured" and measured is not None:
            field = measured
        if problem.code in ("not_number", "not_finite"):
            message = str(NUMBER_HINT)
        elif problem.code == "below_zero":
            message = gettext("The score cannot be below 0.")
        elif problem.code == "above_points":
            message = gettext(
                "This criterion has %(points)s points at most.", points=number(cr.points)
            )
        else:
            message = score_problem_text(problem)
        field.errors = [*field.errors, message]


@bp.route("/plan/<id:plan_id>", methods=["POST"])
def record(plan_id: int) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan = visible_plan(pf, user.username, plan_id)
    sheet = plan_views.spec_of(pf, plan).inspection
    if sheet is None:
        abort(404)
    form = sheet_form(sheet)()
    if not form.validate():
        return sheet_page(plan, form=form, status=422)
    op = form.op.data
    status = pf.inspections.status(plan_id, user.username)
    if not {"save": status.may_score, "start": status.may_start, "finish": status.may_finish}[op]:
        # Refused here, before anything is saved: say why (the library would say the same).
        error: PlanflowError
        if status.refusal is not None:
            error = status.refusal
        elif form.expected_version.data != plan.version:
            error = StaleVersion(plan_id, form.expected_version.data, plan.version)
        else:
            error = ActionNotAllowed(op, plan.state, [])
        return sheet_page(plan, form=form, message=describe(error), status=status_of(error))
    typed = _typed(form, sheet)
    version, saved = form.expected_version.data, False
    try:
        if _changed(typed, pf.inspections.current(plan_id)):
            version = pf.inspections.record_scores(
                plan_id, typed, actor=user.username, expected_version=version
            )
            saved = True
        if op == "start":
            pf.inspections.start(plan_id, actor=user.username, expected_version=version)
        elif op == "finish":
            missing = [i for i, row in enumerate(typed) if row.inspector_score is None]
            for index in missing:
                form.score(index).errors.append(gettext("Score this criterion before you finish."))
            if missing:
                message = gettext("Score every criterion before you finish the inspection.")
                fresh = visible_plan(pf, user.username, plan_id)
                return sheet_page(fresh, form=form, message=message, status=422)
            done = pf.inspections.finish(
                plan_id,
                actor=user.username,
                comment=form.comment.data or None,
                expected_version=version,
            )
    except InvalidScores as error:
        _score_problems(form, sheet, error)
        return sheet_page(visible_plan(pf, user.username, plan_id), form=form, status=422)
    except PlanflowError as error:
        message = describe(error)
        if saved:
            message = gettext("Your scores were saved, but: %(problem)s", problem=message)
        fresh = visible_plan(pf, user.username, plan_id)
        return sheet_page(fresh, form=form, message=message, status=status_of(error))
    url = url_for("inspections.sheet", plan_id=plan_id)
    if op == "save":
        flash(gettext("The scores were saved.") if saved else gettext("Nothing had changed."))
        return redirect(url + "#outcome")
    if op == "start":
        flash(gettext("The inspection has started. Score every criterion, then finish it."))
        return redirect(url)
    if done.action == ACCEPT:
        grade = grade_name(sheet, done.grade, current_language())
        flash(gettext("Inspection finished: accepted with the grade %(grade)s.", grade=grade))
    else:
        due = done.rectification_due
        flash(
            gettext("Inspection finished: the unit must rectify by %(day)s.", day=format_date(due))
        )
    return redirect(url + "#outcome")
