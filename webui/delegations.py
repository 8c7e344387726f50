"""Blueprint ``delegations``: a person's deputies while they are away (委托).

``/settings/delegations/``: the delegations one gave and received, a form
to name a deputy for a range of days (every task, or one workflow's or
one role's), a button to end one, and the tasks one may act on now for
someone away. ``/admin/people/<username>/delegations``: the same page for
an administrator setting one for someone in their units who is away. Thin
over ``pf.delegations``: its rules and its refusals, each put on the field
it names, with what was typed kept.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.errors import NotFound, PermissionDenied, ValidationError

from .errors import describe
from .i18n import current_language, role_label
from .personal_forms import DelegationForm, EndDelegationForm
from .users import me, planflow, require_login

bp = Blueprint("delegations", __name__)
require_login(bp)


def _form(*, filled: bool = True) -> DelegationForm:
    form = DelegationForm() if filled else DelegationForm(formdata=None)
    pf, lang = planflow(), current_language()
    latest = {spec.name: spec for spec in pf.registry.all()}  # ordered by version
    form.workflow.choices = [SelectChoice("", gettext("every workflow"))] + [
        SelectChoice(name, latest[name].title.get(lang)) for name in sorted(latest)
    ]
    form.role.choices = [SelectChoice("", gettext("every role"))] + [
        SelectChoice(r, role_label(r)) for r in pf.org.known_roles()
    ]
    return form


def _page(for_user: str | None, form: DelegationForm, status: int = 200) -> tuple[str, int]:
    pf, user = planflow(), me()
    try:
        found = pf.delegations.list(user.username, for_user=for_user)
    except (NotFound, PermissionDenied):
        abort(404)
    people = pf.display_names([d.delegator for d in found] + [d.deputy for d in found] + [for_user])
    tasks = pf.delegations.tasks(user.username) if for_user is None else []
    return render_template(
        "delegations/index.html",
        for_user=for_user,
        for_name=people.get(for_user or "", for_user),
        delegations=found,
        people=people,
        tasks=tasks,
        form=form,
        end_form=EndDelegationForm(formdata=None),
        action=_here(for_user),
    ), status


def _here(for_user: str | None) -> str:
    if for_user is None:
        return url_for("delegations.index")
    return url_for("delegations.for_person", username=for_user)


@bp.route("/settings/delegations/")
def index() -> tuple[str, int]:
    return _page(None, _form(filled=False))


@bp.route("/admin/people/<string(maxlength=100):username>/delegations")
def for_person(username: str) -> tuple[str, int]:
    return _page(username, _form(filled=False))


@bp.route("/settings/delegations/", methods=["POST"])
def add() -> tuple[str, int] | Response:
    return _add(None)


@bp.route("/admin/people/<string(maxlength=100):username>/delegations", methods=["POST"])
def add_for(username: str) -> tuple[str, int] | Response:
    return _add(username)


def _add(for_user: str | None) -> tuple[str, int] | Response:
    form = _form()
    if not form.validate_on_submit():
        return _page(for_user, form, 422)
    try:
        done = planflow().delegations.add(
            me().username,
            form.deputy.data,
            form.starts_on.data,
            form.ends_on.data,
            for_user=for_user,
            workflow=form.workflow.data or None,
            role=form.role.data or None,
            reason=form.reason.data or None,
        )
    except NotFound:
        abort(404)
    except (ValidationError, PermissionDenied) as error:
        field = getattr(form, str(error.params.get("field", "")), None)
        if field is not None and field.name in DelegationForm.__dict__:
            field.errors = [*field.errors, describe(error)]
        else:
            form.form_errors.append(describe(error))
        return _page(for_user, form, 422)
    flash(
        gettext(
            "%(deputy)s is your deputy from %(start)s to %(end)s.",
            deputy=planflow().display_names([done.deputy]).get(done.deputy, done.deputy),
            start=done.starts_on.isoformat(),
            end=done.ends_on.isoformat(),
        ),
        "info",
    )
    return redirect(_here(for_user))


@bp.route("/settings/delegations/end", methods=["POST"])
def end() -> Response:
    form = EndDelegationForm()
    if not form.validate():
        abort(400)
    try:
        ended = planflow().delegations.end(me().username, form.delegation.data)
    except (NotFound, PermissionDenied):
        abort(404)
    if ended:
        flash(gettext("The delegation has ended: open tasks are back with their holder."), "info")
    return redirect(url_for("delegations.index"))
