"""Blueprint ``overview``: a year across the part of the tree the user oversees.

For officers, administrators and everyone else with an oversight role
(``access.Viewer.oversight``): per group (each unit below the top one, or
the units a chosen number of levels down) how many units have a plan, have
submitted it, had it approved and accepted, and what is overdue or
escalated, as a table and as SVG charts (``charts``); then the units one by
one, also as CSV. The numbers are the library's (``Planflow.year_overview``:
a fixed number of aggregate queries whatever the size of the tree).

``?unit=<code>`` drills into a unit the user oversees; any other code is a
404, as for every id. Someone who oversees nothing gets a 403 page saying
why. A plan is linked, and its title shown, only where the visibility rule
lets the user open it: a plan never submitted belongs to its own unit, so
it shows as a state without a title.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import format_percent, gettext, ngettext, to_user_timezone  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from planflow.api import Planflow
from planflow.errors import ValidationError
from planflow.org import OrgSnapshot, UnitInfo
from planflow.overview import Phase, Rollup, UnitPlan, YearOverview, state_classes, unit_plans
from planflow.storage.tables import Plan
from planflow.text import clean_text

from . import charts
from .access import Viewer, org_now, viewer_for
from .errors import error_page
from .i18n import current_language, role_label, state_label
from .users import me, planflow, require_login

bp = Blueprint("overview", __name__, url_prefix="/overview")
require_login(bp)

#: Rows of the unit table per page (a unit with several plans has a row each).
PAGE_ROWS = 100
MAX_DEPTH = 6
#: Groups drawn in a chart; the table always lists them all.
CHART_LIMIT = 40
YEARS = (2000, 2100)
SHOW = ("all", "attention")
#: A cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Percent = Callable[[int, int], str]
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

#: Stages from the furthest to none, as the stacked chart shows them.
PHASES = {
    Phase.ACCEPTED: _l("Accepted"),
    Phase.INSPECTION: _l("In inspection"),
    Phase.WORK: _l("Approved, being carried out"),
    Phase.REVIEW: _l("In review"),
    Phase.DRAFTING: _l("Being drafted or revised"),
    Phase.DROPPED: _l("Withdrawn"),
    Phase.NONE: _l("No plan yet"),
}
NOTHING_OVERSEEN = _l(
    "The overview shows the plans of the units you oversee, as an officer, reviewer, "
    "inspector or administrator. You hold no such role."
)


@dataclass(frozen=True)
class Params:
    year: int
    depth: int
    show: str
    page: int
    unit: UnitInfo | None
    #: The year as the user typed it, shown again with its error.
    typed_year: str
    errors: dict[str, str]


@dataclass(frozen=True)
class SummaryRow:
    label: str
    code: str | None  # where the row drills down to
    rollup: Rollup
    total: bool = False


@dataclass(frozen=True)
class UnitRow:
    unit: UnitInfo
    depth: int
    group: str
    plan: UnitPlan | None
    openable: bool
    workflow: str
    state_label: str
    stage: str
    waiting: str
    escalated_to: str
    overdue: bool


def _unit(org: OrgSnapshot, viewer: Viewer) -> UnitInfo | None:
    raw = request.args.get("unit", "")
    if not raw:
        return None
    try:
        code = clean_text(raw, field="unit", max_length=64)
    except ValidationError:
        abort(404)
    unit = next((u for u in org.units.values() if u.code == code), None)
    if unit is None or unit.id not in viewer.oversight:
        abort(404)
    return unit


def _params(pf: Planflow, org: OrgSnapshot, viewer: Viewer) -> Params:
    args = request.args
    errors: dict[str, str] = {}
    year = to_user_timezone(pf.clock.now()).year
    raw = args.get("year", "").strip()
    if raw:
        if raw.isascii() and raw.isdigit() and len(raw) == 4 and YEARS[0] <= int(raw) <= YEARS[1]:
            year = int(raw)
        else:
            errors["year"] = gettext(
                "Give the year as a number between %(min)d and %(max)d, e.g. %(year)d.",
                min=YEARS[0],
                max=YEARS[1],
                year=year,
            )
    depth = 1
    raw = args.get("depth", "").strip()
    if raw:
        if raw.isascii() and raw.isdigit() and 1 <= int(raw[:3]) <= MAX_DEPTH:
            depth = int(raw)
        else:
            errors["depth"] = gettext("Choose how many levels down to group the units.")
    show = args.get("show", "all")
    page = args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() and len(page) < 6 else 1
    return Params(
        year=year,
        depth=depth,
        show=show if show in SHOW else "all",
        page=max(number, 1),
        unit=_unit(org, viewer),
        typed_year="".join(c for c in args.get("year", "")[:20] if c.isprintable()),
        errors=errors,
    )


def _roots(org: OrgSnapshot, viewer: Viewer, unit: UnitInfo | None) -> list[int]:
    if unit is not None:
        return [unit.id]
    tops = (u for u in viewer.oversight if org.parent(u) not in viewer.oversight)
    return sorted(tops, key=lambda u: org.unit(u).code)


def _summary(org: OrgSnapshot, ov: YearOverview) -> list[SummaryRow]:
    rows = []
    for group, rollup in zip(ov.groups, ov.rollups, strict=False):
        info = org.unit(group.head)
        own = gettext("%(unit)s (its own plans)", unit=info.name)
        label = own if group.own else info.name
        rows.append(SummaryRow(label, None if group.own else info.code, rollup))
    rows.append(SummaryRow(gettext("All units"), None, ov.rollups[-1], total=True))
    return rows


def _can_open(viewer: Viewer, p: UnitPlan) -> bool:
    # The one visibility rule, asked about a row read without its content. A UnitPlan
    # has every column ``Viewer.can_view`` reads; building a real Plan costs about a
    # millisecond a row (measured), too much for a table of a thousand units.
    return viewer.can_view(cast(Plan, p))


def _unit_rows(
    pf: Planflow, org: OrgSnapshot, viewer: Viewer, ov: YearOverview, units: list[tuple[int, int]]
) -> list[UnitRow]:
    by_unit: dict[int, list[UnitPlan]] = {}
    for p in unit_plans(pf.db, ov.year, {u for u, _ in units}):
        by_unit.setdefault(p.unit_id, []).append(p)
    heads = {u: org.unit(g.head).name for g in ov.groups for u in g.units}
    lang = current_language()
    # The same few texts recur on every row: translate each once (a row is ~0.1 ms otherwise).
    phases = {phase: str(label) for phase, label in PHASES.items()}
    states: dict[tuple[str, int, str], tuple[str, str, Phase]] = {}
    said: dict[tuple[str, int | None], str] = {}

    def state_of(p: UnitPlan) -> tuple[str, str, Phase]:
        key = (p.workflow_name, p.workflow_version, p.state)
        if key not in states:
            spec = pf.service.definitions.spec_for(pf.db, p.workflow_name, p.workflow_version)
            phase = state_classes(spec).phase(p.state)
            states[key] = (spec.title.get(lang), state_label(spec, p.state), phase)
        return states[key]

    def at(role: str, unit_id: int | None) -> str:
        if (role, unit_id) not in said:
            info = org.units.get(unit_id) if unit_id is not None else None
            name = info.name if info is not None else "?"
            said[role, unit_id] = (
                gettext("escalated to %(unit)s", unit=name)
                if role == ""
                else gettext("%(role)s at %(unit)s", role=role_label(role), unit=name)
            )
        return said[role, unit_id]

    rows = []
    for unit_id, depth in units:
        info, group = org.unit(unit_id), heads.get(unit_id, "")
        plans = by_unit.get(unit_id, [])
        if not plans:
            none = phases[Phase.NONE]
            rows.append(UnitRow(info, depth, group, None, False, "", none, none, "", "", False))
        for p in plans:
            workflow, label, phase = state_of(p)
            rows.append(
                UnitRow(
                    unit=info,
                    depth=depth,
                    group=group,
                    plan=p,
                    openable=_can_open(viewer, p),
                    workflow=workflow,
                    state_label=label,
                    stage=phases[phase],
                    waiting=at(p.task_role, p.task_unit_id) if p.task_role else "",
                    escalated_to=at("", p.task_escalated_unit_id)
                    if p.task_escalated_unit_id
                    else "",
                    overdue=p.overdue(ov.now),
                )
            )
    return rows


def _charts(rows: list[SummaryRow], year: int, percent: Percent) -> tuple[Markup, Markup]:
    groups = [r for r in rows if not r.total][:CHART_LIMIT]
    phases = [(p, f"ph-{p.value}", str(label)) for p, label in PHASES.items()]
    said: dict[tuple[int, int], str] = {}

    def units(n: int) -> str:
        if (n, -1) not in said:
            said[n, -1] = ngettext("%(num)d unit", "%(num)d units", n)
        return said[n, -1]

    def rate(count: int, total: int) -> str:
        if (count, total) not in said:
            said[count, total] = gettext(
                "%(percent)s (%(count)d of %(total)d)",
                percent=percent(count, total),
                count=count,
                total=total,
            )
        return said[count, total]

    stacked = charts.stacked_bars(
        [
            charts.StackedBar(
                r.label,
                tuple(
                    charts.Segment(css, label, r.rollup.phases.get(p, 0))
                    for p, css, label in phases
                ),
                units(r.rollup.units),
            )
            for r in groups
        ],
        ident="stages-chart",
        title=gettext("Where the plans of %(year)d stand, by group", year=year),
        desc=gettext(
            "For each group, its units by the furthest stage any of their plans reached, "
            "as shares of the group. The table above gives the same numbers."
        ),
        legend=[(css, label) for _p, css, label in phases],
    )
    kinds = [
        ("rate-submitted", gettext("Submitted"), attrgetter("submitted")),
        ("rate-approved", gettext("Approved"), attrgetter("approved")),
        ("rate-accepted", gettext("Accepted"), attrgetter("accepted")),
    ]
    rates = charts.rate_bars(
        [
            charts.RateGroup(
                r.label,
                tuple(
                    charts.Rate(
                        css,
                        label,
                        r.rollup.rate(count(r.rollup)),
                        rate(count(r.rollup), r.rollup.units),
                    )
                    for css, label, count in kinds
                ),
            )
            for r in groups
        ],
        ident="rates-chart",
        title=gettext("Submission, approval and acceptance rates of %(year)d, by group", year=year),
        desc=gettext(
            "For each group, the share of its units that submitted a plan, had a plan "
            "approved and had a plan accepted. The table above gives the same numbers."
        ),
    )
    return stacked, rates


def _pages(ov: YearOverview, listed: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The listed units cut into pages of about ``PAGE_ROWS`` rows; a unit is never split."""
    pages: list[list[tuple[int, int]]] = [[]]
    rows = 0
    for unit in listed:
        size = max(ov.status(unit[0]).plans, 1)
        if pages[-1] and rows + size > PAGE_ROWS:
            pages.append([])
            rows = 0
        pages[-1].append(unit)
        rows += size
    return pages


def _listed(ov: YearOverview, show: str) -> list[tuple[int, int]]:
    if show == "attention":
        return [(u, d) for u, d in ov.units if ov.status(u).needs_attention]
    return list(ov.units)


def _linker(params: Params) -> Callable[..., str]:
    """``here(**changes)``: this page's address with some parameters changed (None drops one)."""
    base: dict[str, Any] = {
        "year": params.year,
        "unit": params.unit.code if params.unit else None,
        "depth": params.depth if params.depth != 1 else None,
        "show": params.show if params.show != "all" else None,
    }

    paths: dict[str, str] = {}

    def here(endpoint: str = "overview.index", **changes: object) -> str:
        # url_for once per endpoint: a summary by branch can have a thousand links.
        if endpoint not in paths:
            paths[endpoint] = url_for(endpoint)
        query = {k: v for k, v in (base | changes).items() if v is not None}
        return paths[endpoint] + ("?" + urlencode(query) if query else "")

    return here


def _percent() -> Percent:
    """``percent(count, total)`` in the user's language, each share formatted once."""
    done: dict[float, str] = {}

    def percent(count: int, total: int) -> str:
        share = count / total if total else 0.0
        if share not in done:
            done[share] = format_percent(share)
        return done[share]

    return percent


def _viewer() -> tuple[Planflow, OrgSnapshot, Viewer]:
    pf = planflow()
    org = org_now(pf)
    return pf, org, viewer_for(org, me().id)


@bp.route("/")
def index() -> tuple[str, int]:
    pf, org, viewer = _viewer()
    if not viewer.oversight:
        return error_page(403, str(NOTHING_OVERSEEN))
    params = _params(pf, org, viewer)
    trail = []
    if params.unit is not None:
        above = [a for a in reversed(org.ancestors(params.unit.id)) if a in viewer.oversight]
        trail = [org.unit(a) for a in above]
    page: dict[str, object] = {
        "params": params,
        "unit": params.unit,
        "trail": trail,
        "here": _linker(params),
    }
    if params.errors:
        return render_template("overview/index.html", **page, overview=None), 400
    roots = _roots(org, viewer, params.unit)
    ov = pf.year_overview(params.year, roots, depth=params.depth, org=org)
    summary = _summary(org, ov)
    listed = _listed(ov, params.show)
    pages = _pages(ov, listed)
    number = min(params.page, len(pages))
    shown = pages[number - 1]
    percent = _percent()
    stacked, rates = _charts(summary, params.year, percent)
    height = max((d for _u, d in ov.units), default=0) + (1 if len(roots) > 1 else 0)
    html = render_template(
        "overview/index.html",
        **page,
        overview=ov,
        summary=summary,
        rows=_unit_rows(pf, org, viewer, ov, shown),
        listed=len(listed),
        page_number=number,
        pages=len(pages),
        depths=range(1, max(min(height, MAX_DEPTH), params.depth, 1) + 1),
        stages_chart=stacked,
        rates_chart=rates,
        charted=min(len(summary) - 1, CHART_LIMIT),
        percent=percent,
        now=ov.now,
    )
    return html, 200


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.route("/export.csv")
def export() -> Response | tuple[str, int]:
    pf, org, viewer = _viewer()
    if not viewer.oversight:
        return error_page(403, str(NOTHING_OVERSEEN))
    params = _params(pf, org, viewer)
    if params.errors:
        return error_page(400, " ".join(params.errors.values()))
    roots = _roots(org, viewer, params.unit)
    ov = pf.year_overview(params.year, roots, depth=params.depth, org=org)
    rows = _unit_rows(pf, org, viewer, ov, _listed(ov, params.show))
    out = io.StringIO()
    writer = csv.writer(out)
    yes, no = gettext("yes"), gettext("no")
    writer.writerow(
        [
            gettext("Unit code"),
            gettext("Unit"),
            gettext("Group"),
            gettext("Plan"),
            gettext("Title"),
            gettext("Kind of plan"),
            gettext("State"),
            gettext("Stage"),
            gettext("Submitted"),
            gettext("Waiting for"),
            gettext("Due"),
            gettext("Overdue"),
            gettext("Escalation level"),
        ]
    )
    for r in rows:
        p = r.plan
        due: datetime | None = p.task_due_at if p else None
        writer.writerow(
            _cell(v)
            for v in (
                r.unit.code,
                r.unit.name,
                r.group,
                p.id if p and r.openable else "",
                p.title if p and r.openable else "",
                r.workflow,
                r.state_label,
                r.stage,
                (yes if p.revision > 0 else no) if p else "",
                " ".join(filter(None, (r.waiting, r.escalated_to))),
                to_user_timezone(due).strftime("%Y-%m-%d %H:%M") if due else "",
                (yes if r.overdue else no) if p else "",
                p.task_level if p else "",
            )
        )
    suffix = ""
    if params.unit is not None:
        code = params.unit.code
        suffix = "-" + (code if _SAFE_CODE.match(code) else str(params.unit.id))
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="planflow-overview-{params.year}{suffix}.csv"'
    )
    return response
