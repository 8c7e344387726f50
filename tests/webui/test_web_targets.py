"""An item's targets where the unit reports progress and where the inspector scores.

Both pages show each target of an item (metric, comparison, value, unit) in
the reader's language, the value the progress report records for it, whether
it is met and how much of it is reached, and the plan's count of targets
met, missed and without a value; the inspection .docx lists them too; on
SQLite and PostgreSQL, in en/zh/ko.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from flask import Flask
from webui_support import Plans, signed_in, text

from planflow.app import Planflow
from planflow.core.content.model import PlanContent


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANFLOW_EVIDENCE_DIR", str(tmp_path / "evidence"))


def approved(plans: Plans, pf: Planflow) -> int:
    """Item h: three targets, 90 for the first; item d: one, 100 reported; item c: none."""
    plan_id = plans.create("branch_a", items=0)
    homes = [
        {"metric": "qualified", "op": ">=", "value": 95, "unit": "%"},
        {"metric": "advanced", "op": ">", "value": 60, "unit": "%"},
        {"metric": "complaints", "op": "<=", "value": 5, "unit": ""},
    ]
    dues = [{"metric": "dues", "op": ">=", "value": 100, "unit": "%"}]
    content = (
        PlanContent(2027)
        .add_section("Homes", key="s1")
        .add_item("s1", "Build workers' homes", due=9, key="h", targets=homes)
        .add_item("s1", "Collect dues", due=12, key="d", targets=dues)
        .add_item("s1", "Hold the congress", due=4, key="c")
    )
    pf.content.set_content(plan_id, content, actor="drafter_a", expected_version=None)
    review = [("submit", "chair_a"), ("start_review", "reviewer"), ("approve", "reviewer")]
    plans.fire(plan_id, *review)
    pf.execution.report_progress(plan_id, "h", "in_progress", "", actor="drafter_a", measured=90)
    pf.execution.report_progress(plan_id, "d", "done", "", actor="drafter_a", measured=100)
    return plan_id


def _item(html: str, key: str) -> str:
    start = html.index(f'id="item-{key}"')
    return html[start : html.index("</article>", start)]


def _states(html: str) -> list[str]:
    return re.findall(r'data-target-state="(\w+)"', html)


def test_the_progress_board_shows_how_far_each_target_is_met(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = approved(plans, pf)
    drafter = signed_in(app, "drafter_a")
    page = text(drafter.get(f"/plans/{plan_id}/progress"))
    homes = _item(page, "h")
    assert _states(homes) == ["missed", "none", "none"]
    assert "qualified at least 95%" in homes and "measured 90, 94% of the target" in homes
    assert "advanced more than 60%" in homes and "complaints at most 5" in homes
    assert homes.count("no measured value yet") == 2 and "Not met" in homes
    dues = _item(page, "d")
    assert _states(dues) == ["met"] and "100% of the target" in dues and "Met" in dues
    assert _states(_item(page, "c")) == []
    assert 'data-target-tally="1/4"' in page
    assert "1 target of 4 met · 1 not met · 2 without a measured value" in page
    drafter.post_form("/auth/language", {"language": "zh"})
    page = text(drafter.get(f"/plans/{plan_id}/progress"))
    assert "qualified不少于 95%" in page and "实测 90，达到目标的 94%" in page
    assert "未达标" in page and "尚无实测值" in page and "4 项目标中已达标 1 项" in page
    drafter.post_form("/auth/language", {"language": "ko"})
    page = text(drafter.get(f"/plans/{plan_id}/progress"))
    assert "qualified 95% 이상" in page and "측정값 90, 목표의 94%" in page
    assert "미충족" in page and "측정값 없음" in page and "목표 4개 중 1개 충족" in page


def test_the_inspector_sees_the_plans_targets_beside_the_sheet(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = approved(plans, pf)
    plans.fire(plan_id, ("schedule_inspection", "officer"))
    inspector = signed_in(app, "inspector")
    page = text(inspector.get(f"/inspections/plan/{plan_id}"))
    head = page[page.index('class="insp-plan-targets"') : page.index('id="cat-1-h"')]
    assert 'href="#work"' in head and 'data-target-tally="1/4"' in head
    work = page[page.index('id="work-h"') :]
    assert _states(work) == ["missed", "none", "none", "met"]
    assert "measured 90, 94% of the target" in work and "dues at least 100%" in work
    inspector.post_form("/auth/language", {"language": "ko"})
    page = text(inspector.get(f"/inspections/plan/{plan_id}"))
    assert "계획의 목표" in page and "목표 4개 중 1개 충족" in page


def test_a_plan_without_targets_shows_no_count(app: Flask, plans: Plans) -> None:
    plan_id = plans.under_review("branch_a")
    plans.fire(plan_id, ("approve", "reviewer"), ("schedule_inspection", "officer"))
    page = text(signed_in(app, "inspector").get(f"/inspections/plan/{plan_id}"))
    assert "data-target-tally" not in page and "insp-plan-targets" not in page


def test_the_inspection_docx_lists_the_plans_targets(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = approved(plans, pf)
    plans.fire(plan_id, ("schedule_inspection", "officer"), ("inspect", "inspector"))
    reader = signed_in(app, "chair_a")
    reader.post_form("/auth/language", {"language": "zh"})
    data = reader.get(f"/plans/{plan_id}/inspection.docx").get_data()
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    assert "计划的目标" in texts and "4 项目标中已达标 1 项" in texts
    rows = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    at = rows.index(["事项", "目标", "实测值", "是否达标"])
    assert rows[at + 1 : at + 5] == [
        ["1.1", "qualified不少于 95%", "90 (达到目标的 94%)", "未达标"],
        ["1.1", "advanced超过 60%", "", "尚无实测值"],
        ["1.1", "complaints不超过 5", "", "尚无实测值"],
        ["1.2", "dues不少于 100%", "100 (达到目标的 100%)", "已达标"],
    ]


def test_the_unit_reports_a_value_for_each_target_on_the_board(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = approved(plans, pf)
    drafter = signed_in(app, "drafter_a")
    page = text(drafter.get(f"/plans/{plan_id}/progress"))
    homes = _item(page, "h")
    names = re.findall(r'name="(item-h-measured[_0-9]*)"', homes)
    assert names == ["item-h-measured", "item-h-measured_2", "item-h-measured_3"]
    assert 'value="90"' in homes and "Measured value (target 2)" in homes
    form = {
        "item-h-status": "in_progress",
        "item-h-report": "",
        "item-h-expected_version": str(plans.version(plan_id)),
        "item-h-measured": "96",
        "item-h-measured_2": "",
        "item-h-measured_3": "7",
    }
    response = drafter.post_form(f"/plans/{plan_id}/progress/h", form)
    assert response.status_code == 302
    [report] = [p for p in pf.execution.progress(plan_id) if p.item_key == "h"]
    assert report.measured_values == (96.0, None, 7.0)
    homes = _item(text(drafter.get(f"/plans/{plan_id}/progress")), "h")
    assert _states(homes) == ["met", "none", "missed"]
    bad = {
        **form,
        "item-h-measured_3": "seven",
        "item-h-expected_version": str(plans.version(plan_id)),
    }
    response = drafter.post_form(f"/plans/{plan_id}/progress/h", bad)
    assert response.status_code == 422 and 'value="seven"' in text(response)
    assert pf.execution.progress(plan_id)[0].measured_values != ()
