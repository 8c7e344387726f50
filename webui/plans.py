"""Blueprint ``plans``: the list, creating a plan, the plan page, its timeline.

Every route that takes a plan id loads the plan through
``access.visible_plan`` first (404 for a plan the user may not see). State
changes go through the library only: ``service.fire`` for actions (with the
version the user was looking at, so a stale page is refused instead of
acting on a plan that changed), ``content.add_comment`` for comments,
``service.create_plan`` for new plans. Refusals re-render the page with
what the user typed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from sqlmodel import col
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.org import OrgSnapshot
from planflow.errors import GuardFailed, PermissionDenied, PlanflowError, ValidationError
from planflow.storage.tables import Plan

from . import plan_views as views
from .access import Viewer, current_org, current_viewer, org_now, visible_plan
from .codes import refusal_text
from .editor import can_edit
from .errors import describe, status_of
from .forms import ActionForm, CommentForm, NewPlanForm
from .i18n import action_label, current_language, state_label
from .plan_lists import plan_rows
from .users import me, planflow, require_login

bp = Blueprint("plans", __name__, url_prefix="/plans")
require_login(bp)

PAGE_SIZE = 50
MAX_PAGE = 10_000


@bp.route("/")
def index() -> str:
    pf = planflow()
    viewer = current_viewer(pf, me().id)
    specs = pf.registry.all()
    states = {s.name: state_label(spec, s.name) for spec in specs for s in spec.states}
    state = request.args.get("state", "")
    state = state if state in states else ""
    year = request.args.get("year", type=int)
    year = year if year is not None and 2000 <= year <= 2100 else None
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), MAX_PAGE)
    where = [viewer.plan_filter()]
    if state:
        where.append(col(Plan.state) == state)
    if year is not None:
        where.append(col(Plan.year) == year)
    rows = plan_rows(
        pf,
        where,
        [col(Plan.year).desc(), col(Plan.id).desc()],
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
    )
    return render_template(
        "plans/index.html",
        plans=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        page=page,
        states=sorted(states.items(), key=lambda kv: kv[1]),
        state=state,
        year=year,
        now=pf.clock.now(),
        can_create=bool(_units_for_new_plans(org_now(pf), viewer)),
    )


# -- creating ---------------------------------------------------------------------


def _creatable_units(org: OrgSnapshot, viewer: Viewer, spec: WorkflowSpec) -> list[int]:
    """Units where the user may create a plan of ``spec`` (the library checks again)."""
    ref = spec.creator
    tops = [unit for unit, role in viewer.roles if role == ref.role]
    # A role is looked up at the plan's unit or above it, so candidates lie below `tops`.
    candidates = {u for top in tops for u in org.subtree(top)}
    return sorted(
        (u for u in candidates if viewer.user_id in org.assignees(ref, u)),
        key=lambda u: org.unit(u).code,
    )


def _latest_specs() -> list[WorkflowSpec]:
    latest = {spec.name: spec for spec in planflow().registry.all()}  # ordered by version
    return [latest[name] for name in sorted(latest)]


def _units_for_new_plans(org: OrgSnapshot, viewer: Viewer) -> list[int]:
    return sorted({u for spec in _latest_specs() for u in _creatable_units(org, viewer, spec)})


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response | str | tuple[str, int]:
    pf, user = planflow(), me()
    org = org_now(pf)
    viewer = current_viewer(pf, user.id)
    lang = current_language()
    workflows = [(spec.name, spec.title.get(lang)) for spec in _latest_specs()]
    units = _units_for_new_plans(org, viewer)
    if not units:
        abort(403)
    form = NewPlanForm()
    form.workflow.choices = [SelectChoice(name, label) for name, label in workflows]
    form.unit.choices = [SelectChoice(u, f"{org.unit(u).name} ({org.unit(u).code})") for u in units]
    if request.method == "GET":
        form.year.data = pf.clock.now().year
    if form.validate_on_submit():
        try:
            plan_id = pf.service.create_plan(
                unit_id=form.unit.data,
                year=form.year.data,
                title=form.title.data,
                actor_id=user.id,
                workflow=form.workflow.data,
            )
        except PermissionDenied as error:
            form.unit.errors.append(describe(error))
        except PlanflowError as error:
            form.form_errors.append(describe(error))
        else:
            flash(gettext("The plan was created."), "success")
            return redirect(url_for("plans.detail", plan_id=plan_id))
    status = 422 if form.is_submitted() else 200
    return render_template("plans/new.html", form=form), status


# -- the plan page ----------------------------------------------------------------


def _detail(
    plan: Plan,
    *,
    action_form: ActionForm | None = None,
    comment_form: CommentForm | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    pf, user = planflow(), me()
    assert plan.id is not None
    kept = action_form.comment.data if action_form is not None else None
    if kept and comment_form is None:
        # If the user can no longer act (someone else did first), what they
        # wrote waits in the comment box instead of being lost.
        comment_form = CommentForm(formdata=None, body=kept)
    spec = views.spec_of(pf, plan)
    org = current_org(pf)
    entries = views.timeline(pf, plan, spec)
    diff = views.latest_diff(pf, plan)
    comments = pf.content.comments(plan.id)
    names = views.display_names(pf, [c.author_id for c in comments])
    html = render_template(
        "plans/detail.html",
        plan=plan,
        spec=spec,
        unit=org.units.get(plan.unit_id),
        task_unit=org.units.get(plan.task_unit_id) if plan.task_unit_id else None,
        escalated_unit=(
            org.units.get(plan.task_escalated_unit_id) if plan.task_escalated_unit_id else None
        ),
        content=pf.content.content(plan.id),
        actions=pf.available_actions(plan.id, user.username, lang=current_language()),
        approvals=views.approvals(pf, plan, spec),
        decision=views.last_decision(entries),
        diff=views.diff_rows(diff, plan.year) if diff is not None else None,
        comments=[(c, names.get(c.author_id, "?")) for c in comments],
        action_form=action_form or ActionForm(formdata=None),
        comment_form=comment_form or CommentForm(formdata=None),
        message=message,
        kept_comment=bool(kept),
        can_edit=can_edit(org, spec, plan, user.id),
        now=pf.clock.now(),
    )
    return html, status


@bp.route("/<id:plan_id>")
def detail(plan_id: int) -> tuple[str, int]:
    pf = planflow()
    return _detail(visible_plan(pf, current_viewer(pf, me().id), plan_id))


@bp.route("/<id:plan_id>/act", methods=["POST"])
def act(plan_id: int) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    viewer = current_viewer(pf, user.id)
    plan = visible_plan(pf, viewer, plan_id)
    form = ActionForm()
    if not form.validate():
        return _detail(plan, action_form=form, status=422)
    try:
        change = pf.service.fire(
            plan_id,
            form.action.data,
            user.id,
            form.comment.data or None,
            form.expected_version.data,
        )
    except PlanflowError as error:
        if isinstance(error, GuardFailed):
            # The missing comment is the comment box's own error, too.
            missing = [r for r in error.refusals if r.code == "comment_required"]
            form.comment.errors.extend(refusal_text(r) for r in missing)
        # Show the plan as it is now, with the comment the user typed kept.
        fresh = visible_plan(pf, viewer, plan_id)
        return _detail(fresh, action_form=form, message=describe(error), status=status_of(error))
    quorum = change.decision.quorum if change.decision is not None else None
    if quorum is not None and change.from_state == change.to_state:
        have, need = quorum
        flash(gettext("Your approval was recorded: %(have)d of %(need)d.", have=have, need=need))
        return redirect(url_for("plans.detail", plan_id=plan_id))
    flash(
        gettext(
            "Done: %(action)s. The plan is now: %(state)s.",
            action=action_label(change.spec, change.action),
            state=state_label(change.spec, change.to_state),
        ),
        "success",
    )
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.route("/<id:plan_id>/comments", methods=["POST"])
def comment(plan_id: int) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan = visible_plan(pf, current_viewer(pf, user.id), plan_id)
    form = CommentForm()
    if form.validate():
        try:
            pf.content.add_comment(plan_id, user.id, form.body.data)
        except ValidationError as error:
            form.body.errors.append(describe(error))
        else:
            flash(gettext("Your comment was added."), "success")
            return redirect(url_for("plans.detail", plan_id=plan_id) + "#comments")
    return _detail(plan, comment_form=form, status=422)


@bp.route("/<id:plan_id>/timeline")
def timeline(plan_id: int) -> str:
    pf = planflow()
    plan = visible_plan(pf, current_viewer(pf, me().id), plan_id)
    spec = views.spec_of(pf, plan)
    return render_template(
        "plans/timeline.html", plan=plan, spec=spec, entries=views.timeline(pf, plan, spec)
    )
