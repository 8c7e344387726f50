"""Between a plan's content and the editor's form, both ways, and the form's problems.

The editor form's data from a ``PlanContent`` (``content_data``) and the
content a sent form describes (``form_content``, empty rows left out), for
``PlanContent.from_dict`` to check; the library's problems put back next to
the fields they are about, in the user's language (``place_problems``,
``error_summary``); and the choices of the owner-unit and month fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import get_month_names
from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_babel import gettext as _gettext
from wtforms import SelectChoice  # type: ignore[import-untyped]

from planflow.core.content.items import MAX_TARGETS, OPS, Item, ItemTarget, Location, Problem
from planflow.core.content.model import PlanContent
from planflow.core.org import OrgSnapshot
from planflow.views import PlanView

from .codes import content_problem_text
from .content_forms import ContentEditorForm, target_typed


def gettext(message: str, **variables: Any) -> str:
    """flask-babel's gettext, typed (it is found by pybabel extract under this name)."""
    return str(_gettext(message, **variables))


FormData = dict[str, Any]


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _target_data(target: ItemTarget | None) -> FormData:
    return {
        "metric": target.metric if target else "",
        "op": target.op if target else OPS[0],
        "value": _number(target.value) if target else "",
        "unit": target.unit if target else "",
    }


def item_data(item: Item | None = None) -> FormData:
    """An item as the editor's fields: its first target in the item's own target fields, the
    others in ``more_targets`` with one empty row to add another (while under the limit)."""
    targets = item.targets if item is not None else ()
    more = [_target_data(t) for t in targets[1:]]
    if len(targets) < MAX_TARGETS and targets:
        more.append(_target_data(None))
    if item is None:
        blank = ("key", "text", "owner_unit", "due_month", "due_date")
        return dict.fromkeys(blank, "") | _target_data(None) | {"more_targets": more}
    return {
        "key": item.key,
        "text": item.text,
        "owner_unit": item.owner_unit or "",
        "due_month": str(item.due) if isinstance(item.due, int) else "",
        "due_date": item.due.isoformat() if isinstance(item.due, date) else "",
        **_target_data(item.target),
        "more_targets": more,
    }


def content_data(content: PlanContent) -> list[FormData]:
    """The sections of ``content`` as the editor form's data."""
    return [
        {"key": s.key, "title": s.title, "items": [item_data(i) for i in s.items]}
        for s in content.sections
    ]


def typed_sections(form: ContentEditorForm) -> list[FormData]:
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
            targets = [
                {
                    "metric": t.metric.data,
                    "op": t.op.data,
                    "value": t.value.data,
                    "unit": t.unit.data,
                }
                for t in _typed_targets(f)
            ]
            items.append(
                {
                    "key": f.key.data or None,
                    "text": f.text.data,
                    "owner_unit": f.owner_unit.data or None,
                    "due": f.due_date.data or f.due_month.data or None,
                    "targets": targets,
                }
            )
        sections.append({"key": entry.key.data or None, "title": entry.title.data, "items": items})
        where.append((si, kept))
    return {"sections": sections}, where


def _typed_targets(item: Any) -> list[Any]:
    """The target rows of an item's form that hold something, in order: the targets sent."""
    return [row for row in item.target_rows() if target_typed(row)]


# -- the library's findings, next to their fields and in the user's language ---------------

_TARGET_FIELDS = {"metric": "metric", "op": "op", "value": "value", "unit": "unit"}
_TARGET_AT = re.compile(r"targets\[([0-9]+)\]")


def _field_of(form: ContentEditorForm, where: Where, location: Location) -> Any:
    """The form field a problem's location names, or None (a key, or the form's structure)."""
    if location.section is None or not 0 <= location.section < len(where):
        return None
    si, kept = where[location.section]
    section = form.sections[si].form
    name, _dot, sub = location.field.partition(".")
    if location.item is None:
        return section.title if location.field == "title" else None
    if not 0 <= location.item < len(kept):
        return None
    item = section.items[kept[location.item]].form
    if name == "target":
        return getattr(item, _TARGET_FIELDS.get(sub, "metric"))
    if (at := _TARGET_AT.fullmatch(name)) is not None:
        rows = _typed_targets(item)
        n = int(at.group(1))
        return getattr(rows[n], _TARGET_FIELDS.get(sub, "metric")) if n < len(rows) else None
    if name == "due":
        return item.due_date if item.due_date.data else item.due_month
    if name in ("text", "owner_unit"):
        return getattr(item, name)
    return None


def place_problems(form: ContentEditorForm, problems: Iterable[Problem], where: Where) -> None:
    """Put each problem next to the field it is about (or above the form), by its code."""
    for problem in problems:
        field = _field_of(form, where, problem.location)
        message = content_problem_text(problem)
        if field is None or message is None:
            # A key, the form's structure or a kind of value no field of this form
            # sends: only a changed page can produce these.
            note_changed_outside(form)
        elif field.errors:
            # The form's own check already refused this value, in the field's words
            # (a date "in the date picker"): a second message about it adds nothing.
            continue
        else:
            field.errors = [*field.errors, message]


def note_changed_outside(form: ContentEditorForm) -> None:
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


# -- choices -------------------------------------------------------------------------------


def owner_choices(org: OrgSnapshot, plan: PlanView, content: PlanContent) -> list[SelectChoice]:
    """The plan's unit and every unit below it, as a tree; plus codes the content uses already."""
    return unit_owner_choices(org, plan.unit.code, content)


def unit_owner_choices(
    org: OrgSnapshot, unit_code: str, content: PlanContent
) -> list[SelectChoice]:
    """The owners an item of a plan at ``unit_code`` may name (``owner_choices``)."""
    top = org.unit_ids[unit_code]
    below: dict[int | None, list[int]] = {}
    inside = set(org.subtree(top))
    for unit_id in inside:
        if unit_id != top:
            below.setdefault(org.parent(unit_id), []).append(unit_id)
    choices = [SelectChoice("", "—")]
    stack = [(top, 0)]
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


def with_choices(form: ContentEditorForm, owners: list[SelectChoice]) -> ContentEditorForm:
    months = month_choices()
    for entry in form.sections:
        for item in entry.form.items:
            item.form.owner_unit.choices = owners
            item.form.due_month.choices = months
    return form


def rebuilt_form(form: ContentEditorForm, sections: list[FormData]) -> ContentEditorForm:
    """A fresh form holding ``sections`` (not from the request, so without errors)."""
    return ContentEditorForm(
        formdata=None,
        data={"sections": sections, "import_text": form.import_text.data or ""},
    )
