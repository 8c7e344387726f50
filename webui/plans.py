"""Blueprint ``plans``: the list, creating a plan, the plan page, its timeline.

Every route that takes a plan id loads the plan through
``access.visible_plan`` first (404 for a plan the user may not see); the plan
page itself is one library read, ``Planflow.plan_page``, under the same rule. State
changes go through the library only: ``Planflow.fire`` for actions (with the
version the user was looking at, so a stale page is refused instead of
acting on a plan that changed), ``Planflow.urge`` to remind whoever holds
the plan's task, ``content.add_comment`` for comments,
``Planflow.create_plan`` for new plans. Which plans the list holds and where
the user may create one are the library's rules too (``Planflow.plans``,
``Planflow.units_for_new_plans``). Refusals re-render the page with what
the user typed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.core.definitions.spec import WorkflowSpec
from planflow.errors import (
    DatabaseUnavailable,
    GuardFailed,
    NotFound,
    PermissionDenied,
    PlanflowError,
    ValidationError,
)
from planflow.views import PlanPage

from . import exports, steps
from . import plan_views as views
from .access import current_org, visible_plan
from .codes import refusal_text
from .errors import describe, status_of
from .forms import ActionForm, CommentForm, NewPlanForm, UrgeForm
from .i18n import action_label, current_language, state_label
from .plan_lists import plan_rows
from .spreadsheets import download, workbook
from .users import me, planflow, require_login

bp = Blueprint("plans", __name__, url_prefix="/plans")
require_login(bp)

PAGE_SIZE = 50
MAX_PAGE = 10_000


@bp.route("/")
def index() -> str:
    pf, user = planflow(), me()
    specs = pf.registry.all()
    states = {s.name: state_label(spec, s.name) for spec in specs for s in spec.states}
    state = request.args.get("state", "")
    state = state if state in states else ""
    year = request.args.get("year", type=int)
    year = year if year is not None and 2000 <= year <= 2100 else None
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), MAX_PAGE)
    found = pf.plans(
        as_user=user.username,
        state=state or None,
        year=year,
        page=page,
        page_size=PAGE_SIZE,
        org=current_org(pf),
    )
    return render_template(
        "plans/index.html",
        plans=plan_rows(pf, found.items),
        more=found.more,
        page=found.number,
        states=sorted(states.items(), key=lambda kv: kv[1]),
        state=state,
        year=year,
        now=pf.clock.now(),
        can_create=bool(pf.units_for_new_plans(user.username, org=current_org(pf))),
    )


@bp.route("/export.xlsx")
def export_xlsx() -> Response:
    """The list as a spreadsheet: every plan the user sees, filtered as the page is."""
    pf = planflow()
    state = request.args.get("state", "")
    state = state if state in pf.registry.state_names() else ""
    year = request.args.get("year", type=int)
    year = year if year is not None and 2000 <= year <= 2100 else None
    table = exports.plan_list(pf, me().username, state or None, year)
    return download(workbook(gettext("Plans"), table.headers, table.rows), f"{table.name}.xlsx")


# -- creating ---------------------------------------------------------------------


def _latest_specs() -> list[WorkflowSpec]:
    latest = {spec.name: spec for spec in planflow().registry.all()}  # ordered by version
    return [latest[name] for name in sorted(latest)]


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response | str | tuple[str, int]:
    pf, user = planflow(), me()
    lang = current_language()
    workflows = [(spec.name, spec.title.get(lang)) for spec in _latest_specs()]
    org = current_org(pf)
    units = pf.units_for_new_plans(user.username, org=org)
    if not units:
        abort(403)
    form = NewPlanForm()
    form.workflow.choices = [SelectChoice(name, label) for name, label in workflows]
    # The form names units by id, as it always has; the library takes the code.
    form.unit.choices = [SelectChoice(org.unit_ids[u.code], f"{u.name} ({u.code})") for u in units]
    if request.method == "GET":
        form.year.data = pf.clock.now().year
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            plan_id = pf.create_plan(
                unit_code=org.unit(form.unit.data).code,
                year=form.year.data,
                title=form.title.data,
                actor=user.username,
                workflow=form.workflow.data,
            )
        except PermissionDenied as error:
            form.unit.errors.append(describe(error))
        except PlanflowError as error:
            form.form_errors.append(describe(error))
            if isinstance(error, DatabaseUnavailable):
                status = 503  # the form stays, with what was typed
        else:
            flash(gettext("The plan was created."), "success")
            return redirect(url_for("plans.detail", plan_id=plan_id))
    return render_template("plans/new.html", form=form), status


# -- the plan page ----------------------------------------------------------------


def _detail(
    plan_id: int,
    *,
    action_form: ActionForm | None = None,
    comment_form: CommentForm | None = None,
    message: str | None = None,
    status: int = 200,
    mark_read: bool = False,
) -> tuple[str, int]:
    """The plan page as it is now (a plan the user may not see: 404), from one library
    read (``Planflow.plan_page``); ``mark_read``: the user opened it (the CC receipt)."""
    pf, user = planflow(), me()
    kept = action_form.comment.data if action_form is not None else None
    if kept and comment_form is None:
        # If the user can no longer act (someone else did first), what they
        # wrote waits in the comment box instead of being lost.
        comment_form = CommentForm(formdata=None, body=kept)
    try:
        page = pf.plan_page(plan_id, user.username, current_language(), mark_read=mark_read)
    except NotFound:
        abort(404)
    plan = page.plan
    spec = views.spec_of(pf, plan)
    # Everyone the page names, read with it: the timeline's, the comments', the deputy's.
    names = page.names
    entries = views.timeline_entries(page.trail, names, spec)
    html = render_template(
        "plans/detail.html",
        plan=plan,
        spec=spec,
        content=page.content,
        actions=page.actions,
        #: The deputy (委托) sees whom they act for: the trail will say so.
        on_behalf_of=names.get(page.on_behalf_of) if page.on_behalf_of else None,
        approvals=views.approvals(page, spec),
        decision=views.last_decision(entries),
        diff=views.diff_rows(page.diff, plan.year) if page.diff is not None else None,
        comments=[(c, names.get(c.author, "?")) for c in page.comments],
        comment_form=comment_form or CommentForm(formdata=None),
        message=message,
        kept_comment=bool(kept),
        can_edit=page.can_edit,
        urge=page.urge,
        returns=bool(page.return_options),
        return_triggers=steps.RETURNS,
        next_url=steps.after_action_link(pf, plan.id),
        **handover_forms(page),
        now=pf.clock.now(),
    )
    return html, status


@bp.route("/<id:plan_id>")
def detail(plan_id: int) -> tuple[str, int]:
    return _detail(plan_id, mark_read=True)  # the CC receipt, if they were copied


def handover_forms(page: PlanPage) -> dict[str, object]:
    from .handover import page_parts  # the module adds its routes to ``bp``

    return page_parts(page)


@bp.route("/<id:plan_id>/act", methods=["POST"])
def act(plan_id: int) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan = visible_plan(pf, user.username, plan_id)
    form = ActionForm()
    if not form.validate():
        return _detail(plan_id, action_form=form, status=422)
    try:
        done = pf.fire(
            plan_id,
            form.action.data,
            user.username,
            form.comment.data or None,
            form.expected_version.data,
        )
    except PlanflowError as error:
        if isinstance(error, GuardFailed):
            # The missing comment is the comment box's own error, too.
            missing = [r for r in error.refusals if r.code == "comment_required"]
            form.comment.errors.extend(refusal_text(r) for r in missing)
        # Show the plan as it is now, with the comment the user typed kept.
        return _detail(plan_id, action_form=form, message=describe(error), status=status_of(error))
    if done.quorum is not None and not done.moved:
        have, need = done.quorum
        flash(gettext("Your approval was recorded: %(have)d of %(need)d.", have=have, need=need))
        return redirect(url_for("plans.detail", plan_id=plan_id))
    flash(
        gettext(
            "Done: %(action)s. The plan is now: %(state)s.",
            action=action_label(views.spec_of(pf, plan), done.action),
            state=state_label(views.spec_of(pf, plan), done.to_state),
        ),
        "success",
    )
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.route("/<id:plan_id>/urge", methods=["POST"])
def urge(plan_id: int) -> Response | tuple[str, int]:
    """Remind whoever holds the plan's task now (the library decides who may, and when)."""
    pf, user = planflow(), me()
    visible_plan(pf, user.username, plan_id)
    form = UrgeForm()
    if not form.validate():
        return _detail(plan_id, status=422)
    try:
        done = pf.urge(plan_id, user.username)
    except PlanflowError as error:
        return _detail(plan_id, message=describe(error), status=status_of(error))
    names = pf.display_names(list(done.notified))
    flash(
        gettext(
            "Reminder sent to %(people)s.",
            people=", ".join(names.get(u, u) for u in done.notified),
        ),
        "success",
    )
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.route("/<id:plan_id>/comments", methods=["POST"])
def comment(plan_id: int) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    visible_plan(pf, user.username, plan_id)
    form = CommentForm()
    if form.validate():
        try:
            pf.content.add_comment(plan_id, form.body.data, actor=user.username)
        except ValidationError as error:
            form.body.errors.append(describe(error))
        else:
            flash(gettext("Your comment was added."), "success")
            return redirect(url_for("plans.detail", plan_id=plan_id) + "#comments")
    return _detail(plan_id, comment_form=form, status=422)


@bp.route("/<id:plan_id>/timeline")
def timeline(plan_id: int) -> str:
    pf = planflow()
    plan = visible_plan(pf, me().username, plan_id)
    spec = views.spec_of(pf, plan)
    return render_template(
        "plans/timeline.html", plan=plan, spec=spec, entries=views.timeline(pf, plan, spec)
    )
