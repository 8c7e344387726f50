"""Blueprint ``plan_import``: a draft plan from a Word or text document, checked first.

Step one reads an uploaded .docx/.txt or pasted text with the library's
reader and importer (``read_plan_bytes``, ``import_plan``: the ones
``planflow plans import`` uses) and shows the outline. Step two is the
same page as often as the user likes: they correct item texts and months
and merge, split or promote items (``importer.edits``); the outline lives
in the form, read back by the library as untrusted each time
(``importer.preview``). Saving creates one draft holding the outline in one
transaction (``Planflow.create_plan(content=...)``) and opens it. Nothing
is kept on the server between requests, and every refusal re-renders the
page with what the user typed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.core.content import importer
from planflow.core.content.importer import edits, preview
from planflow.core.content.items import ContentValidationError, Item, Problem
from planflow.core.content.model import PlanContent
from planflow.core.org import OrgSnapshot
from planflow.errors import DatabaseUnavailable, PermissionDenied, PlanflowError
from planflow.integrations.documents.reading import MAX_BYTES, read_plan_bytes

from .access import current_org
from .codes import content_problem_text
from .editor_form import unit_owner_choices
from .errors import describe
from .i18n import current_language
from .import_forms import OP, ImportForm
from .import_texts import skipped_reason, warning_text
from .users import me, planflow, require_login

bp = Blueprint("plan_import", __name__, url_prefix="/plans/import")
require_login(bp)

#: Room for the library's own size check to answer in words (not a bare 413).
MAX_REQUEST_BYTES = MAX_BYTES + 2 * 1024 * 1024
MONTHS = range(1, 13)


@bp.url_value_preprocessor
def _room_for_a_document(_endpoint: str | None, _values: object) -> None:
    # Before CSRFProtect (an app-wide before_request) reads the form.
    request.max_content_length = MAX_REQUEST_BYTES


def _form() -> tuple[ImportForm, Any]:
    pf, user = planflow(), me()
    org = current_org(pf)
    units = pf.units_for_new_plans(user.username, org=org)
    if not units:
        abort(403)
    lang = current_language()
    latest = {spec.name: spec for spec in pf.registry.all()}
    form = ImportForm()
    form.workflow.choices = [SelectChoice(n, latest[n].title.get(lang)) for n in sorted(latest)]
    form.unit.choices = [SelectChoice(org.unit_ids[u.code], f"{u.name} ({u.code})") for u in units]
    return form, org


def _document(form: ImportForm) -> bytes:
    upload = form.document.data
    if isinstance(upload, FileStorage) and upload.filename:
        return bytes(upload.read(MAX_BYTES + 1))
    return (form.text.data or "").encode("utf-8")


def _edited(content: PlanContent, owners: Collection[str]) -> PlanContent:
    """The outline with the item texts, months, owners and section titles as the page sent them."""
    problems: list[Problem] = []
    for section in content.sections:
        title = request.form.get(f"section-{section.key}")
        try:
            if title is not None and title.strip() != section.title:
                content = content.rename_section(section.key, title.strip())
        except ContentValidationError as error:
            problems += error.problems
        for item in section.items:
            try:
                content = _edited_item(content, item, owners)
            except ContentValidationError as error:
                problems += error.problems  # every field's problem at once, not the first
    if problems:
        raise ContentValidationError(problems)
    return content


def _edited_item(content: PlanContent, item: Item, owners: Collection[str]) -> PlanContent:
    owner = request.form.get(f"owner-{item.key}")
    if owner is not None and (owner or None) != item.owner_unit:
        content = edits.set_owner(content, item.key, owner.strip(), owners)
    changes: dict[str, object] = {}
    text = request.form.get(f"text-{item.key}")
    if text is not None and text.strip() != item.text:
        changes["text"] = text.strip()
    due = request.form.get(f"due-{item.key}")
    if due is not None and due != item.to_dict()["due"]:  # a date stays as it was
        month = int(due) if due.isdigit() and len(due) <= 2 else None
        if due and month is None:
            month = 0  # not a month: the content's check words it (month_range)
        if month != item.due and not (month is None and item.due is None):
            changes["due"] = month
    return content.update_item(item.key, **changes) if changes else content


def _corrected(content: PlanContent, op: str) -> PlanContent:
    kind, _, key = op.partition(":")
    if kind == "merge":
        return edits.merge_into_previous(content, key)
    if kind == "split":
        return edits.split_item(content, key)
    if kind == "promote":
        return edits.promote_to_section(content, key)
    return content


@bp.route("", methods=["GET", "POST"])
def page() -> Response | str | tuple[str, int]:
    pf, user = planflow(), me()
    form, org = _form()
    if request.method == "GET":
        form.year.data = pf.clock.now().year
        return _render(form)
    op = form.op.data if isinstance(form.op.data, str) and OP.match(form.op.data) else "refresh"
    if not form.validate():
        # The hidden fields have no place on the page to say what is wrong with them.
        for hidden in (form.outline, form.lines, form.report, form.op):
            form.form_errors.extend(str(e) for e in hidden.errors)
        return _render(form, status=422)
    content: PlanContent | None = None
    report = preview.Report()
    problems: list[str] = []
    try:
        if op == "read" or op.startswith("part:"):
            content, report = _read(form, op)
        else:
            report = preview.read_report(form.report.data)
            content = preview.read_outline(form.outline.data, year=form.year.data)
            content = _corrected(_edited(content, _owner_codes(org, form, content)), op)
            form.outline.data = preview.outline_json(content)
        if op == "save":
            assert content is not None
            plan_id = pf.create_plan(
                unit_code=org.unit(form.unit.data).code,
                year=form.year.data,
                title=form.title.data or gettext("Work plan"),
                actor=user.username,
                workflow=form.workflow.data,
                content=content,
            )
            flash(gettext("The plan was imported as a draft."), "success")
            return redirect(url_for("plans.detail", plan_id=plan_id))
    except ContentValidationError as error:
        problems = [_problem(p) for p in error.problems]
        form.form_errors.append(describe(error))
    except PermissionDenied as error:
        form.unit.errors.append(describe(error))
    except PlanflowError as error:
        form.form_errors.append(describe(error))
        if isinstance(error, DatabaseUnavailable):
            return _render(form, content, report, problems, status=503, org=org)
    status = 422 if form.form_errors or form.unit.errors else 200
    return _render(form, content, report, problems, status=status, org=org)


def _owner_choices(org: OrgSnapshot, form: ImportForm, content: PlanContent | None) -> Any:
    """The owners an item may name: the chosen unit and the units below it."""
    if content is None or not isinstance(form.unit.data, int) or form.unit.data not in org.units:
        return [SelectChoice("", "—")]
    return unit_owner_choices(org, org.unit(form.unit.data).code, content)


def _owner_codes(org: OrgSnapshot, form: ImportForm, content: PlanContent) -> set[str]:
    return {c.value for c in _owner_choices(org, form, content) if c.value}


def _read(form: ImportForm, op: str) -> tuple[PlanContent, preview.Report]:
    """Read the document (or, to take another part, the paragraphs the page kept)."""
    part = min(max(int(op[5:]), 1), 1000) if op.startswith("part:") else None
    if part is not None and form.lines.data:
        lines = preview.read_lines(form.lines.data)
    else:
        lines = read_plan_bytes(_document(form))
    result = importer.import_plan(lines, year=form.year.data, part=part)
    # The paragraphs stay on the page only when another part may be wanted.
    form.lines.data = preview.lines_json(lines) if len(result.parts) > 1 else ""
    form.outline.data = preview.outline_json(result.content)
    form.report.data = preview.report_json(result)
    if not form.title.data or op == "read":
        form.title.data = result.title
    return result.content, preview.read_report(form.report.data)


def _problem(problem: Any) -> str:
    where = problem.location
    text = content_problem_text(problem) or problem.message
    if where.section is not None and where.item is not None:
        return f"{where.section + 1}.{where.item + 1}: {text}"
    return str(text)


def _render(
    form: ImportForm,
    content: PlanContent | None = None,
    report: preview.Report | None = None,
    problems: list[str] | None = None,
    *,
    status: int = 200,
    org: OrgSnapshot | None = None,
) -> tuple[str, int]:
    report = report or preview.Report()
    keep = bool(problems or form.form_errors)

    def typed(name: str, shown: str) -> str:
        # After a refusal the page shows what the user typed, not the outline's last state.
        value = request.form.get(name) if keep else None
        return value if value is not None else shown

    html = render_template(
        "plans/import.html",
        form=form,
        content=content,
        report=report,
        warnings=[warning_text(code, params) for code, params in report.warnings],
        skipped=[(skipped_reason(reason), text) for reason, text in report.skipped],
        problems=problems or [],
        months=MONTHS,
        owners=_owner_choices(org, form, content) if org is not None else [],
        typed=typed,
    )
    return html, status
