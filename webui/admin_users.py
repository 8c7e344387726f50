"""Blueprint ``admin_users``: the people an admin manages, their accounts and roles.

The list is paged and searched in the database (user name, display name,
e-mail), so a thousand people are as quick as ten. A person's page changes
their profile (refused if someone else changed it meanwhile, with what was
typed kept), deactivates or reactivates them and sets a new password (both
end every session of theirs at once), and gives and takes roles at the
units the admin manages. The library decides who may do what
(``planflow.services.admin_directory``): someone outside the admin's units is a 404, an
account the admin may not change is a 403 with the reason.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.errors import NotFound, ValidationError
from planflow.services.admin_directory import (
    MAX_SEARCH,
    AdminForbidden,
    AdminRefused,
    OrgConflict,
    Person,
)

from .access import org_now
from .admin import (
    admin,
    admin_scope,
    directory,
    known_roles,
    refusal,
    require_admin,
    unit_choices,
)
from .admin_forms import (
    AssignForm,
    ConfirmForm,
    PasswordResetForm,
    ProfileForm,
    RevokeForm,
    UserCreateForm,
)
from .i18n import role_label
from .users import me, planflow

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")
require_admin(bp)

MAX_PAGE = 10_000
NONE = ""


def _first(optional: bool) -> SelectChoice:
    # Nothing is chosen until the admin chooses: a role given by mistake grants access.
    return SelectChoice(NONE, gettext("(none for now)") if optional else gettext("Choose…"))


def _role_choices(optional: bool) -> list[SelectChoice]:
    return [_first(optional), *(SelectChoice(r, role_label(r)) for r in known_roles())]


def _unit_choices(optional: bool) -> list[SelectChoice]:
    return [_first(optional), *unit_choices(org_now(planflow()), admin_scope())]


def _unit_named(code: str) -> str:
    """A unit as the admin chose it: its name, with the code beside it ("Union One (union1)")."""
    org = org_now(planflow())
    unit_id = org.unit_ids.get(code)
    return code if unit_id is None else f"{org.unit(unit_id).name} ({code})"


@bp.route("/")
def index() -> str:
    search = request.args.get("q", "").strip()[:MAX_SEARCH]
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), MAX_PAGE)
    message = None
    try:
        found = directory().people(admin_scope(), search, page)
    except ValidationError:
        message = gettext("The search contains a character that cannot be searched for.")
        found = directory().people(admin_scope(), "", page)
        search = ""
    return render_template(
        "admin/users.html", found=found, search=search, page=page, message=message
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response | tuple[str, int]:
    optional = admin_scope().everything
    form = UserCreateForm()
    form.role.choices = _role_choices(optional)
    form.unit.choices = _unit_choices(optional)
    if request.method == "GET":
        form.language.data = "en"
    elif form.validate_on_submit():
        role, unit = form.role.data or None, form.unit.data or None
        if (role is None) != (unit is None):
            (form.unit if unit is None else form.role).errors.append(
                gettext("Give both a role and a unit, or neither.")
            )
        else:
            try:
                admin().create_user(
                    me().username,
                    form.username.data,
                    form.display_name.data,
                    email=form.email.data or "",
                    language=form.language.data,
                    password=form.password.data or None,
                    role=role,
                    unit=unit,
                )
            except AdminRefused as error:
                fields = {
                    "duplicate_username": form.username,
                    "bad_username": form.username,
                    "role_required": form.role,
                    "unknown_role": form.role,
                    "password_length": form.password,
                    "password_invalid": form.password,
                }
                target = fields.get(error.reason)
                (target.errors if target is not None else form.form_errors).append(refusal(error))
            else:
                flash(gettext("%(name)s was added.", name=form.username.data), "success")
                user_id = planflow().user_id(form.username.data)
                return redirect(url_for("admin_users.person", user_id=user_id))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/user_new.html", form=form), status


def _page(
    person: Person,
    *,
    profile: ProfileForm | None = None,
    password: PasswordResetForm | None = None,
    assign: AssignForm | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if profile is None:
        profile = ProfileForm(
            formdata=None,
            display_name=person.display_name,
            email=person.email,
            language=person.language,
            stamp=person.stamp,
        )
    if assign is None:
        assign = AssignForm(formdata=None)
    assign.role.choices = _role_choices(False)
    assign.unit.choices = _unit_choices(False)
    html = render_template(
        "admin/user.html",
        person=person,
        profile=profile,
        password=password or PasswordResetForm(formdata=None),
        assign=assign,
        confirm=ConfirmForm(formdata=None),
        is_me=person.id == me().id,
        message=message,
    )
    return html, status


def _person(user_id: int) -> Person:
    return directory().person(admin_scope(), user_id)


@bp.route("/<id:user_id>")
def person(user_id: int) -> tuple[str, int]:
    return _page(_person(user_id))


@bp.route("/<id:user_id>/profile", methods=["POST"])
def profile(user_id: int) -> Response | tuple[str, int]:
    person = _person(user_id)
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(person, profile=form, status=422)
    try:
        admin().update_profile(
            me().username,
            person.username,
            display_name=form.display_name.data,
            email=form.email.data or "",
            language=form.language.data,
            expected=form.stamp.data or "",
        )
    except OrgConflict:
        fresh = _person(user_id)
        form.stamp.data = fresh.stamp  # saving again replaces what is there now
        message = gettext(
            "Someone else changed this person's details while you were editing. Nothing was "
            "saved. Now: %(name)s, %(email)s. Your changes are still in the form; save again "
            "to replace theirs.",
            name=fresh.display_name,
            email=fresh.email or "-",
        )
        return _page(fresh, profile=form, message=message, status=409)
    except AdminForbidden as error:
        return _page(person, profile=form, message=refusal(error), status=403)
    except AdminRefused as error:
        form.form_errors.append(refusal(error))
        return _page(person, profile=form, status=422)
    flash(gettext("The details were saved."), "success")
    return redirect(url_for("admin_users.person", user_id=user_id))


def _set_active(user_id: int, active: bool) -> Response | tuple[str, int]:
    person = _person(user_id)
    if not ConfirmForm().validate_on_submit():
        return _page(person, status=400)
    try:
        admin().set_active(me().username, person.username, active)
    except AdminForbidden as error:
        return _page(person, message=refusal(error), status=403)
    if active:
        flash(gettext("%(name)s can sign in again.", name=person.username), "success")
    else:
        flash(
            gettext("%(name)s was deactivated and signed out everywhere.", name=person.username),
            "success",
        )
    return redirect(url_for("admin_users.person", user_id=user_id))


@bp.route("/<id:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int) -> Response | tuple[str, int]:
    return _set_active(user_id, False)


@bp.route("/<id:user_id>/activate", methods=["POST"])
def activate(user_id: int) -> Response | tuple[str, int]:
    return _set_active(user_id, True)


@bp.route("/<id:user_id>/password", methods=["POST"])
def password(user_id: int) -> Response | tuple[str, int]:
    person = _person(user_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        return _page(person, password=form, status=422)
    try:
        admin().set_password(me().username, person.username, form.new.data)
    except AdminForbidden as error:
        return _page(person, message=refusal(error), status=403)
    except AdminRefused as error:
        form.new.errors.append(refusal(error))
        return _page(person, password=form, status=422)
    flash(
        gettext(
            "The new password of %(name)s is set; they were signed out everywhere.",
            name=person.username,
        ),
        "success",
    )
    return redirect(url_for("admin_users.person", user_id=user_id))


@bp.route("/<id:user_id>/roles", methods=["POST"])
def assign(user_id: int) -> Response | tuple[str, int]:
    person = _person(user_id)
    form = AssignForm()
    form.role.choices = _role_choices(False)
    form.unit.choices = _unit_choices(False)
    if not form.validate_on_submit():
        return _page(person, assign=form, status=422)
    try:
        added = admin().assign_role(me().username, person.username, form.role.data, form.unit.data)
    except AdminRefused as error:
        form.role.errors.append(refusal(error))
        return _page(person, assign=form, status=422)
    args = {"role": role_label(form.role.data), "unit": _unit_named(form.unit.data)}
    if added:
        flash(gettext("Role given: %(role)s at %(unit)s.", **args), "success")
    else:
        flash(gettext("This person already holds %(role)s at %(unit)s.", **args), "info")
    return redirect(url_for("admin_users.person", user_id=user_id))


@bp.route("/<id:user_id>/roles/revoke", methods=["POST"])
def revoke(user_id: int) -> Response | tuple[str, int]:
    person = _person(user_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _page(person, status=422)
    try:
        removed = admin().revoke_role(
            me().username, person.username, form.role.data, form.unit.data
        )
    except AdminForbidden as error:
        return _page(person, message=refusal(error), status=403)
    args = {"role": role_label(form.role.data), "unit": _unit_named(form.unit.data)}
    if removed:
        flash(gettext("Role taken away: %(role)s at %(unit)s.", **args), "success")
    else:
        flash(gettext("This person no longer held %(role)s at %(unit)s.", **args), "info")
    try:
        _person(user_id)
    except NotFound:
        # Their last role within the admin's units is gone, and with it the admin's view of them.
        flash(gettext("%(name)s holds no role in your units any more.", name=person.username))
        return redirect(url_for("admin_users.index"))
    return redirect(url_for("admin_users.person", user_id=user_id))
