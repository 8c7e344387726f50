"""Blueprint ``admin_org``: the organisation tree an admin manages, and its units.

The tree page shows the admin's part of the tree (nested lists, folded with
``<details>``, no script) with each unit's code, name and how many people
and roles it has, and a form to add a unit. A unit's page renames it (the
code stays: plans, definitions and people refer to it) and moves it with
everything below it. The library does the work (``planflow.services.org_admin``)
and refuses a duplicate code, a move below the unit itself, and anything
outside the admin's units (404 here, as if it did not exist). A move sends
the moved plans' open tasks by the new tree in the same transaction
(``planflow.services.unit_moves``, as the command line and the library do);
the page says how many followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response

from planflow.core.org import OrgSnapshot, UnitInfo
from planflow.services.admin_directory import AdminRefused, AdminScope, OrgConflict, UnitStats
from planflow.storage.org_repo import CODE_RE

from .access import org_now
from .admin import admin, admin_scope, directory, refusal, require_admin, tree_order, unit_choices
from .admin_forms import UnitAddForm, UnitMoveForm, UnitRenameForm
from .forms import CHOOSE
from .users import me, planflow

bp = Blueprint("admin_org", __name__, url_prefix="/admin/units")
require_admin(bp)

#: Levels of the tree shown unfolded; deeper ones open on a click.
OPEN_LEVELS = 2


@dataclass
class TreeNode:
    unit: UnitInfo
    depth: int
    stats: UnitStats
    children: list[TreeNode] = field(default_factory=list)


def _tree(org: OrgSnapshot, scope: AdminScope) -> list[TreeNode]:
    stats = directory().unit_stats()
    roots: list[TreeNode] = []
    path: list[TreeNode] = []
    for unit_id, depth in tree_order(org, scope):
        node = TreeNode(org.unit(unit_id), depth, stats.get(unit_id, UnitStats(0, 0)))
        del path[depth:]
        (path[-1].children if path else roots).append(node)
        path.append(node)
    return roots


def _unit(org: OrgSnapshot, scope: AdminScope, code: str) -> UnitInfo:
    """The unit with ``code`` if the admin manages it; 404 otherwise."""
    if CODE_RE.match(code):
        for unit_id in scope.units:
            unit = org.units.get(unit_id)
            if unit is not None and unit.code == code:
                return unit
    abort(404)


def _tree_page(form: UnitAddForm, status: int = 200) -> tuple[str, int]:
    org, scope = org_now(planflow()), admin_scope()
    form.parent.choices = unit_choices(org, scope)
    html = render_template(
        "admin/units.html", tree=_tree(org, scope), form=form, open_levels=OPEN_LEVELS
    )
    return html, status


@bp.route("/")
def index() -> tuple[str, int]:
    form = UnitAddForm(formdata=None)
    wanted = request.args.get("parent", "")
    form.parent.data = wanted if CODE_RE.match(wanted) else None
    return _tree_page(form)


@bp.route("/", methods=["POST"])
def add() -> Response | tuple[str, int]:
    org, scope = org_now(planflow()), admin_scope()
    form = UnitAddForm()
    form.parent.choices = unit_choices(org, scope)
    if not form.validate_on_submit():
        return _tree_page(form, 422)
    try:
        admin().add_unit(me().username, form.code.data, form.name.data, form.parent.data)
    except AdminRefused as error:
        target = form.code if error.reason in ("duplicate_code", "bad_code") else form.name
        target.errors.append(refusal(error))
        return _tree_page(form, 422)
    flash(gettext("Unit %(code)s was added.", code=form.code.data), "success")
    return redirect(url_for("admin_org.unit", code=form.code.data))


def _unit_page(
    code: str,
    *,
    rename: UnitRenameForm | None = None,
    move: UnitMoveForm | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    org, scope = org_now(planflow()), admin_scope()
    unit = _unit(org, scope, code)
    if rename is None:
        rename = UnitRenameForm(formdata=None, name=unit.name, expected_name=unit.name)
    if move is None:
        move = UnitMoveForm(formdata=None)
        move.parent.data = org.unit(unit.parent_id).code if unit.parent_id else None
    move.parent.choices = unit_choices(org, scope, frozenset(org.subtree(unit.id)))
    parent = org.units.get(unit.parent_id) if unit.parent_id is not None else None
    children = sorted(
        (u for u in org.units.values() if u.parent_id == unit.id), key=lambda u: u.code
    )
    html = render_template(
        "admin/unit.html",
        unit=unit,
        parent=parent if parent is not None and scope.manages(parent.id) else None,
        parent_outside=parent if parent is not None and not scope.manages(parent.id) else None,
        children=children,
        people=directory().unit_people(unit.id),
        rename=rename,
        move=move,
        message=message,
    )
    return html, status


@bp.route("/<code>")
def unit(code: str) -> tuple[str, int]:
    return _unit_page(code)


@bp.route("/<code>/rename", methods=["POST"])
def rename(code: str) -> Response | tuple[str, int]:
    _unit(org_now(planflow()), admin_scope(), code)
    form = UnitRenameForm()
    if not form.validate_on_submit():
        return _unit_page(code, rename=form, status=422)
    try:
        admin().rename_unit(
            me().username, code, form.name.data, expected_name=form.expected_name.data or ""
        )
    except OrgConflict as error:
        # What the admin typed stays; the next save replaces the name shown now.
        form.expected_name.data = error.current
        message = gettext(
            "Someone else renamed this unit to “%(name)s” while you were looking. "
            "Nothing was saved. Save again to replace it with your name.",
            name=error.current,
        )
        return _unit_page(code, rename=form, message=message, status=409)
    except AdminRefused as error:
        form.name.errors.append(refusal(error))
        return _unit_page(code, rename=form, status=422)
    flash(gettext("The unit was renamed."), "success")
    return redirect(url_for("admin_org.unit", code=code))


@bp.route("/<code>/move", methods=["POST"])
def move(code: str) -> Response | tuple[str, int]:
    org, scope = org_now(planflow()), admin_scope()
    _unit(org, scope, code)
    form = UnitMoveForm()
    if not form.validate_on_submit():
        return _unit_page(code, move=form, status=422)
    wanted = form.parent.data or ""
    if wanted not in {org.unit(u).code for u in scope.units}:
        form.parent.errors.append(str(CHOOSE))
        return _unit_page(code, move=form, status=422)
    try:
        report = admin().move_unit(me().username, code, wanted)
    except AdminRefused as error:
        form.parent.errors.append(refusal(error))
        return _unit_page(code, move=form, status=422)
    flash(gettext("The unit was moved."), "success")
    if report.rerouted:
        moved = len(report.rerouted)
        flash(
            ngettext(
                "%(num)d waiting plan now waits at its new place in the tree.",
                "%(num)d waiting plans now wait at their new place in the tree.",
                moved,
            ),
            "success",
        )
    return redirect(url_for("admin_org.unit", code=code))
