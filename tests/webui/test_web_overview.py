"""The officers' overview page (blueprint ``overview``): tables, charts, CSV, limits.

The world of ``tests/test_overview.py``: a federation with two unions, plans
in every stage, an overdue and escalated review, an overdue inspection, a
committee_plan, a draft, an abandoned plan and units without a plan.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from seeds import seeded
from sqlmodel import select
from stored import CountStatements
from test_overview import add_people, new_plan
from webui_support import AuthActions, WebClient, make_app, signed_in, text

import planflow_web.overview_rows
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.storage.tables import User
from planflow_web import charts

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(
    request: pytest.FixtureRequest, pf: Planflow, org: Any, clock: FixedClock, password_hash: str
) -> dict[str, int]:
    ids: dict[str, int] = seeded(request, "world", pf, clock)  # build_world's, a seed
    with pf.session() as s:
        for user in s.exec(select(User)):
            user.password_hash = password_hash
            s.add(user)
    return ids


class Tables(HTMLParser):
    """The text of each cell of each row of the tables with a given class."""

    def __init__(self, css: str) -> None:
        super().__init__()
        self.css = css
        self.inside = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and (dict(attrs).get("class") or "") == self.css:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join(" ".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, css: str) -> list[list[str]]:
    parser = Tables(css)
    parser.feed(html)
    return parser.rows[1:]  # without the header row


def summary(html: str) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table(html, "ov-summary")}


def units(html: str) -> dict[str, list[list[str]]]:
    """Rows of the unit table by unit code (a unit with two plans has two rows)."""
    out: dict[str, list[list[str]]] = {}
    for row in table(html, "ov-units"):
        out.setdefault(row[0].split()[-1], []).append(row[1:])
    return out


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, re.S)]


# -- who sees what ------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client: WebClient) -> None:
    for path in ["/overview/", "/overview/export.csv"]:
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_someone_who_oversees_nothing_is_told_so(
    world: dict[str, int], client: WebClient, auth: AuthActions
) -> None:
    auth.login("drafter_a")
    for path in ["/overview/", "/overview/export.csv", "/overview/?unit=branch_a"]:
        response = client.get(path)
        assert response.status_code == 403
        assert "You hold no such role" in text(response)


def test_the_federation_officer_sees_each_union(world: dict[str, int], app: Flask) -> None:
    page = text(signed_in(app, "fed_officer").get("/overview/?year=2027"))
    rows = summary(page)
    # Only units that draft plans count: the federation and the unions review.
    assert list(rows) == ["Union 工会", "Union Two", "All units"]
    # units, with a plan, submitted, approved, accepted (count and share), overdue, escalated
    assert rows["Union 工会"] == ["4", "4 100%", "4 100%", "3 75%", "1 25%", "1", "1", "1"]
    assert rows["Union Two"] == ["2", "2 100%", "0 0%", "0 0%", "0 0%", "0", "0", "0"]
    assert rows["All units"] == ["6", "6 100%", "4 67%", "3 50%", "1 17%", "1", "1", "1"]
    assert 'href="/overview/?year=2027&amp;unit=union"' in page


def test_the_unit_table(world: dict[str, int], app: Flask, pf: Planflow) -> None:
    officer = signed_in(app, "fed_officer")
    page = text(officer.get("/overview/"))  # the year of the clock: 2027
    rows = units(page)
    assert list(rows) == [
        "fed",
        "union",
        "branch_a",
        "branch_b",
        "branch_e",
        "branch_f",
        "union2",
        "branch_c",
        "branch_d",
    ]
    # They only review: no alarm (the CSV says the same).
    assert rows["fed"] == [["Drafts no plans"]] and rows["union"] == [["Drafts no plans"]]
    assert 'badge-missing">Drafts no plans' not in page
    assert [r[1] for r in rows["branch_a"]] == ["Accepted", "Approved"]
    _plan, state, waiting, due, level = rows["branch_b"][0]
    assert (
        state == "Submitted" and waiting == "reviewer at Union 工会 escalated to Federation 总工会"
    )
    assert due.startswith("Overdue") and level == "Escalated (level 1)"
    assert rows["branch_f"][0][1] == "Inspection scheduled"
    assert rows["branch_f"][0][3].startswith("Overdue")
    assert rows["branch_e"][0][1] == "Approved" and "Committee-approved" in rows["branch_e"][0][0]
    assert rows["branch_d"][0][1] == "Abandoned"
    # A draft never submitted belongs to its unit: its state shows, not its title or link.
    assert rows["branch_c"][0][:2] == [
        "Not submitted yet: only its unit sees it Annual work plan",
        "Draft",
    ]
    assert f'href="/plans/{world["c"]}"' not in page
    assert f'href="/plans/{world["d"]}"' not in page  # abandoned before it was ever submitted
    assert page.count('class="badge badge-overdue"') == 2
    for name in ["a", "a_committee", "b", "e", "f"]:
        assert f'href="/plans/{world[name]}"' in page
        assert officer.get(f"/plans/{world[name]}").status_code == 200


def test_a_union_officer_sees_only_their_union(world: dict[str, int], app: Flask) -> None:
    officer = signed_in(app, "officer")  # officer of "union"
    page = text(officer.get("/overview/"))
    assert list(summary(page)) == [
        "Branch A 분회",
        "Branch B",
        "Branch E",
        "Branch F",
        "All units",
    ]
    assert "Union Two" not in page and "Branch C" not in page
    assert summary(page)["All units"][:1] == ["4"]
    for unit in ["union2", "branch_c", "fed"]:
        assert officer.get(f"/overview/?unit={unit}").status_code == 404
        assert officer.get(f"/overview/export.csv?unit={unit}").status_code == 404
    # The other union's officer sees theirs only, in which branch_c's draft is someone else's.
    other = text(signed_in(app, "officer2").get("/overview/"))
    assert list(units(other)) == ["union2", "branch_c", "branch_d"]


def test_every_oversight_role_sees_its_part(
    world: dict[str, int], app: Flask, pf: Planflow, password_hash: str
) -> None:
    add_people(pf, [], [("admin1", "admin", "fed"), ("union2_inspector", "inspector", "union2")])
    with pf.session() as s:
        for username in ("admin1", "union2_inspector"):
            user = s.exec(select(User).where(User.username == username)).one()
            user.password_hash = password_hash
            s.add(user)
    expected = {
        "admin1": ["Union 工会", "Union Two", "All units"],
        "reviewer": ["Branch A 분회", "Branch B", "Branch E", "Branch F"],
        "member1": ["Branch A 분회", "Branch B", "Branch E", "Branch F"],
        "union2_inspector": ["Branch C", "Branch D", "All units"],
    }
    for username, groups in expected.items():
        page = text(signed_in(app, username).get("/overview/"))
        assert list(summary(page))[:4] == groups, username


def test_the_page_in_chinese_and_korean(world: dict[str, int], app: Flask) -> None:
    officer = signed_in(app, "fed_officer")
    officer.post_form("/auth/language", {"language": "zh"})
    page = text(officer.get("/overview/"))
    assert "2027 年度总览" in page and "已提交" in page and "尚无计划" in page
    assert "100%（4/4）" in page  # the rate chart's text
    assert read_csv(text(officer.get("/overview/export.csv")))[0][:2] == ["单位代码", "单位"]
    officer.post_form("/auth/language", {"language": "ko"})
    page = text(officer.get("/overview/?year=abc"))
    assert "연도를 2000부터 2100 사이의 숫자로 입력하십시오(예: 2027)." in page


def test_drilling_down_into_a_union(world: dict[str, int], app: Flask) -> None:
    officer = signed_in(app, "fed_officer")
    page = text(officer.get("/overview/?year=2027&unit=union"))
    assert list(summary(page)) == [
        "Branch A 분회",
        "Branch B",
        "Branch E",
        "Branch F",
        "All units",
    ]
    assert list(units(page)) == ["union", "branch_a", "branch_b", "branch_e", "branch_f"]
    assert 'aria-current="page">Union 工会</li>' in page
    assert 'href="/overview/?year=2027">Everything you oversee' in page
    deeper = text(officer.get("/overview/?unit=branch_b"))
    assert list(units(deeper)) == ["branch_b"]
    assert '<a href="/overview/?year=2027&amp;unit=union">Union 工会</a>' in deeper
    # Grouping two levels down: every branch is its own row.
    two = summary(text(officer.get("/overview/?depth=2")))
    assert "Branch C" in two and "Union Two (its own plans)" not in two  # drafts none
    assert two["Branch B"] == ["1", "1 100%", "1 100%", "0 0%", "0 0%", "1", "0", "1"]


def test_an_unknown_unit_is_not_found(world: dict[str, int], app: Flask) -> None:
    officer = signed_in(app, "fed_officer")
    codes = ["nowhere", "\x00", "a\x00b", "x" * 5000, "Union", "-1"]
    statuses = {
        code: officer.get("/overview/", query_string={"unit": code}).status_code for code in codes
    }
    assert statuses == dict.fromkeys(codes, 404)


def test_only_units_needing_attention(world: dict[str, int], app: Flask) -> None:
    page = text(signed_in(app, "officer").get("/overview/?show=attention"))
    assert list(units(page)) == ["branch_b", "branch_f"]  # union drafts no plans
    assert '<option value="attention" selected>' in page


def test_the_unit_table_in_pages(
    world: dict[str, int], app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planflow_web.overview_rows, "PAGE_ROWS", 4)
    officer = signed_in(app, "fed_officer")
    first = text(officer.get("/overview/"))
    assert list(units(first)) == ["fed", "union", "branch_a"]  # branch_a has two plans
    assert "Page 1 of 3" in first and 'href="/overview/?year=2027&amp;page=2"' in first
    second = text(officer.get("/overview/?page=2"))
    assert list(units(second)) == ["branch_b", "branch_e", "branch_f", "union2"]
    last = text(officer.get("/overview/?page=3"))
    assert list(units(last)) == ["branch_c", "branch_d"] and "Page 3 of 3" in last
    assert list(units(text(officer.get("/overview/?page=999")))) == ["branch_c", "branch_d"]


# -- parameters -----------------------------------------------------------------------------


# The bad values of a parameter are asked in one world (the pages only read it).


def test_a_bad_year_is_explained(world: dict[str, int], app: Flask) -> None:
    officer = signed_in(app, "fed_officer")
    failures: list[tuple[str, str]] = []
    for year in ["abc", "1999", "2101", "99999999999999999999", "20 27", "２０２７", "-2027"]:
        response = officer.get("/overview/", query_string={"year": year})
        page = text(response)
        if response.status_code != 400:
            failures.append((year, f"status {response.status_code}"))
        if "Give the year as a number between 2000 and 2100, e.g. 2027." not in page:
            failures.append((year, "no explanation"))
        if 'aria-invalid="true"' not in page or summary(page) != {}:
            failures.append((year, "field not marked, or a summary shown"))
    assert not failures


def test_a_bad_depth_is_explained(world: dict[str, int], app: Flask) -> None:
    officer = signed_in(app, "fed_officer")
    failures: list[tuple[str, str]] = []
    for depth in ["0", "7", "x", "1.5"]:
        response = officer.get("/overview/", query_string={"depth": depth})
        if response.status_code != 400:
            failures.append((depth, f"status {response.status_code}"))
        if "Choose how many levels down to group the units." not in text(response):
            failures.append((depth, "no explanation"))
    assert not failures


def test_the_year_follows_the_configured_time_zone(
    world: dict[str, int], pf: Planflow, clock: FixedClock
) -> None:
    clock.set(datetime(2027, 12, 31, 20, 0, tzinfo=UTC))  # already 2028 in Shanghai
    app = make_app(pf, BABEL_DEFAULT_TIMEZONE="Asia/Shanghai")
    page = text(signed_in(app, "fed_officer").get("/overview/"))
    assert "Overview of 2028" in page and summary(page)["All units"][1] == "0 0%"


NASTY = [
    "",
    " ",
    "\x00",
    "9" * 40,
    "-1",
    "1e309",
    "NaN",
    "x" * 5000,
    "<script>alert(1)</script>",
    "ü漢字",
]


def test_no_query_breaks_the_pages(world: dict[str, int], app: Flask) -> None:
    # Every value in one world (read only: the pages and the export change nothing).
    officer = signed_in(app, "fed_officer")
    failures: list[tuple[str, str, str, int | str]] = []
    for value in NASTY:
        for path in ["/overview/", "/overview/export.csv"]:
            for name in ["year", "unit", "depth", "show", "page"]:
                response = officer.get(path, query_string={name: value})
                if response.status_code not in (200, 400, 404):
                    failures.append((value, path, name, response.status_code))
                if "<script>alert(1)</script>" in text(response):
                    failures.append((value, path, name, "unescaped script"))
    assert not failures


# -- charts ----------------------------------------------------------------------------------


def test_the_charts_are_well_formed_accessible_svg(world: dict[str, int], app: Flask) -> None:
    response = signed_in(app, "fed_officer").get("/overview/")
    page = text(response)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert " style=" not in page and "<style" not in page and "<script" not in page
    assert 'href="/static/overview.css"' in page
    stages, rates = svgs(page)
    for chart in (stages, rates):
        assert chart.get("role") == "img"
        title, desc = chart.find(f"{SVG}title"), chart.find(f"{SVG}desc")
        assert title is not None and desc is not None and title.text and desc.text
        assert chart.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert all(not el.get("style") and not el.get("fill") for el in chart.iter())
    bars = stages.findall(f"{SVG}g[@class='bar']")
    labels = ["Union 工会", "Union Two"]  # the federation drafts no plans of its own
    for bar, label in zip(bars, labels, strict=True):
        # The full name is in the bar's title; the text is shortened to fit if need be.
        assert (bar.findtext(f"{SVG}title") or "").startswith(f"{label} — ")
        shown = bar.findtext(f"{SVG}text") or ""
        assert shown == label or (shown.endswith("…") and label.startswith(shown[:-1]))
    union = bars[0]
    assert "Accepted: 1" in (union.findtext(f"{SVG}title") or "")
    assert "No plan yet" not in (union.findtext(f"{SVG}title") or "")
    segments = [r.get("class") for r in union.iter(f"{SVG}rect") if "seg" in (r.get("class") or "")]
    assert segments == [
        "seg ph-accepted",
        "seg ph-inspection",
        "seg ph-work",
        "seg ph-review",
    ]
    widths = [
        float(r.get("width") or 0)
        for r in union.iter(f"{SVG}rect")
        if r.get("class", "").startswith("seg")
    ]
    assert sum(widths) == pytest.approx(charts.BAR_WIDTH, abs=0.5) and len(set(widths)) == 1
    assert "4 units" in [t.text for t in union.iter(f"{SVG}text")]
    legend = [t.text for t in stages.find(f"{SVG}g[@class='legend']").iter(f"{SVG}text")]  # type: ignore[union-attr]
    assert legend[0] == "Accepted" and legend[-1] == "No plan yet"
    texts = [t.text for t in rates.iter(f"{SVG}text")]
    assert "Union 工会" in texts and "75% (3 of 4)" in texts and "25% (1 of 4)" in texts
    titles = [t.text for t in rates.iter(f"{SVG}title")]
    assert "Union Two — Submitted: 0% (0 of 2)" in titles


def test_chart_labels_fit_and_text_is_escaped() -> None:
    assert charts.fit("Union", 100) == "Union"
    assert charts.text_width("工会") == 2 * charts.FONT
    short = charts.fit("城市建设工会 (Construction Union)", 80)
    assert short.endswith("…") and charts.text_width(short) <= 80
    svg = charts.stacked_bars(
        [charts.StackedBar('<b>&"x"</b>', (charts.Segment("ph-none", "a<b", 3),), "3 units")],
        ident="test-chart",
        title="T & <t>",
        desc="D",
        legend=[("ph-none", "a<b")],
    )
    root = ET.fromstring(str(svg))
    assert root.findtext(f"{SVG}title") == "T & <t>"
    assert "<b>" not in str(svg)
    with pytest.raises(ValueError):
        charts.stacked_bars([], ident="bad id", title="", desc="", legend=[])
    with pytest.raises(ValueError):
        charts.rate_bars(
            [charts.RateGroup("g", (charts.Rate('x" onload="y', "r", 0.5, "50%"),))],
            ident="ok",
            title="",
            desc="",
        )


# -- CSV ------------------------------------------------------------------------------------


def read_csv(body: str) -> list[list[str]]:
    assert body.startswith("\ufeff")  # so that spreadsheets read UTF-8
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_unit_table_as_csv(world: dict[str, int], app: Flask) -> None:
    response = signed_in(app, "officer").get("/overview/export.csv?year=2027")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="planflow-overview-2027.csv"'
    )
    header, *rows = read_csv(text(response))
    assert header[:4] == ["Unit code", "Unit", "Group", "Plan"]
    by_code = {}
    for row in rows:
        by_code.setdefault(row[0], []).append(dict(zip(header, row, strict=True)))
    assert list(by_code) == ["union", "branch_a", "branch_b", "branch_e", "branch_f"]
    assert by_code["union"][0]["State"] == "Drafts no plans" and by_code["union"][0]["Plan"] == ""
    b = by_code["branch_b"][0]
    assert b["Plan"] == str(world["b"]) and b["Title"] == "Plan of branch_b"
    assert (b["State"], b["Stage"], b["Submitted"], b["Overdue"]) == (
        "Submitted",
        "In review",
        "yes",
        "yes",
    )
    assert b["Waiting for"] == "reviewer at Union 工会 escalated to Federation 总工会"
    assert b["Escalation level"] == "1" and b["Due"].startswith("2027-01-11")
    assert b["Group"] == "Branch B"
    assert [r["Stage"] for r in by_code["branch_a"]] == ["Accepted", "Approved, being carried out"]
    drill = signed_in(app, "fed_officer").get("/overview/export.csv?unit=union2")
    assert drill.headers["Content-Disposition"].endswith('-2027-union2.csv"')
    draft = next(r for r in read_csv(text(drill)) if r[0] == "branch_c")
    assert draft[3:5] == ["", ""]  # a draft's id and title stay with its unit


def test_csv_cells_cannot_start_a_formula(world: dict[str, int], app: Flask, pf: Planflow) -> None:
    add_people(
        pf,
        [("evil", '=HYPERLINK("http://x")', "union"), ("minus", "-2+3", "union")],
        [("drafter_x", "drafter", "evil"), ("chair_x", "submitter", "evil")],
    )
    plan_id = new_plan(pf, "evil", "drafter_x", title="@SUM(A1:A9)")
    pf.fire(plan_id, "submit", "chair_x")
    body = text(signed_in(app, "officer").get("/overview/export.csv"))
    rows = {r[0]: r for r in read_csv(body)}
    assert rows["evil"][1:3] == ['\'=HYPERLINK("http://x")'] * 2
    assert rows["evil"][4] == "'@SUM(A1:A9)"
    assert rows["minus"][1:3] == ["'-2+3"] * 2
    for row in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    # The page shows the same text as it is (HTML escapes it, no quote needed).
    page = text(signed_in(app, "officer").get("/overview/"))
    assert "=HYPERLINK(&#34;http://x&#34;)" in page or '=HYPERLINK("http://x")' in page


# -- cost -------------------------------------------------------------------------------------


def test_the_page_costs_the_same_queries_for_3_or_30_units(
    app: Flask, pf: Planflow, password_hash: str, count_statements: CountStatements
) -> None:
    officer = signed_in(app, "officer")  # the union, branch_a and branch_b: 3 units
    new_plan(pf, "branch_a", "drafter_a")
    pf.fire(new_plan(pf, "branch_b", "drafter_b"), "submit", "chair_b")

    def cost(path: str) -> int:
        assert officer.get(path).status_code == 200  # a changed tree is read once, first
        with count_statements(pf) as seen:
            response = officer.get(path)
        assert response.status_code == 200
        return len(seen)

    small = {path: cost(path) for path in ["/overview/", "/overview/export.csv"]}
    assert len(units(text(officer.get("/overview/")))) == 3
    codes = [f"branch_{n:02d}" for n in range(27)]
    add_people(
        pf,
        [(code, f"Branch {code}", "union") for code in codes],
        [(f"drafter_{code}", "drafter", code) for code in codes]
        + [(f"chair_{code}", "submitter", code) for code in codes],
    )
    for code in codes[::2]:
        plan_id = new_plan(pf, code, f"drafter_{code}")
        if code.endswith(("0", "4", "8")):
            pf.fire(plan_id, "submit", f"chair_{code}")
    large = {path: cost(path) for path in small}
    page = text(officer.get("/overview/"))
    assert len(units(page)) == 30 and summary(page)["All units"][:2] == ["29", "16 55%"]
    assert large == small
    assert small["/overview/"] <= 12, small
