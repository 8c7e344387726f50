"""Blueprint ``admin``: the administrators' area, its guard, and the audit check.

Every admin blueprint calls ``require_admin(bp)``: the guard signs people in
first, then answers 403 to anyone who holds ``admin`` nowhere. What an admin
manages is the library's rule (``planflow.services.admin_directory.AdminScope``), computed once
per request; the pages show only that part of the tree and the library
checks it again when it changes anything.

The audit page runs the same verification as ``planflow audit verify``, on
a button (it reads every record, which takes a while on a large database)
and offers the trail as JSON lines or CSV, streamed. Both are for admins of
the whole organisation: the trail covers every unit.
"""

from __future__ import annotations

import time
from typing import cast

from flask import Blueprint, Response, abort, g, render_template, stream_with_context
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.core.audit_chain import ChainProblem
from planflow.core.definitions.spec import BUILTIN_ROLES
from planflow.core.org import OrgSnapshot
from planflow.errors import PlanflowError
from planflow.facade.admin import AdminAPI
from planflow.services.accounts import MAX_PASSWORD, MIN_PASSWORD
from planflow.services.admin_directory import ADMIN, AdminDirectory, AdminScope, scope_of
from planflow.views import AuditReport

from . import exports
from .access import org_now
from .admin_forms import ConfirmForm
from .errors import describe, error_page
from .org_audit_texts import detail_fields
from .spreadsheets import download, workbook
from .users import login_manager, me, planflow, signed_in

bp = Blueprint("admin", __name__, url_prefix="/admin")

EXPORT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
EXPORT_BATCH = 500
#: The most problems the audit page lists (the first is the one that matters).
SHOWN_PROBLEMS = 20


def _scope_now() -> AdminScope | None:
    if "admin_scope" not in g:
        g.admin_scope = scope_of(org_now(planflow()), me().id) if signed_in() else None
    return cast(AdminScope | None, g.admin_scope)


def admin_scope() -> AdminScope:
    """What the signed-in admin manages (only call it behind ``require_admin``)."""
    scope = _scope_now()
    assert scope is not None
    return scope


def _guard() -> Response | tuple[str, int] | None:
    if not signed_in():
        return cast(Response, login_manager.unauthorized())
    if _scope_now() is None:
        return error_page(403, gettext("This page is for administrators."))
    return None


def require_admin(blueprint: Blueprint) -> None:
    blueprint.before_request(_guard)


require_admin(bp)


@bp.app_context_processor
def _template_helpers() -> dict[str, object]:
    # Lazy: only the admin pages' menu asks.
    def admin_of_everything() -> bool:
        scope = _scope_now() if signed_in() else None
        return scope is not None and scope.everything

    return {"admin_of_everything": admin_of_everything}


def directory() -> AdminDirectory:
    return planflow().admin_directory()


def admin() -> AdminAPI:
    """An administrator's changes, by username (``Planflow.admin``)."""
    return planflow().admin


def known_roles() -> tuple[str, ...]:
    """Every role a definition knows: the built-in ones in their order, then those
    definitions add, with ``admin`` last (it is the one given least often)."""
    added = {r for spec in planflow().registry.all() for r in spec.roles} - set(BUILTIN_ROLES)
    builtin = [r for r in BUILTIN_ROLES if r != ADMIN]
    return (*builtin, *sorted(added), ADMIN)


def tree_order(org: OrgSnapshot, scope: AdminScope) -> list[tuple[int, int]]:
    """(unit id, depth) of the admin's units, depth first, children by code."""
    out: list[tuple[int, int]] = []
    # An admin at a union and at the federation sees the union once, inside the federation.
    tops = [t for t in scope.tops if not scope.tops.intersection(org.ancestors(t))]
    stack = [(top, 0) for top in sorted(tops, key=lambda u: org.unit(u).code, reverse=True)]
    children: dict[int, list[int]] = {}
    for u in org.units.values():
        if u.parent_id is not None:
            children.setdefault(u.parent_id, []).append(u.id)
    while stack:
        unit, depth = stack.pop()
        out.append((unit, depth))
        below = sorted(children.get(unit, ()), key=lambda u: org.unit(u).code, reverse=True)
        stack.extend((child, depth + 1) for child in below)
    return out


def unit_choices(
    org: OrgSnapshot, scope: AdminScope, exclude: frozenset[int] = frozenset()
) -> list[SelectChoice]:
    """The admin's units for a select (by code), indented by depth."""
    return [
        SelectChoice(
            org.unit(u).code, "\u2003" * depth + f"{org.unit(u).name} ({org.unit(u).code})"
        )
        for u, depth in tree_order(org, scope)
        if u not in exclude
    ]


_REFUSALS = {
    "not_admin": _l("Only an administrator may do this."),
    "account_elsewhere": _l(
        "This person also holds roles outside the units you manage, so only an administrator "
        "of the units above may change their account."
    ),
    "self_deactivate": _l("You cannot deactivate your own account."),
    "self_password": _l("Change your own password on your password page."),
    "self_admin": _l(
        "You cannot take away your own administrator role; ask another administrator."
    ),
    "duplicate_code": _l("A unit with this code already exists. Choose another code."),
    "bad_code": _l(
        "Use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit."
    ),
    "cycle": _l("A unit cannot be moved under itself or under a unit below it."),
    "duplicate_username": _l(
        "This user name is taken (capitals do not count: 'Li' and 'li' are the same)."
    ),
    "bad_username": _l(
        "Use 1 to 80 letters, digits, '_', '.', '@' or '-', starting with a letter or digit."
    ),
    "role_required": _l("Give the new person a role at one of the units you manage."),
    "unknown_role": _l("Choose one of the options."),
    "required": _l("This field is required."),
    "password_invalid": _l("This password contains a character that cannot be used."),
    "bad_email": _l("Give an e-mail address such as name@example.org."),
}


def refusal(error: PlanflowError) -> str:
    """A refusal of the admin library in the admin's language."""
    message = _REFUSALS.get(getattr(error, "reason", ""))
    if getattr(error, "reason", "") == "password_length":
        return str(
            gettext(
                "Between %(min)d and %(max)d characters, please.",
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
            )
        )
    return str(message) if message is not None else describe(error)


@bp.route("/")
def index() -> str:
    org, scope = org_now(planflow()), admin_scope()
    tops = sorted((org.unit(u) for u in scope.tops), key=lambda u: u.code)
    return render_template("admin/index.html", scope=scope, tops=tops)


# -- the audit trail ---------------------------------------------------------------------

_TAIL = _l(
    "The end of the plan's trail is not what the plan records: records at the end "
    "were deleted or changed."
)
_ORG_TAIL = _l(
    "The end of the organisation's trail is not what its head records: records at the "
    "end were deleted or changed."
)
_ANCHORED = _l("A record kept by a checkpoint was deleted or changed.")
_CHECKPOINT = _l("A checkpoint was changed or deleted.")

#: The audit check's findings (``planflow.core.audit_chain.ChainProblem``), by code.
_PROBLEMS = {
    "altered": _l("The record was changed after it was written."),
    "broken_link": _l(
        "The record does not follow the one before it: a record was inserted, deleted "
        "or changed before it."
    ),
    "records_missing": _l("Records before this one were deleted."),
    "duplicate_seq": _l("Two records have the same number: one was inserted."),
    "head_mismatch": _TAIL,
    "orphan_records": _l("Records exist for a plan that was deleted."),
    "trail_missing": _l("The plan's whole trail was deleted."),
    "anchored_missing": _ANCHORED,
    "anchored_altered": _ANCHORED,
    "checkpoint_unlinked": _CHECKPOINT,
    "checkpoint_altered": _CHECKPOINT,
    "checkpoint_heads_altered": _CHECKPOINT,
}


def explain(problem: ChainProblem) -> str:
    """A finding in the reader's language; the library's English for a code not listed."""
    if problem.org and problem.code == "head_mismatch":
        return str(_ORG_TAIL)
    text = _PROBLEMS.get(problem.code)
    return str(text) if text is not None else problem.message


def _whole_organisation() -> None:
    if not admin_scope().everything:
        abort(403)


def _audit_page(report: AuditReport | None = None, seconds: float = 0.0) -> str:
    problems = report.problems[:SHOWN_PROBLEMS] if report is not None else []
    return render_template(
        "admin/audit.html",
        form=ConfirmForm(),
        report=report,
        problems=[(p, explain(p)) for p in problems],
        seconds=seconds,
    )


@bp.route("/audit")
def audit() -> str:
    _whole_organisation()
    return _audit_page()


@bp.route("/audit", methods=["POST"])
def audit_verify() -> str | tuple[str, int]:
    _whole_organisation()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return error_page(400)
    started = time.monotonic()
    report = planflow().verify_audit()
    return _audit_page(report, time.monotonic() - started)


@bp.route("/audit/export.<fmt>")
def audit_export(fmt: str) -> Response:
    _whole_organisation()
    if fmt == "xlsx":
        table = exports.audit_trail(planflow())
        return download(
            workbook(gettext("Audit trail"), table.headers, table.rows), f"{table.name}.xlsx"
        )
    if fmt not in EXPORT_TYPES:
        abort(404)
    stamp = planflow().clock.now().strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(planflow().export_audit_chunks(fmt, batch=EXPORT_BATCH)),
        mimetype=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="planflow-audit-{stamp}.{fmt}"'},
    )


# -- the organisation's trail of admin actions ---------------------------------------------

#: The newest admin actions the page lists (``planflow audit org`` lists them all).
ORG_SHOWN = 200

#: ``planflow.core.org_audit.ACTIONS``, in the reader's language.
ORG_ACTIONS = {
    "role_granted": _l("Role given"),
    "role_revoked": _l("Role taken away"),
    "user_created": _l("Person added"),
    "user_changed": _l("Profile changed"),
    "user_password_set": _l("Password set by an administrator"),
    "user_activated": _l("Person activated"),
    "user_deactivated": _l("Person deactivated"),
    "unit_created": _l("Unit added"),
    "unit_moved": _l("Unit moved"),
    "unit_renamed": _l("Unit renamed"),
    "definition_migrated": _l("Plan moved to a new workflow version"),
    "token_created": _l("API token made"),
    "token_revoked": _l("API token revoked"),
    "webhook_added": _l("Webhook added"),
    "webhook_removed": _l("Webhook removed"),
    "user_channels_switched": _l("People's own channels switched on or off"),
}


@bp.route("/audit/org")
def audit_org() -> str:
    _whole_organisation()
    rows = planflow().org.audit(newest_first=True, limit=ORG_SHOWN)
    labels = {r.action: str(ORG_ACTIONS.get(r.action, r.action)) for r in rows}
    details = {r.seq: detail_fields(r.detail) for r in rows}
    return render_template(
        "admin/audit_org.html", rows=rows, labels=labels, details=details, shown=ORG_SHOWN
    )
