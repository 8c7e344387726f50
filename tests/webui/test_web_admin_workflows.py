"""The workflow definitions pages: the list, and each version's diagram and tables."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask
from markupsafe import escape
from test_web_admin_support import Admins
from webui_support import Plans, signed_in, text

from planflow.app import Planflow

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(page: str) -> ET.Element:
    start, end = page.index("<svg"), page.index("</svg>") + len("</svg>")
    return ET.fromstring(page[start:end])


def test_the_list_names_every_version_with_its_plans(
    app: Flask, admins: Admins, plans: Plans
) -> None:
    plans.create()
    plans.create("branch_b")
    plans.create(workflow="committee_plan")
    with admins.pf.session() as s:
        admins.pf.org_repo.add_unit(s, "branch_c2", "Branch C2", "union2")
    page = text(signed_in(app, "fed_admin").get("/admin/workflows/"))
    rows = re.findall(r"<tr>\s*<td>(.*?)</tr>", page, re.S)
    assert len(rows) == 2
    annual, committee = rows
    assert "annual_plan" in annual and "Annual work plan" in annual
    assert re.search(r"<td>11</td>\s*<td>14</td>\s*<td>2</td>", annual)
    assert "committee_plan" in committee and re.search(r"<td>1</td>\s*$", committee.strip())
    # Another union's admin counts only its own units' plans.
    other = text(signed_in(app, "union2_admin").get("/admin/workflows/"))
    assert re.search(r"<td>11</td>\s*<td>14</td>\s*<td>0</td>", other)


@pytest.mark.parametrize("name", ["annual_plan", "committee_plan"])
@pytest.mark.parametrize("lang", ["en", "zh", "ko"])
def test_each_definition_is_drawn_and_listed(
    app: Flask, admins: Admins, pf: Planflow, name: str, lang: str
) -> None:
    spec = pf.registry.latest(name)
    client = signed_in(app, "union_admin")
    if lang != "en":
        client.post_form("/auth/language", {"language": lang})
    response = client.get(f"/admin/workflows/{name}/{spec.version}")
    assert response.status_code == 200
    page = text(response)
    assert 'href="/static/admin.css"' in page
    assert " style=" not in page and "<style" not in page and "<script" not in page
    svg = svg_of(page)
    assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
    states = {g.get("data-state"): g for g in svg.iter(f"{SVG}g") if g.get("data-state")}
    assert set(states) == set(spec.state_names)
    for state in spec.states:
        group = states[state.name]
        assert group.find(f"{SVG}title") is not None
        assert len(group.findall(f"{SVG}rect")) == (2 if state.final else 1)
        assert "dg-initial" in (group.get("class") or "") or state.name != spec.initial
        assert (group.findtext(f"{SVG}text") or "") == state.label.get(lang)
    edges = [
        (g.get("data-trigger"), g.get("data-from"), g.get("data-to"))
        for g in svg.iter(f"{SVG}g")
        if g.get("data-trigger")
    ]
    expected = [(t.trigger, src, t.dest) for t in spec.transitions for src in t.sources]
    assert sorted(edges) == sorted(expected)
    for g in svg.iter(f"{SVG}g"):
        if g.get("data-trigger"):
            path = g.find(f"{SVG}path")
            assert path is not None and path.get("d", "").startswith("M")
            assert g.find(f"{SVG}title") is not None
    # The tables below.
    for state in spec.states:
        assert f"<code>{state.name}</code>" in page
        assert state.label.get("zh") in page and state.label.get("ko") in page
    for t in spec.transitions:
        assert f"<code>{t.trigger}</code>" in page
    assert 'id="timers-h"' in page and 'id="sheet-h"' in page
    assert spec.inspection is not None
    assert str(escape(spec.inspection.title.get(lang))) in page


def test_the_details_read_well(app: Flask, admins: Admins) -> None:
    page = text(signed_in(app, "fed_admin").get("/admin/workflows/annual_plan/5"))
    assert "reviewer at the unit above" in page
    assert "5 working days" in page
    assert "inspector at the nearest unit above that has one" in page
    assert "the system (on a timer)" in page
    assert "Returned (review overdue), 30 days after the due time" in page
    assert "every year on April 1 at 08:00" in page
    assert (
        "A comment giving the reason (<code>comment_required</code>)<br>"
        "Not by the person who submitted the plan (<code>not_self</code>)"
    ) in page
    committee = text(signed_in(app, "fed_admin").get("/admin/workflows/committee_plan/5"))
    assert "2 holders of the role must approve" in committee
    assert "committee member at the unit above" in committee


GUARD_LABELS = {
    "en": ["The plan has items", "Every item has a due date or month", "The inspection passed"],
    "zh": ["计划中有事项", "每个事项都有完成日期或月份", "检查已通过"],
    "ko": ["계획에 항목이 있음", "모든 항목에 기한(날짜 또는 월)이 있음", "점검을 통과함"],
}


@pytest.mark.parametrize("lang", ["en", "zh", "ko"])
def test_guards_are_named_in_words(app: Flask, admins: Admins, lang: str) -> None:
    client = signed_in(app, "fed_admin")
    if lang != "en":
        client.post_form("/auth/language", {"language": lang})
    page = text(client.get("/admin/workflows/committee_plan/5"))
    conditions = re.findall(r"<td class=\"conditions\">(.*?)</td>", page, re.S)
    said = " ".join(conditions)
    for label in GUARD_LABELS[lang]:
        assert str(escape(label)) in said
    # The name stays beside its label: it is what a definition's YAML says.
    assert "<code>inspection_passed</code>" in said
    assert not re.search(r"(^|<br>)\s*<code>", said), "a guard shown by its name alone"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/workflows/annual_plan/6",
        "/admin/workflows/no_such/1",
        "/admin/workflows/annual_plan/0",
        "/admin/workflows/annual_plan/99999999999",
        "/admin/workflows/ANNUAL/1",
        "/admin/workflows/annual_plan/x",
        "/admin/workflows/%00/1",
    ],
)
def test_unknown_definitions_are_404(app: Flask, admins: Admins, url: str) -> None:
    assert signed_in(app, "fed_admin").get(url).status_code == 404


def test_the_pages_work_with_broken_files_in_the_folder(
    app: Flask, admins: Admins, plans: Plans, pf: Planflow, tmp_path: Path
) -> None:
    plans.create()
    folder = tmp_path / "workflows"
    folder.mkdir()
    for source in WORKFLOWS.glob("*.yaml"):
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "deep.yaml").write_text("title: " + "[" * 5000 + "]" * 5000 + "\n")
    (folder / "nul.yaml").write_text("name: a\x00b\n")
    (tmp_path / "secret.yaml").write_text("SECRET-7f3a: not for the page\n")
    (folder / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    pf.registry.directory = folder
    pf.registry.reload()
    client = signed_in(app, "fed_admin")
    response = client.get("/admin/workflows/")
    assert response.status_code == 200
    page = text(response)
    assert len(re.findall(r"<tr>\s*<td>(.*?)</tr>", page, re.S)) == 2
    assert "were left out: deep.yaml, link.yaml, nul.yaml." in page
    assert "SECRET" not in page
    assert client.get("/admin/workflows/annual_plan/5").status_code == 200
    assert client.get("/plans/").status_code == 200
    assert signed_in(app, "drafter_a").get("/plans/new").status_code == 200
    client.post_form("/auth/language", {"language": "zh"})
    assert "已被略过：deep.yaml, link.yaml, nul.yaml。" in text(client.get("/admin/workflows/"))
