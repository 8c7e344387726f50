"""Blueprint ``editor``: the content editor of a plan, its sections and numbered items.

The whole plan is one server-rendered form, so it works without JavaScript:
buttons such as "Add item" or "Move up" post the form and get it back
changed, with everything typed so far kept and nothing saved. Only "Save"
writes, through ``PlanContentService.set_content`` with the version the
editing started from: a save after someone else changed the plan is refused
(409) and the form comes back with what the user typed.

The rules of content are the library's: ``PlanContent.from_dict`` checks the
form's content and every problem it finds is shown next to its field; the
library decides who may edit and in which states (``content_editors``,
``editable_states``), and checks both again when it saves. The plain-text
importer (``parse_plan_text``) fills the form from pasted text, for the user
to check before saving.

This module holds who may edit, the page and saving; the translation between
content and form (and of the library's problems) is ``editor_form``, the
buttons that change the form without saving ``editor_ops``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.core.content.items import ContentValidationError
from planflow.core.content.model import PlanContent
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.org import OrgSnapshot
from planflow.errors import PermissionDenied, PlanflowError, StaleVersion
from planflow.views import PlanView

from . import plan_views as views
from .access import current_org, visible_plan
from .content_forms import CONTENT_LIMITS, ContentEditorForm
from .editor_form import (
    content_data,
    error_summary,
    form_content,
    gettext,
    item_data,
    note_changed_outside,
    owner_choices,
    place_problems,
    rebuilt_form,
    typed_sections,
    with_choices,
)
from .editor_ops import apply_op, parse_op
from .errors import describe, error_page, status_of
from .forms import MAX_ITEMS_PER_SECTION, MAX_SECTIONS
from .i18n import state_label
from .users import me, planflow, require_login

bp = Blueprint("editor", __name__, url_prefix="/plans")
require_login(bp)

#: A whole plan in one url-encoded form: Chinese or Korean text takes nine bytes a character.
MAX_FORM_BYTES = 4 * 1024 * 1024


@bp.url_value_preprocessor
def _room_for_a_whole_plan(_endpoint: str | None, _values: object) -> None:
    # URL value preprocessors run before every before_request function: the limit
    # must be raised before CSRFProtect (an app-wide before_request) reads the form.
    request.max_content_length = MAX_FORM_BYTES


# -- the page ---------------------------------------------------------------------------


@dataclass
class Editing:
    """What every rendering of the editor needs about the plan."""

    plan: PlanView
    spec: WorkflowSpec
    org: OrgSnapshot
    stored: PlanContent
    owners: list[SelectChoice]
    editable: bool


def _editing(plan_id: int) -> Editing:
    pf, user = planflow(), me()
    plan = visible_plan(pf, user.username, plan_id)
    # Who may edit, and in which states, is the library's rule (it checks again on saving).
    if not pf.content.may_edit(plan, user.username):
        abort(403)
    org = current_org(pf)
    spec = views.spec_of(pf, plan)
    # Read after the plan, so the content is at least as new as the version we edit from.
    stored = pf.content.content(plan_id)
    editable = pf.content.is_editable(plan)
    return Editing(plan, spec, org, stored, owner_choices(org, plan, stored), editable)


def _not_editable(e: Editing) -> str:
    return gettext(
        "The content of this plan cannot be changed while it is “%(state)s”.",
        state=state_label(e.spec, e.plan.state),
    )


def _submission_needs_due_dates(spec: WorkflowSpec) -> bool:
    """Whether the definition's submission guards ask for a due date on every item."""
    return any(
        guard.name == "all_items_have_due_dates"
        for t in spec.transitions
        if t.submission
        for guard in t.guards
    )


def _render(
    e: Editing,
    form: ContentEditorForm,
    *,
    version: int | None,
    message: str | None = None,
    unsaved: bool = False,
    current: PlanContent | None = None,
    status: int = 200,
) -> tuple[str, int]:
    with_choices(form, e.owners)
    if not e.editable and message is None:
        message = _not_editable(e)
    year = e.plan.year
    html = render_template(
        "editor/edit.html",
        plan=e.plan,
        spec=e.spec,
        unit=e.plan.unit,
        form=form,
        version=version,
        editable=e.editable,
        message=message,
        unsaved=unsaved,
        current=current,
        summary=error_summary(form),
        limits=CONTENT_LIMITS,
        first_day=date(year, 1, 1).isoformat(),
        last_day=date(year, 12, 31).isoformat(),
        max_sections=MAX_SECTIONS,
        max_items=MAX_ITEMS_PER_SECTION,
        needs_due=_submission_needs_due_dates(e.spec),
    )
    return html, status


@bp.route("/<id:plan_id>/edit", methods=["GET"])
def edit(plan_id: int) -> tuple[str, int]:
    e = _editing(plan_id)
    if not e.editable:
        return error_page(409, _not_editable(e))
    sections = content_data(e.stored)
    if not sections:
        # An empty plan starts with one section and one item to fill in.
        sections = [{"key": "", "title": "", "items": [item_data()]}]
    too_big = len(sections) > MAX_SECTIONS or any(
        len(s["items"]) > MAX_ITEMS_PER_SECTION for s in sections
    )
    if too_big:
        return error_page(
            422,
            gettext(
                "This plan is too large for the editor (at most %(sections)d sections of "
                "%(items)d items).",
                sections=MAX_SECTIONS,
                items=MAX_ITEMS_PER_SECTION,
            ),
        )
    form = ContentEditorForm(formdata=None, data={"sections": sections})
    return _render(e, form, version=e.plan.version)


@bp.route("/<id:plan_id>/edit", methods=["POST"])
def change(plan_id: int) -> Response | tuple[str, int]:
    e = _editing(plan_id)
    form = ContentEditorForm()
    op = parse_op(form.op.data or "save")
    if op is None:
        abort(400)
    # A version that is not one (a changed page) is kept out, so saving asks for a reload.
    version = _version(form)
    status = 200 if e.editable else 409
    if op.kind != "save":
        sections = typed_sections(form)
        message = apply_op(op, sections, form.import_text.data or "", e.plan.year)
        rebuilt = rebuilt_form(form, sections)
        if op.kind.startswith("import") and not message:
            rebuilt.import_text.data = ""
        return _render(
            e, rebuilt, version=version, message=message or None, unsaved=True, status=status
        )
    return _save(e, with_choices(form, e.owners))


def _version(form: ContentEditorForm) -> int | None:
    version = form.expected_version.data
    return version if isinstance(version, int) and 0 <= version < 2**31 else None


def _save(e: Editing, form: ContentEditorForm) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan = e.plan
    valid = form.validate()
    data, where = form_content(form)
    content: PlanContent | None = None
    try:
        content = PlanContent.from_dict(data, year=plan.year)
    except ContentValidationError as error:
        place_problems(form, error.problems, where)
    version = _version(form)
    if not valid or content is None or version is None:
        if version is None:
            note_changed_outside(form)
        return _render(e, form, version=version, unsaved=True, status=422)
    if version == plan.version and content.canonical_json() == e.stored.canonical_json():
        flash(gettext("Nothing was changed."), "info")
        return redirect(url_for("plans.detail", plan_id=plan.id) + "#content")
    try:
        pf.content.set_content(plan.id, content, actor=user.username, expected_version=version)
    except StaleVersion as error:
        # Show the plan as it is now beside what the user typed. A second save
        # is a deliberate choice to replace the other person's version.
        fresh = _editing(plan.id)
        message = (
            describe(error)
            + " "
            + gettext(
                "What you typed is kept below; the plan as it is now is shown at the end "
                "of the page. If you save again, your version replaces it."
            )
        )
        return _render(
            fresh,
            form,
            version=fresh.plan.version,
            message=message,
            unsaved=True,
            current=fresh.stored,
            status=409,
        )
    except PermissionDenied as error:
        return _render(e, form, version=version, message=describe(error), status=403)
    except PlanflowError as error:
        status = status_of(error)
        if status == 422:
            status = 409  # the content was checked above: the plan's state refused it
        fresh = _editing(plan.id)
        message = _not_editable(fresh) if not fresh.editable else describe(error)
        return _render(fresh, form, version=version, message=message, status=status)
    flash(gettext("The content was saved."), "success")
    return redirect(url_for("plans.detail", plan_id=plan.id) + "#content")
