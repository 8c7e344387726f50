"""Blueprint ``admin_workflows``: the workflow definitions, each drawn as a state diagram.

The list names every definition version the registry loaded or a plan ever
started under, with how many plans (of the admin's units) run on it, and
the workflow files the registry left out because they have problems. A
version's page draws its states and transitions as inline SVG laid out by
``planflow.core.diagram.layout`` (no drawing service, no script), then lists the same
in tables: states with their labels and tasks, transitions with who may
fire them and their guards, timers, schedules and the inspection sheet.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path

from babel.dates import format_skeleton
from flask import Blueprint, abort, render_template
from flask_babel import get_locale, gettext, ngettext  # type: ignore[import-untyped]

from planflow.core.definitions.spec import Duration, RoleRef, ScheduleSpec, Where, WorkflowSpec
from planflow.core.diagram.layout import workflow_diagram
from planflow.core.diagram.shapes import Point
from planflow.errors import PlanflowError

from .admin import admin_scope, directory, require_admin
from .i18n import current_language, guard_label, role_label
from .users import planflow

bp = Blueprint("admin_workflows", __name__, url_prefix="/admin/workflows")
require_admin(bp)

NAME_RE = re.compile(r"^[a-z0-9_]{1,100}$")


def duration_text(d: Duration | None) -> str:
    if d is None:
        return ""
    parts = []
    if d.days or not (d.working_days or d.hours):
        parts.append(ngettext("%(num)d day", "%(num)d days", d.days))
    if d.working_days:
        parts.append(ngettext("%(num)d working day", "%(num)d working days", d.working_days))
    if d.hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", d.hours))
    return " + ".join(str(p) for p in parts)


def who(ref: RoleRef | None) -> str:
    """Who may act, e.g. "reviewer at the unit above" (literal strings, for extraction)."""
    if ref is None:
        return str(gettext("the system (on a timer)"))
    role = role_label(ref.role)
    if ref.at is Where.SAME:
        return str(gettext("%(role)s at the plan's unit", role=role))
    if ref.at is Where.PARENT:
        return str(gettext("%(role)s at the unit above", role=role))
    if ref.at is Where.NEAREST:
        return str(
            gettext("%(role)s at the plan's unit or the nearest unit above that has one", role=role)
        )
    return str(gettext("%(role)s at the nearest unit above that has one", role=role))


def when(schedule: ScheduleSpec) -> str:
    at = f"{schedule.hour:02d}:{schedule.minute:02d}"
    if schedule.month is not None and schedule.day is not None:
        day = format_skeleton(
            "MMMMd", date(2000, schedule.month, schedule.day), locale=get_locale()
        )
        return str(gettext("every year on %(day)s at %(time)s", day=day, time=at))
    if schedule.day is not None:
        return str(gettext("on day %(day)d of every month at %(time)s", day=schedule.day, time=at))
    return str(gettext("every day at %(time)s", time=at))


def svg_path(points: tuple[Point, ...]) -> str:
    """An SVG path through ``points``: straight where a segment is level or upright,
    otherwise an S-curve that leaves and arrives vertically."""
    x0, y0 = points[0]
    d = [f"M{x0:.1f},{y0:.1f}"]
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        if abs(x1 - x2) < 0.5 or abs(y1 - y2) < 0.5:
            d.append(f"L{x2:.1f},{y2:.1f}")
        else:
            mid = (y1 + y2) / 2
            d.append(f"C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}")
    return " ".join(d)


def _spec(name: str, version: int) -> WorkflowSpec:
    return planflow().definition(name, version)


@bp.route("/")
def index() -> str:
    pf = planflow()
    counts = directory().definitions_in_use(admin_scope())
    keys = sorted({(s.name, s.version) for s in pf.registry.all()} | set(counts))
    rows = []
    for name, version in keys:
        try:
            spec: WorkflowSpec | None = _spec(name, version)
        except PlanflowError:
            spec = None  # stored long ago and no longer readable: listed, not linked
        rows.append((name, version, spec, counts.get((name, version), 0)))
    # By file name only: the problems are for `planflow workflows validate`.
    left_out = [Path(error.source).name for error in pf.registry.broken()]
    return render_template("admin/workflows.html", rows=rows, left_out=left_out)


@bp.route("/<name>/<id:version>")
def detail(name: str, version: int) -> str:
    if not NAME_RE.match(name):
        abort(404)
    try:
        spec = _spec(name, version)
    except PlanflowError:
        abort(404)
    lang = current_language()
    diagram = workflow_diagram(spec, lang)
    states = {s.name: s.label.get(lang) for s in spec.states}
    return render_template(
        "admin/workflow.html",
        spec=spec,
        lang=lang,
        diagram=diagram,
        paths=[svg_path(e.points) for e in diagram.edges],
        states=states,
        plans=directory().definitions_in_use(admin_scope()).get((name, version), 0),
        who=who,
        guard_label=guard_label,
        duration_text=duration_text,
        when=when,
    )
