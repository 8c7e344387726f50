"""Blueprint ``overview``: a year across the part of the tree the user oversees.

For officers, administrators and everyone else with an oversight role
(the library's ``Viewer.oversight``): per group (each unit below the top one, or
the units a chosen number of levels down) how many units have a plan, have
submitted it, had it approved and accepted, and what is overdue or
escalated, as a table and as SVG charts (``charts``); then the units one by
one, also as CSV. The numbers are the library's (``Planflow.year_overview``:
a fixed number of aggregate queries whatever the size of the tree); the rows
and figures are worked out in ``overview_rows``. This module reads the
request, checks access and renders the page and the CSV.

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
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext, to_user_timezone  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l

from planflow.app import Planflow
from planflow.core.org import OrgSnapshot, UnitInfo
from planflow.core.text import clean_text, csv_cell
from planflow.errors import ValidationError

from .access import Viewer, org_now
from .errors import error_page
from .overview_rows import (
    CHART_LIMIT,
    chart_figures,
    listed_units,
    pages_of,
    percent_formatter,
    summary_rows,
    unit_rows,
)
from .spreadsheets import Table, Value, download, workbook
from .users import me, planflow, require_login

bp = Blueprint("overview", __name__, url_prefix="/overview")
require_login(bp)

MAX_DEPTH = 6
YEARS = (2000, 2100)
SHOW = ("all", "attention")
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

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


def _viewer() -> tuple[Planflow, OrgSnapshot, Viewer]:
    pf = planflow()
    org = org_now(pf)
    return pf, org, pf.viewer(me().username, org)


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
    summary = summary_rows(org, ov)
    listed = listed_units(ov, params.show)
    pages = pages_of(ov, listed)
    number = min(params.page, len(pages))
    shown = pages[number - 1]
    percent = percent_formatter()
    stacked, rates = chart_figures(summary, params.year, percent)
    height = max((d for _u, d in ov.units), default=0) + (1 if len(roots) > 1 else 0)
    html = render_template(
        "overview/index.html",
        **page,
        overview=ov,
        summary=summary,
        rows=unit_rows(pf, org, viewer, ov, shown),
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


def _export() -> Table | tuple[str, int]:
    """The unit table as the downloads hold it: headers, rows of plain values, a file name."""
    pf, org, viewer = _viewer()
    if not viewer.oversight:
        return error_page(403, str(NOTHING_OVERSEEN))
    params = _params(pf, org, viewer)
    if params.errors:
        return error_page(400, " ".join(params.errors.values()))
    roots = _roots(org, viewer, params.unit)
    ov = pf.year_overview(params.year, roots, depth=params.depth, org=org)
    rows = unit_rows(pf, org, viewer, ov, listed_units(ov, params.show))
    yes, no = gettext("yes"), gettext("no")
    headers = [
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
    values: list[list[Value]] = []
    for r in rows:
        p = r.plan
        values.append(
            [
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
                p.task_due_at if p else None,
                (yes if r.overdue else no) if p else "",
                p.task_level if p else "",
            ]
        )
    suffix = ""
    if params.unit is not None:
        code = params.unit.code
        suffix = "-" + (code if _SAFE_CODE.match(code) else str(params.unit.id))
    return Table(headers, values, f"planflow-overview-{params.year}{suffix}")


def _csv_value(value: Value) -> str:
    if isinstance(value, datetime):
        return str(to_user_timezone(value).strftime("%Y-%m-%d %H:%M"))
    return csv_cell(value)


@bp.route("/export.csv")
def export() -> Response | tuple[str, int]:
    found = _export()
    if not isinstance(found, Table):
        return found
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(found.headers)
    writer.writerows([_csv_value(v) for v in row] for row in found.rows)
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.name}.csv"'
    return response


@bp.route("/export.xlsx")
def export_xlsx() -> Response | tuple[str, int]:
    found = _export()
    if not isinstance(found, Table):
        return found
    return download(workbook(gettext("Overview"), found.headers, found.rows), f"{found.name}.xlsx")
