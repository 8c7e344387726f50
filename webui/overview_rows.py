"""What the officers' overview shows, worked out in Python: its rows and its figures.

The blueprint (``overview``) reads the request and renders; this module turns
the library's ``YearOverview`` into what the page and the CSV list: the
summary by group, the units one by one (each plan's state, stage, who it is
waiting for, whether it is overdue), the pages of the unit table and the two
SVG charts. Texts that recur on every row are translated once per request:
a table can have a thousand rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from flask_babel import format_percent, gettext, ngettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from planflow.app import Planflow
from planflow.core.org import OrgSnapshot, UnitInfo
from planflow.core.state_phases import Phase, state_classes
from planflow.services.overview import Rollup, UnitPlan, YearOverview

from . import charts
from .access import Viewer
from .i18n import current_language, role_label, state_label

#: Rows of the unit table per page (a unit with several plans has a row each).
PAGE_ROWS = 100
#: Groups drawn in a chart; the table always lists them all.
CHART_LIMIT = 40
Percent = Callable[[int, int], str]

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


@dataclass(frozen=True)
class SummaryRow:
    """A line of the summary table: a group, or the total of all."""

    label: str
    code: str | None  # where the row drills down to
    rollup: Rollup
    total: bool = False


@dataclass(frozen=True)
class UnitRow:
    """A line of the unit table and of the CSV: a unit, and one of its plans (if any)."""

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
    #: The unit drafts plans (a missing plan is news); False: it only reviews.
    drafts: bool = True


def summary_rows(org: OrgSnapshot, ov: YearOverview) -> list[SummaryRow]:
    """One row per group (but a unit above that drafts no plans), then the total."""
    rows = []
    for group, rollup in zip(ov.groups, ov.rollups, strict=False):
        if group.own and not rollup.units:
            continue  # a unit above that drafts no plans of its own: nothing to show
        info = org.unit(group.head)
        own = gettext("%(unit)s (its own plans)", unit=info.name)
        label = own if group.own else info.name
        rows.append(SummaryRow(label, None if group.own else info.code, rollup))
    rows.append(SummaryRow(gettext("All units"), None, ov.rollups[-1], total=True))
    return rows


def unit_rows(
    pf: Planflow, org: OrgSnapshot, viewer: Viewer, ov: YearOverview, units: list[tuple[int, int]]
) -> list[UnitRow]:
    """A row per plan of each of ``units`` (a unit without a plan gets one empty row)."""
    by_unit: dict[int, list[UnitPlan]] = {}
    for p in pf.unit_plans(ov.year, {u for u, _ in units}):
        by_unit.setdefault(p.unit_id, []).append(p)
    heads = {u: org.unit(g.head).name for g in ov.groups for u in g.units}
    lang = current_language()
    # The same few texts recur on every row: translate each once (a row is ~0.1 ms otherwise).
    phases = {phase: str(label) for phase, label in PHASES.items()}
    # Not counted in the summary: no one there drafts plans.
    reviews_only = gettext("Drafts no plans")
    states: dict[tuple[str, int, str], tuple[str, str, Phase]] = {}
    said: dict[tuple[str, int | None], str] = {}

    def state_of(p: UnitPlan) -> tuple[str, str, Phase]:
        key = (p.workflow_name, p.workflow_version, p.state)
        if key not in states:
            spec = pf.definition(p.workflow_name, p.workflow_version)
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
            drafts = ov.status(unit_id).drafts
            none = phases[Phase.NONE] if drafts else reviews_only
            rows.append(
                UnitRow(info, depth, group, None, False, "", none, none, "", "", False, drafts)
            )
        for p in plans:
            workflow, label, phase = state_of(p)
            rows.append(
                UnitRow(
                    unit=info,
                    depth=depth,
                    group=group,
                    plan=p,
                    openable=viewer.can_view(p),
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


def chart_figures(rows: list[SummaryRow], year: int, percent: Percent) -> tuple[Markup, Markup]:
    """The stacked stages chart and the rates chart of the first ``CHART_LIMIT`` groups."""
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


def listed_units(ov: YearOverview, show: str) -> list[tuple[int, int]]:
    """The (unit, depth) pairs the unit table lists: all, or those needing attention."""
    if show == "attention":
        return [(u, d) for u, d in ov.units if ov.status(u).needs_attention]
    return list(ov.units)


def pages_of(ov: YearOverview, listed: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
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


def percent_formatter() -> Percent:
    """``percent(count, total)`` in the user's language, each share formatted once."""
    done: dict[float, str] = {}

    def percent(count: int, total: int) -> str:
        share = count / total if total else 0.0
        if share not in done:
            done[share] = format_percent(share)
        return done[share]

    return percent
