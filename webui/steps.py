"""Blueprint ``steps``: each action on a plan in its own step, confirmed.

On a phone, two buttons side by side over one shared comment box make it
easy to return a plan with the reason meant for an approval, or to approve
by a slip of the thumb. So every action of the plan page opens its own
step: what will happen, the comment (the reason, where the definition
requires one) and a Confirm button. A return lets the reviewer pick where
the plan goes back to: the definition's own return, or one of the earlier
states its ``allows: return_to`` lists (``Planflow.return_to``). After the
action the plan page says what happened and offers the next plan of the
review queue. The rules are the library's: this module only asks.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from planflow.app import Planflow
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.returns import RETURN_TO
from planflow.errors import GuardFailed, NotFound, PlanflowError
from planflow.views import PlanView, ReturnOption

from . import plan_views as views
from .access import visible_plan
from .codes import blocked_intro, refusal_text
from .errors import describe, status_of
from .forms import StepForm
from .i18n import action_label, current_language, state_label
from .users import me, planflow, require_login

bp = Blueprint("steps", __name__, url_prefix="/plans")
require_login(bp)

#: The triggers that send a plan back: their step offers the earlier states too.
RETURNS = ("return_for_revision",)


def needs_reason(spec: WorkflowSpec, action: str) -> bool:
    """Whether the definition requires a comment for ``action`` (a return's reason)."""
    if action == RETURN_TO:
        return True
    t = spec.transition_named(action)
    return t is not None and any(g.name == "comment_required" for g in t.guards)


def next_in_queue(pf: Planflow, username: str, after: int) -> str | None:
    """The plan page of the first other plan waiting for the user, if any."""
    queue = pf.review_queue(username, mine_page=1, others_page=1, page_size=5)
    for entry in queue.mine.items:
        if entry.plan.id != after:
            return url_for("plans.detail", plan_id=entry.plan.id)
    return None


def _targets(pf: Planflow, plan: PlanView, action: str) -> list[ReturnOption]:
    if action not in (*RETURNS, RETURN_TO):
        return []
    return pf.return_options(plan.id, me().username, current_language())


def _page(
    plan: PlanView, action: str, form: StepForm, message: str | None = None, status: int = 200
) -> tuple[str, int]:
    pf = planflow()
    spec = views.spec_of(pf, plan)
    targets = _targets(pf, plan, action)
    own = spec.transition_named(action) if action != RETURN_TO else None
    html = render_template(
        "plans/step.html",
        plan=plan,
        spec=spec,
        action=action,
        label=action_label(spec, action) if own else gettext("Return to an earlier step"),
        own_dest=state_label(spec, own.dest) if own else None,
        targets=targets,
        reason=needs_reason(spec, action),
        form=form,
        message=message,
    )
    return html, status


def _plan_for(pf: Planflow, plan_id: int, action: str) -> PlanView:
    """The plan, if the user may see it and its definition has ``action``: an address
    with an action the plan's workflow does not know is not found (it used to show the
    page of another action)."""
    plan = visible_plan(pf, me().username, plan_id)
    if action != RETURN_TO and views.spec_of(pf, plan).transition_named(action) is None:
        raise NotFound("action", action)
    return plan


@bp.route("/<id:plan_id>/step/<string(maxlength=64):action>", methods=["GET"])
def step(plan_id: int, action: str) -> tuple[str, int]:
    pf = planflow()
    plan = _plan_for(pf, plan_id, action)
    # The version the user saw on the plan page: a plan changed since is refused.
    seen = request.args.get("expected_version", type=int)
    if seen is None or not 0 <= seen <= plan.version:
        seen = plan.version
    form = StepForm(formdata=None, expected_version=seen)
    return _page(plan, action, form, _blocked(pf, plan, action))


def _blocked(pf: Planflow, plan: PlanView, action: str) -> str | None:
    """Why the action cannot be taken now, said before the user writes a reason."""
    for option in pf.available_actions(plan.id, me().username, lang=current_language()):
        if option.trigger == action and not option.ready:
            reasons = " ".join(refusal_text(r) for r in option.blocked_by)
            return f"{blocked_intro(option.label, option.blocked_by)} {reasons}"
    return None


@bp.route("/<id:plan_id>/step/<string(maxlength=64):action>", methods=["POST"])
def confirm(plan_id: int, action: str) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan = _plan_for(pf, plan_id, action)
    form = StepForm()
    if not form.validate():
        return _page(plan, action, form, status=422)
    comment = form.comment.data or None
    target = form.target.data or (None if action != RETURN_TO else "")
    try:
        if target is not None:
            done = pf.return_to(plan_id, target, user.username, comment, form.expected_version.data)
        else:
            done = pf.fire(plan_id, action, user.username, comment, form.expected_version.data)
    except PlanflowError as error:
        if isinstance(error, GuardFailed):
            missing = [r for r in error.refusals if r.code == "comment_required"]
            form.comment.errors.extend(refusal_text(r) for r in missing)
        fresh = visible_plan(pf, user.username, plan_id)
        return _page(fresh, action, form, describe(error), status_of(error))
    spec = views.spec_of(pf, plan)
    if done.quorum is not None and not done.moved:
        have, need = done.quorum
        flash(gettext("Your approval was recorded: %(have)d of %(need)d.", have=have, need=need))
    else:
        flash(
            gettext(
                "Done: %(action)s. The plan is now: %(state)s.",
                action=action_label(spec, done.action)
                if done.action != RETURN_TO
                else gettext("Return to an earlier step"),
                state=state_label(spec, done.to_state),
            ),
            "success",
        )
    return redirect(url_for("plans.detail", plan_id=plan_id, done=1))


def after_action_link(pf: Planflow, plan_id: int) -> str | None:
    """On the plan page right after an action (``?done=1``): the next plan to review."""
    if request.args.get("done") != "1":
        return None
    return next_in_queue(pf, me().username, plan_id)
