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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import get_month_names
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_babel import gettext as _gettext
from werkzeug.wrappers import Response
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.content import PlanContent
from planflow.content_import import parse_plan_text
from planflow.content_items import OPS, ContentValidationError, Item, Problem
from planflow.definitions.spec import WorkflowSpec
from planflow.errors import PermissionDenied, PlanflowError, StaleVersion
from planflow.org import OrgSnapshot
from planflow.plans import content_editors, editable_states
from planflow.storage.tables import Plan

from . import plan_views as views
from .access import current_viewer, org_now, visible_plan
from .errors import describe, error_page, status_of
from .forms import (
    CONTENT_LIMITS,
    MAX_IMPORT,
    MAX_ITEMS_PER_SECTION,
    MAX_SECTIONS,
    ContentEditorForm,
)
from .i18n import state_label
from .users import me, planflow, require_login

bp = Blueprint("editor", __name__, url_prefix="/plans")
require_login(bp)

#: A whole plan in one url-encoded form: Chinese or Korean text takes nine bytes a character.
MAX_FORM_BYTES = 4 * 1024 * 1024


def gettext(message: str, **variables: Any) -> str:
    """flask-babel's gettext, typed (it is found by pybabel extract under this name)."""
    return str(_gettext(message, **variables))


@bp.url_value_preprocessor
def _room_for_a_whole_plan(_endpoint: str | None, _values: object) -> None:
    # URL value preprocessors run before every before_request function: the limit
    # must be raised before CSRFProtect (an app-wide before_request) reads the form.
    request.max_content_length = MAX_FORM_BYTES


# -- who may edit (the library decides; it checks again when saving) ---------------------


def may_edit(org: OrgSnapshot, spec: WorkflowSpec, plan: Plan, user_id: int) -> bool:
    """Whether the user is one of the plan's content editors."""
    return any(user_id in org.assignees(ref, plan.unit_id) for ref in content_editors(spec))


def is_editable(spec: WorkflowSpec, plan: Plan) -> bool:
    """Whether the plan's state lets its content change."""
    return plan.state in editable_states(spec)


def can_edit(org: OrgSnapshot, spec: WorkflowSpec, plan: Plan, user_id: int) -> bool:
    """Whether the plan page offers this user the editor."""
    return is_editable(spec, plan) and may_edit(org, spec, plan, user_id)


# -- between content and form ------------------------------------------------------------

FormData = dict[str, Any]


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _item_data(item: Item | None = None) -> FormData:
    if item is None:
        blank = ("key", "text", "owner_unit", "due_month", "due_date", "metric", "value", "unit")
        return dict.fromkeys(blank, "") | {"op": OPS[0]}
    target = item.target
    return {
        "key": item.key,
        "text": item.text,
        "owner_unit": item.owner_unit or "",
        "due_month": str(item.due) if isinstance(item.due, int) else "",
        "due_date": item.due.isoformat() if isinstance(item.due, date) else "",
        "metric": target.metric if target else "",
        "op": target.op if target else OPS[0],
        "value": _number(target.value) if target else "",
        "unit": target.unit if target else "",
    }


def content_data(content: PlanContent) -> list[FormData]:
    """The sections of ``content`` as the editor form's data."""
    return [
        {"key": s.key, "title": s.title, "items": [_item_data(i) for i in s.items]}
        for s in content.sections
    ]


def _typed(form: ContentEditorForm) -> list[FormData]:
    """The sections as the user typed them (valid or not), to change or show again."""
    return [
        {
            "key": entry.key.data or "",
            "title": entry.title.data or "",
            "items": [dict(item.form.data) for item in entry.form.items],
        }
        for entry in form.sections
    ]


#: For each section sent to the library, its index in the form and its items' indexes.
Where = list[tuple[int, list[int]]]


def form_content(form: ContentEditorForm) -> tuple[dict[str, object], Where]:
    """The content the form describes, for ``PlanContent.from_dict`` to check.

    Rows left empty are left out, so an "Add item" pressed once too often
    does not block saving; a section with no title and no items goes too.
    """
    sections: list[dict[str, object]] = []
    where: Where = []
    for si, entry in enumerate(form.sections):
        kept = [ii for ii, item in enumerate(entry.form.items) if not item.form.is_blank()]
        if not entry.title.data and not kept:
            continue
        items = []
        for ii in kept:
            f = entry.form.items[ii].form
            target = None
            if f.metric.data or f.value.data or f.unit.data:
                target = {
                    "metric": f.metric.data,
                    "op": f.op.data,
                    "value": f.value.data,
                    "unit": f.unit.data,
                }
            items.append(
                {
                    "key": f.key.data or None,
                    "text": f.text.data,
                    "owner_unit": f.owner_unit.data or None,
                    "due": f.due_date.data or f.due_month.data or None,
                    "target": target,
                }
            )
        sections.append({"key": entry.key.data or None, "title": entry.title.data, "items": items})
        where.append((si, kept))
    return {"sections": sections}, where


# -- the library's findings, next to their fields and in the user's language ---------------

_PATH = re.compile(r"sections\[(\d+)\](?:\.items\[(\d+)\])?\.([a-z_]+)(?:\.([a-z_]+))?")
_TARGET_FIELDS = {"metric": "metric", "op": "op", "value": "value", "unit": "unit"}


def _too_long(m: re.Match[str]) -> str:
    return str(gettext("At most %(max)d characters, please.", max=int(m.group(1))))


#: The library's messages about content (in English), matched whole.
_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"is required|must not be blank"), lambda m: gettext("This field is required.")),
    (re.compile(r"is \d+ characters long; at most (\d+) are allowed"), _too_long),
    (re.compile(r"can have at most (\d+) characters.*"), _too_long),
    (
        re.compile(r"must not contain the (?:control character|unpaired surrogate) .*"),
        lambda m: gettext("This text contains a control character; remove it."),
    ),
    (
        re.compile(r"month must be 1 to 12.*"),
        lambda m: gettext("Choose one of the options."),
    ),
    (
        re.compile(r"'.*' is not a valid date|must be a month 1\.\.12 or a date .*", re.S),
        lambda m: gettext("This is not a date. Give it as year-month-day, e.g. 2027-03-31."),
    ),
    (
        re.compile(r"\S+ is outside the plan year (\d+)"),
        lambda m: gettext("The date must lie in the plan's year, %(year)s.", year=m.group(1)),
    ),
    (
        re.compile(r"must be a finite number.*", re.S),
        lambda m: gettext("Give a number, e.g. 95 or 2.5."),
    ),
    (re.compile(r"must be one of .*", re.S), lambda m: gettext("Choose one of the options.")),
]


def translate_problem(message: str) -> str:
    for pattern, render in _MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            return str(render(match))
    return message


def place_problems(form: ContentEditorForm, problems: Iterable[Problem], where: Where) -> None:
    """Put each problem next to the field it is about (or above the form)."""
    for problem in problems:
        message = translate_problem(problem.message)
        match = _PATH.fullmatch(problem.path)
        field = None
        if match and int(match.group(1)) < len(where):
            si, kept = where[int(match.group(1))]
            section = form.sections[si].form
            name, sub = match.group(3), match.group(4)
            if match.group(2) is None:
                field = section.title if name == "title" else None
            elif int(match.group(2)) < len(kept):
                item = section.items[kept[int(match.group(2))]].form
                if name == "target":
                    field = getattr(item, _TARGET_FIELDS.get(sub or "", "metric"))
                elif name == "due":
                    field = item.due_date if item.due_date.data else item.due_month
                elif name in ("text", "owner_unit"):
                    field = getattr(item, name)
        if field is None:
            # A key or the form's structure: only a changed page can produce these.
            _changed_outside(form)
        else:
            field.errors = [*field.errors, message]


def _changed_outside(form: ContentEditorForm) -> None:
    message = gettext("The form was changed outside this page. Reload the editor.")
    if message not in form.form_errors:
        form.form_errors.append(message)


@dataclass(frozen=True)
class ErrorLink:
    label: str
    field_id: str
    message: str


def error_summary(form: ContentEditorForm) -> list[ErrorLink]:
    """Every field with a problem, numbered as on the page, for the list above the form."""
    links: list[ErrorLink] = []
    for si, entry in enumerate(form.sections, 1):
        section = entry.form
        for error in section.title.errors:
            links.append(ErrorLink(gettext("Section %(n)d", n=si), section.title.id, str(error)))
        for ii, item_entry in enumerate(section.items, 1):
            item = item_entry.form
            for field in item:
                for error in field.errors:
                    label = gettext("Item %(n)s", n=f"{si}.{ii}") + f": {field.label.text}"
                    links.append(ErrorLink(label, field.id, str(error)))
    return links


# -- choices --------------------------------------------------------------------------


def owner_choices(org: OrgSnapshot, plan: Plan, content: PlanContent) -> list[SelectChoice]:
    """The plan's unit and every unit below it, as a tree; plus codes the content uses already."""
    below: dict[int | None, list[int]] = {}
    inside = set(org.subtree(plan.unit_id))
    for unit_id in inside:
        if unit_id != plan.unit_id:
            below.setdefault(org.parent(unit_id), []).append(unit_id)
    choices = [SelectChoice("", "—")]
    stack = [(plan.unit_id, 0)]
    while stack:
        unit_id, depth = stack.pop()
        unit = org.unit(unit_id)
        choices.append(SelectChoice(unit.code, f"{'· ' * depth}{unit.name} ({unit.code})"))
        children = sorted(below.get(unit_id, ()), key=lambda u: org.unit(u).name, reverse=True)
        stack.extend((child, depth + 1) for child in children)
    known = {org.unit(u).code for u in inside}
    used = sorted({i.owner_unit for _n, _s, i in content.numbered_items() if i.owner_unit})
    for code in used:
        if code not in known:
            label = gettext("%(code)s (not a unit of this plan)", code=code)
            choices.append(SelectChoice(code, label))
    return choices


def month_choices() -> list[SelectChoice]:
    names = get_month_names("wide", locale=get_locale())
    return [SelectChoice("", "—")] + [SelectChoice(str(m), names[m]) for m in range(1, 13)]


def _prepare(form: ContentEditorForm, owners: list[SelectChoice]) -> ContentEditorForm:
    months = month_choices()
    for entry in form.sections:
        for item in entry.form.items:
            item.form.owner_unit.choices = owners
            item.form.due_month.choices = months
    return form


def _rebuilt(form: ContentEditorForm, sections: list[FormData]) -> ContentEditorForm:
    """A fresh form holding ``sections`` (not from the request, so without errors)."""
    return ContentEditorForm(
        formdata=None,
        data={"sections": sections, "import_text": form.import_text.data or ""},
    )


# -- changing the form without saving ------------------------------------------------------

_OP = re.compile(
    r"(?P<plain>save|add_section|import_replace|import_append)"
    r"|(?P<section_op>section_up|section_down|remove_section|add_item):(?P<s>[0-9]{1,5})"
    r"|(?P<item_op>item_up|item_down|remove_item):(?P<si>[0-9]{1,5}):(?P<ii>[0-9]{1,5})"
)


@dataclass(frozen=True)
class Op:
    kind: str
    section: int = 0
    item: int = 0


def parse_op(value: object) -> Op | None:
    match = _OP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    if match["plain"]:
        return Op(match["plain"])
    if match["section_op"]:
        return Op(match["section_op"], int(match["s"]))
    return Op(match["item_op"], int(match["si"]), int(match["ii"]))


def _full(items: list[FormData]) -> str:
    return (
        gettext(
            "A section can have at most %(max)d items. Start a new section, or move items.",
            max=MAX_ITEMS_PER_SECTION,
        )
        if len(items) >= MAX_ITEMS_PER_SECTION
        else ""
    )


def apply_op(op: Op, sections: list[FormData], import_text: str, year: int) -> str:
    """Change ``sections`` in place as the button asks; returns a message, or ""."""
    if op.kind == "add_section":
        if len(sections) >= MAX_SECTIONS:
            return gettext("A plan can have at most %(max)d sections.", max=MAX_SECTIONS)
        sections.append({"key": "", "title": "", "items": [_item_data()]})
        return ""
    if op.kind in ("import_replace", "import_append"):
        return _import(op.kind == "import_replace", sections, import_text, year)
    if op.section >= len(sections):
        return ""  # the page was older than the form; nothing to do
    si = op.section
    items: list[FormData] = sections[si]["items"]
    if op.kind == "add_item":
        if message := _full(items):
            return message
        items.append(_item_data())
    elif op.kind == "remove_section":
        del sections[si]
    elif op.kind == "section_up" and si > 0:
        sections[si - 1], sections[si] = sections[si], sections[si - 1]
    elif op.kind == "section_down" and si + 1 < len(sections):
        sections[si], sections[si + 1] = sections[si + 1], sections[si]
    elif op.item < len(items):
        return _item_op(op, sections, items)
    return ""


def _item_op(op: Op, sections: list[FormData], items: list[FormData]) -> str:
    si, ii = op.section, op.item
    if op.kind == "remove_item":
        del items[ii]
    elif op.kind == "item_up" and ii > 0:
        items[ii - 1], items[ii] = items[ii], items[ii - 1]
    elif op.kind == "item_up" and si > 0:
        # The first item of a section moves to the end of the section above.
        above: list[FormData] = sections[si - 1]["items"]
        if message := _full(above):
            return message
        above.append(items.pop(ii))
    elif op.kind == "item_down" and ii + 1 < len(items):
        items[ii], items[ii + 1] = items[ii + 1], items[ii]
    elif op.kind == "item_down" and si + 1 < len(sections):
        below: list[FormData] = sections[si + 1]["items"]
        if message := _full(below):
            return message
        below.insert(0, items.pop(ii))
    return ""


def _import(replace: bool, sections: list[FormData], text: str, year: int) -> str:
    if not text.strip():
        return gettext("Paste the text of a plan into the box first.")
    if len(text) > MAX_IMPORT:
        return gettext("At most %(max)d characters, please.", max=MAX_IMPORT)
    try:
        imported = content_data(parse_plan_text(text, year=year))
    except PlanflowError:  # the importer promises valid content; be safe anyway
        imported = []
    if not imported:
        return gettext("No sections or items were found in this text.")
    imported = [s | {"key": ""} for s in imported]  # new sections, whatever keys it made
    for section in imported:
        section["items"] = [i | {"key": ""} for i in section["items"]]
    kept = [] if replace else list(sections)
    if len(kept) + len(imported) > MAX_SECTIONS or any(
        len(s["items"]) > MAX_ITEMS_PER_SECTION for s in imported
    ):
        return gettext(
            "This text is too long to import at once: a plan can have at most "
            "%(sections)d sections of %(items)d items. Import it in parts.",
            sections=MAX_SECTIONS,
            items=MAX_ITEMS_PER_SECTION,
        )
    sections[:] = kept + imported
    return ""


# -- the page ---------------------------------------------------------------------------


@dataclass
class Editing:
    """What every rendering of the editor needs about the plan."""

    plan: Plan
    spec: WorkflowSpec
    org: OrgSnapshot
    stored: PlanContent
    owners: list[SelectChoice]

    @property
    def editable(self) -> bool:
        return is_editable(self.spec, self.plan)


def _editing(plan_id: int) -> Editing:
    pf, user = planflow(), me()
    plan = visible_plan(pf, current_viewer(pf, user.id), plan_id)
    org = org_now(pf)
    spec = views.spec_of(pf, plan)
    if not may_edit(org, spec, plan, user.id):
        abort(403)
    # Read after the plan, so the content is at least as new as the version we edit from.
    stored = pf.content.content(plan_id)
    return Editing(plan, spec, org, stored, owner_choices(org, plan, stored))


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
    _prepare(form, e.owners)
    if not e.editable and message is None:
        message = _not_editable(e)
    year = e.plan.year
    unit = e.org.units.get(e.plan.unit_id)
    html = render_template(
        "editor/edit.html",
        plan=e.plan,
        spec=e.spec,
        unit=unit,
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
        sections = [{"key": "", "title": "", "items": [_item_data()]}]
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
        sections = _typed(form)
        message = apply_op(op, sections, form.import_text.data or "", e.plan.year)
        rebuilt = _rebuilt(form, sections)
        if op.kind.startswith("import") and not message:
            rebuilt.import_text.data = ""
        return _render(
            e, rebuilt, version=version, message=message or None, unsaved=True, status=status
        )
    return _save(e, _prepare(form, e.owners))


def _version(form: ContentEditorForm) -> int | None:
    version = form.expected_version.data
    return version if isinstance(version, int) and 0 <= version < 2**31 else None


def _save(e: Editing, form: ContentEditorForm) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan = e.plan
    assert plan.id is not None
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
            _changed_outside(form)
        return _render(e, form, version=version, unsaved=True, status=422)
    if version == plan.version and content.canonical_json() == e.stored.canonical_json():
        flash(gettext("Nothing was changed."), "info")
        return redirect(url_for("plans.detail", plan_id=plan.id) + "#content")
    try:
        pf.content.set_content(plan.id, user.id, content, expected_version=version)
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
