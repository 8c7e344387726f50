"""The inspectors' area: the inspection calendar and the inspection form.

Plans of the ``org`` fixture: branch A and B under the union under the
federation, whose inspector inspects them (``nearest_above``). The clock
stands at Monday 4 January 2027, so an inspection scheduled now is due on
2 February 2027 at 08:00 UTC (29 days), and a rectification is due on
3 February (30 days). annual_plan's sheet has nine criteria; A2, B2 and E1
are mandatory; B1, B2, C1, D1, D2, E1, E2 have a target.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from databases import in_languages
from flask import Flask
from stored import CountStatements, stored_plan
from webui_support import AuthActions, Plans, WebClient, signed_in, text

from planflow.app import Planflow
from planflow.core.inspection.scoring import CriterionScore
from planflow.storage.evidence_files import EvidenceStore

#: Criterion codes in sheet order (the form's field index) and their points.
CODES = ("A1", "A2", "B1", "B2", "C1", "D1", "D2", "E1", "E2")
POINTS = (10, 10, 10, 10, 20, 10, 10, 10, 10)
WITH_TARGET = {2, 3, 4, 5, 6, 7, 8}


def scheduled(plans: Plans, unit: str = "branch_a", title: str = "Work plan 2027") -> int:
    plan_id = plans.under_review(unit, title=title)
    plans.fire(plan_id, ("approve", "reviewer"), ("schedule_inspection", "officer"))
    return plan_id


def sheet_data(version: int, op: str = "save", **scores: Any) -> dict[str, Any]:
    """The sheet form: ``A1=8`` sets a score, ``note_A1`` a note, ``measured_B1`` a value."""
    data: dict[str, Any] = {"expected_version": version, "op": op}
    for index, code in enumerate(CODES):
        data[f"score_{index}"] = scores.get(code, "")
        data[f"note_{index}"] = scores.get(f"note_{code}", "")
        if index in WITH_TARGET:
            data[f"measured_{index}"] = scores.get(f"measured_{code}", "")
    return data


def full(**changes: Any) -> dict[str, Any]:
    return {code: points for code, points in zip(CODES, POINTS, strict=True)} | changes


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


def error_of(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert match, f"no error for {field}"
    return match.group(1)


# -- the calendar ---------------------------------------------------------------------


def test_the_calendar_places_an_inspection_on_its_due_date_then_its_visit(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = scheduled(plans, title="Plan of A")
    auth.login("inspector")
    page = text(client.get("/inspections/2027/2"))
    assert "Inspection calendar: February 2027" in page
    days = section(page, "days-h")
    assert "Tuesday, February 2, 2027" in days
    assert f'href="/inspections/plan/{plan_id}"' in days
    assert "No visit planned" in days
    # The grid has it on the 2nd too, as a link.
    assert re.search(
        r'insp-daynum">2</span>\s*<ul class="plain">\s*<li class="insp-scheduled', page
    )
    version = plans.version(plan_id)
    response = client.post_form(
        f"/inspections/plan/{plan_id}/visit",
        {
            "visit_date": "2027-01-20",
            "op": "set",
            "expected_version": version,
            "back": "calendar",
            "month": "2027-02",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inspections/2027/2")
    assert "No inspections in this month." in text(client.get("/inspections/2027/2"))
    january = text(client.get("/inspections/"))
    assert "Inspection calendar: January 2027" in january
    assert "Wednesday, January 20, 2027" in section(january, "days-h")
    assert "Visit planned: Jan 20, 2027" in january
    assert stored_plan(pf, plan_id).version == version + 1


def test_a_plan_being_rectified_sits_on_its_rectification_due_date(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = scheduled(plans)
    inspector_id = pf.user_id("inspector")
    plans.fire(plan_id, ("inspect", "inspector"))
    scores = [CriterionScore(c, inspector_score=p) for c, p in zip(CODES, POINTS, strict=True)]
    scores[1] = CriterionScore("A2", inspector_score=4)  # a mandatory criterion failed
    pf.services.inspections.record_scores(plan_id, inspector_id, scores)
    pf.services.inspections.finish(plan_id, inspector_id)
    page = text(signed_in(app, "chair_a").get("/inspections/2027/2"))
    days = section(page, "days-h")
    assert "Wednesday, February 3, 2027" in days
    assert "Rectify by Feb 3, 2027" in days
    assert "Rectification required" in days


def test_month_navigation(client: WebClient, auth: AuthActions) -> None:
    auth.login("inspector")
    page = text(client.get("/inspections/"))
    assert 'href="/inspections/2026/12"' in page and 'href="/inspections/2027/2"' in page
    assert 'href="/inspections/2027/4"' in text(client.get("/inspections/2027/03"))
    last = text(client.get("/inspections/2100/12"))
    assert "Next month" not in last and 'href="/inspections/2100/11"' in last
    assert "Previous month" not in text(client.get("/inspections/2000/1"))


@pytest.mark.parametrize(
    "path",
    [
        "/inspections/2027/13",
        "/inspections/2027/0",
        "/inspections/1999/12",
        "/inspections/2101/1",
        "/inspections/99999999999999999999999/1",
        "/inspections/2027/-1",
        "/inspections/abcd/01",
        "/inspections/2027",
        "/inspections/2027/1/1",
    ],
)
def test_a_bad_month_is_a_404(client: WebClient, auth: AuthActions, path: str) -> None:
    auth.login("inspector")
    assert client.get(path).status_code == 404


def test_a_branch_sees_only_its_own_inspections(app: Flask, plans: Plans) -> None:
    scheduled(plans, "branch_a", title="Plan of A")
    scheduled(plans, "branch_b", title="Plan of B")
    for user, mine, other in [
        ("chair_a", "Plan of A", "Plan of B"),
        ("drafter_b", "Plan of B", "Plan of A"),
    ]:
        page = text(signed_in(app, user).get("/inspections/2027/2"))
        assert mine in page and other not in page
    both = text(signed_in(app, "inspector").get("/inspections/2027/2"))
    assert "Plan of A" in both and "Plan of B" in both


def test_the_calendar_needs_no_more_queries_for_more_inspections(
    app: Flask, plans: Plans, pf: Planflow, count_statements: CountStatements
) -> None:
    inspector = signed_in(app, "inspector")
    scheduled(plans, "branch_a")
    inspector.get("/inspections/2027/2")  # caches: definitions, organisation
    with count_statements(pf) as one:
        page = text(inspector.get("/inspections/2027/2"))
    assert page.count('class="card insp-entry') == 1
    for n in range(3):
        scheduled(plans, "branch_b" if n % 2 else "branch_a", title=f"Plan {n}")
    inspector.get("/inspections/2027/2")
    with count_statements(pf) as four:
        page = text(inspector.get("/inspections/2027/2"))
    assert page.count('class="card insp-entry') == 4
    assert len(four) == len(one)


def test_the_inspector_plans_visits_in_the_calendar(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    page = text(client.get("/inspections/2027/2"))
    assert f'id="visit-{plan_id}"' in page and 'min="2027-01-04"' in page
    # Someone who may see the plan but not inspect it gets no form.
    auth.logout()
    auth.login("reviewer")
    page = text(client.get("/inspections/2027/2"))
    assert "Work plan 2027" in page and f'id="visit-{plan_id}"' not in page


# -- the visit date -------------------------------------------------------------------


def test_setting_the_visit_date_is_audited(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    version = plans.version(plan_id)
    data = {"visit_date": "2027-01-14", "op": "set", "expected_version": version}
    response = client.post_form(f"/inspections/plan/{plan_id}/visit", data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/inspections/plan/{plan_id}#visit")
    page = text(client.get(f"/inspections/plan/{plan_id}"))
    assert "The visit is planned for Jan 14, 2027." in page
    assert "The visit is planned for Thursday, January 14, 2027." in page
    last = pf.audit_trail(plan_id)[-1]
    assert (last.action, last.comment, last.actor) == ("plan_visit", "2027-01-14", "inspector")
    assert last.detail["visit_date"] == "2027-01-14"
    # Removing it is a change on the trail too.
    data = {"visit_date": "", "op": "clear", "expected_version": version + 1}
    assert client.post_form(f"/inspections/plan/{plan_id}/visit", data).status_code == 302
    assert "No visit date is planned yet." in text(client.get(f"/inspections/plan/{plan_id}"))
    assert pf.audit_trail(plan_id)[-1].detail["previous"] == "2027-01-14"


BAD_DATE = (
    "This is not a date: choose a day in the date picker (without one, type it like 2027-03-31)."
)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2027-01-03", "Choose a day from Jan 4, 2027 to Jan 5, 2028."),
        ("2028-01-06", "Choose a day from Jan 4, 2027 to Jan 5, 2028."),
        ("2027-02-30", "This date does not exist."),
        ("14.1.2027", BAD_DATE),
        ("", "Choose the day of the visit."),
        ("2027-01-1\x00", BAD_DATE),
    ],
)
def test_a_bad_visit_date_is_refused_and_kept(
    client: WebClient, auth: AuthActions, plans: Plans, typed: str, message: str
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    version = plans.version(plan_id)
    data = {"visit_date": typed, "op": "set", "expected_version": version}
    response = client.post_form(f"/inspections/plan/{plan_id}/visit", data)
    assert response.status_code == 422
    page = text(response)
    assert error_of(page, "visit_date") == message
    if typed and "\x00" not in typed:
        assert f'value="{typed}"' in page
    assert plans.version(plan_id) == version


def test_only_the_inspector_plans_the_visit_and_a_stale_page_says_so(
    app: Flask, plans: Plans
) -> None:
    plan_id = scheduled(plans)
    version = plans.version(plan_id)
    data = {"visit_date": "2027-01-14", "op": "set", "expected_version": version}
    chair = signed_in(app, "chair_a")
    response = chair.post_form(f"/inspections/plan/{plan_id}/visit", data)
    assert response.status_code == 403
    assert "it needs the role of inspector" in text(response)
    inspector = signed_in(app, "inspector")
    plans.fire(plan_id, ("inspect", "inspector"))  # someone acted in between
    response = inspector.post_form(f"/inspections/plan/{plan_id}/visit", data)
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this plan" in page and 'value="2027-01-14"' not in page
    assert plans.version(plan_id) == version + 2  # the scores and "inspect"


# -- the sheet ---------------------------------------------------------------------------


def test_the_sheet_shows_criteria_and_the_self_assessment_beside_the_inputs(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = scheduled(plans)
    pf.inspections.record_self_assessment(
        plan_id,
        [CriterionScore("B1", self_score=9, self_note="asked 40 members")],
        actor="chair_a",
    )
    auth.login("inspector")
    page = text(client.get(f"/inspections/plan/{plan_id}"))
    assert "Workers&#39; home acceptance sheet" in page
    assert "A. Party, administration and union build the home together" in page
    assert "Union committee and groups established and duties clear" in page
    assert page.count("insp-mandatory") == 3
    assert "Target: satisfaction at least 90%" in page
    assert "Deductions: each 2% short of the target: minus 0.5" in page
    criterion = page[page.index('id="criterion-2"') : page.index('id="criterion-3"')]
    assert "asked 40 members" in criterion and "<dd>9</dd>" in criterion
    assert 'name="score_2"' in criterion and 'name="measured_2"' in criterion
    assert 'name="measured_0"' not in page  # A1 has no target
    assert 'value="start"' in page and 'value="finish"' not in page
    # The optional script that keeps the totals live finds its hooks.
    assert '<script src="/static/inspections.js" defer></script>' in page
    assert 'data-insp-cat="B" data-insp-max="10"' in criterion
    assert 'data-insp-total="B" data-insp-max="20"' in page and 'data-insp-total="*"' in page


def test_saving_scores_keeps_them_and_totals_them(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    data = sheet_data(
        plans.version(plan_id),
        A1="8",
        A2="10",
        B1="7,5",
        measured_B1="86",
        note_A1="one meeting minuted",
    )
    response = client.post_form(f"/inspections/plan/{plan_id}", data)
    assert response.status_code == 302, text(response)
    saved = {s.code: s for s in pf.inspections.current(plan_id).scores}  # type: ignore[union-attr]
    assert (saved["A1"].inspector_score, saved["A1"].inspector_note) == (8, "one meeting minuted")
    assert (saved["B1"].inspector_score, saved["B1"].measured) == (7.5, 86)
    page = text(client.get(f"/inspections/plan/{plan_id}"))
    assert 'name="score_0" type="text" value="8"' in page
    assert 'value="7.5"' in page and 'value="86"' in page
    assert "Self-assessment 0 · inspector 18 · of 20" in page
    totals = section(page, "outcome")
    assert '<td data-insp-total="*">25.5</td>' in totals
    assert "Not passed" in totals  # mandatory B2 and E1 unscored
    assert "6 criteria are not scored yet." in totals
    assert "target missed: satisfaction at least 90%, measured 86" in totals
    # Saving the same again changes nothing and writes nothing.
    version = plans.version(plan_id)
    response = client.post_form(
        f"/inspections/plan/{plan_id}", data | {"expected_version": version}
    )
    assert response.status_code == 302
    assert plans.version(plan_id) == version
    assert "Nothing had changed." in text(client.get(f"/inspections/plan/{plan_id}"))


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"A1": "12"}, "score_0", "This criterion has 10 points at most."),
        ({"C1": "9" * 40}, "score_4", "This criterion has 20 points at most."),
        ({"A1": "-1"}, "score_0", "The score cannot be below 0."),
        ({"A1": "eight"}, "score_0", "Give a number, e.g. 7.5."),
        ({"A1": "NaN"}, "score_0", "Give a number, e.g. 7.5."),
        ({"A1": "1e309"}, "score_0", "Give a number, e.g. 7.5."),
        ({"measured_B1": "lots"}, "measured_2", "Give a number, e.g. 7.5."),
        (
            {"note_A1": "bad\x00note"},
            "note_0",
            "This text contains a control character; remove it.",
        ),
        ({"note_A1": "x" * 2001}, "note_0", "At most 2000 characters, please."),
    ],
)
def test_invalid_scores_are_shown_by_their_criterion_and_kept(
    client: WebClient,
    auth: AuthActions,
    plans: Plans,
    pf: Planflow,
    typed: dict[str, str],
    field: str,
    message: str,
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    version = plans.version(plan_id)
    data = sheet_data(version, **({"A2": "9"} | typed))
    response = client.post_form(f"/inspections/plan/{plan_id}", data)
    assert response.status_code == 422
    page = text(response)
    assert error_of(page, field) == message
    assert 'name="score_1" type="text" value="9"' in page  # the rest is kept
    if "\x00" not in str(typed) and len(str(typed)) < 100:
        assert f'value="{next(iter(typed.values()))}"' in page or "note" in field
    assert plans.version(plan_id) == version
    assert pf.inspections.current(plan_id) is None


def test_start_then_finish_accepts_with_a_grade(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    data = sheet_data(plans.version(plan_id), "start", A1="10")
    assert client.post_form(f"/inspections/plan/{plan_id}", data).status_code == 302
    assert plans.state(plan_id) == "inspected"
    page = text(client.get(f"/inspections/plan/{plan_id}"))
    assert "The inspection has started." in page and 'value="finish"' in page
    assert 'name="score_0" type="text" value="10"' in page
    data = sheet_data(plans.version(plan_id), "finish", **full(C1="5"))
    response = client.post_form(f"/inspections/plan/{plan_id}", data | {"comment": "Well done."})
    assert response.status_code == 302 and response.headers["Location"].endswith("#outcome")
    assert plans.state(plan_id) == "accepted"
    assert stored_plan(pf, plan_id).grade == "advanced"
    assert pf.audit_trail(plan_id)[-1].comment == "Well done."
    page = text(client.get(f"/inspections/plan/{plan_id}"))
    assert "Inspection finished: accepted with the grade Advanced." in page
    outcome = section(page, "outcome")
    assert (
        "Outcome of round 1" in outcome and "Advanced" in outcome and "85 of 100 points" in outcome
    )
    assert 'name="score_0"' not in page  # a finished round is read only


def test_finishing_with_gaps_marks_the_unscored_criteria(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = scheduled(plans)
    plans.fire(plan_id, ("inspect", "inspector"))
    auth.login("inspector")
    data = sheet_data(plans.version(plan_id), "finish", **full(E2=""))
    response = client.post_form(f"/inspections/plan/{plan_id}", data)
    assert response.status_code == 422
    page = text(response)
    assert "Score every criterion before you finish the inspection." in page
    assert error_of(page, "score_8") == "Score this criterion before you finish."
    # What was typed was saved, and the next version is on the page.
    assert plans.state(plan_id) == "inspected"
    assert f'name="expected_version" value="{plans.version(plan_id)}"' in page


def test_rectification_then_a_second_round(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = scheduled(plans)
    plans.fire(plan_id, ("inspect", "inspector"))
    auth.login("inspector")
    scores = full(B2="10", measured_B2="80", E2="6", note_E2="few activists")
    data = sheet_data(plans.version(plan_id), "finish", **scores)
    response = client.post_form(f"/inspections/plan/{plan_id}", data)
    assert response.status_code == 302, text(response)
    assert plans.state(plan_id) == "rectification_required"
    page = text(client.get(f"/inspections/plan/{plan_id}"))
    assert "Inspection finished: the unit must rectify by Feb 3, 2027." in page
    outcome = section(page, "outcome")
    assert "Not passed" in outcome and "Mandatory criteria not met: B2" in outcome
    assert "To rectify — by Feb 3, 2027" in outcome
    assert "target missed: contracts signed at least 95%, measured 80" in outcome
    assert "6 of 10 points; few activists" in outcome
    assert pf.audit_trail(plan_id)[-1].comment.startswith("Rectify by 2027-02-03")  # type: ignore[union-attr]
    # The unit rectifies; the plan awaits its second inspection.
    plans.fire(plan_id, ("rectified", "chair_a"))
    page = text(client.get(f"/inspections/plan/{plan_id}"))
    assert "round 2" in page
    assert 'name="score_0" type="text" value=""' in page
    earlier = section(page, "rounds-h")
    assert "Round 1" in earlier and "Not passed" in earlier and "Inspector" in earlier
    assert "Scores of round 1" in earlier
    calendar = text(client.get("/inspections/2027/2"))
    assert "round 2" in calendar
    data = sheet_data(plans.version(plan_id), "start", **full())
    assert client.post_form(f"/inspections/plan/{plan_id}", data).status_code == 302
    data = sheet_data(plans.version(plan_id), "finish", **full())
    assert client.post_form(f"/inspections/plan/{plan_id}", data).status_code == 302
    assert plans.state(plan_id) == "accepted"
    # Having failed this year, the unit may not rise above the lowest grade.
    assert stored_plan(pf, plan_id).grade == "qualified"
    page = text(signed_in(app, "chair_a").get(f"/inspections/plan/{plan_id}"))
    assert "may not rise above Qualified" in page


@pytest.mark.parametrize("user", ["chair_a", "reviewer", "officer"])
def test_others_who_see_the_plan_get_a_read_only_sheet(
    app: Flask, plans: Plans, pf: Planflow, user: str
) -> None:
    plan_id = scheduled(plans)
    pf.inspections.record_scores(
        plan_id,
        [CriterionScore("A1", inspector_score=7)],
        actor="inspector",
    )
    other = signed_in(app, user)
    page = text(other.get(f"/inspections/plan/{plan_id}"))
    assert "only the inspector of this plan can record scores" in page
    assert 'name="score_0"' not in page and 'id="visit_date"' not in page
    assert "<dd>7</dd>" in page
    version = plans.version(plan_id)
    for op in ("save", "start", "finish"):
        response = other.post_form(f"/inspections/plan/{plan_id}", sheet_data(version, op, A1="1"))
        assert response.status_code == 403
        assert "it needs the role of inspector" in text(response)
    assert plans.version(plan_id) == version


def test_a_stale_sheet_says_so_and_keeps_what_was_typed(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    version = plans.version(plan_id)
    pf.inspections.record_scores(
        plan_id,
        [CriterionScore("A1", inspector_score=3)],
        actor="inspector",
    )
    response = client.post_form(
        f"/inspections/plan/{plan_id}", sheet_data(version, A1="9", note_A1="kept")
    )
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this plan" in page
    assert 'name="score_0" type="text" value="9"' in page and "kept</textarea>" in page
    assert "Saved now: 3" in page
    assert f'name="expected_version" value="{version + 1}"' in page


def test_a_foreign_or_missing_plan_is_a_404_on_every_route(app: Flask, plans: Plans) -> None:
    plan_id = scheduled(plans, "branch_a")
    draft = plans.create("branch_a")  # never submitted: only branch A sees it
    data = {"expected_version": 1, "op": "set", "visit_date": "2027-01-20"}
    cases = [
        ("drafter_b", plan_id),
        ("chair_b", plan_id),
        ("inspector", draft),
        ("inspector", 999_999),
    ]
    for user, target in cases:
        other = signed_in(app, user)
        assert other.get(f"/inspections/plan/{target}").status_code == 404
        assert (
            other.post_form(f"/inspections/plan/{target}", data | {"op": "save"}).status_code == 404
        )
        assert other.post_form(f"/inspections/plan/{target}/visit", data).status_code == 404
    inspector = signed_in(app, "inspector")
    for path in ["/inspections/plan/0", "/inspections/plan/99999999999", "/inspections/plan/x"]:
        assert inspector.get(path).status_code == 404


def test_posts_need_the_csrf_token(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    version = plans.version(plan_id)
    for path, data in [
        (f"/inspections/plan/{plan_id}", sheet_data(version, A1="5")),
        (
            f"/inspections/plan/{plan_id}/visit",
            {"visit_date": "2027-01-20", "op": "set", "expected_version": version},
        ),
    ]:
        response = client.post_form(path, data, csrf=False)
        assert response.status_code == 400
        assert "This form has expired" in text(response)
    assert plans.version(plan_id) == version


@pytest.mark.parametrize("value", ["", "\x00", "9" * 40, "-1", "NaN", "1e309", "x" * 5000, "ü漢字"])
def test_no_input_breaks_the_inspection_pages(
    client: WebClient, auth: AuthActions, plans: Plans, value: str
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    token = client.csrf_token()
    names = ["expected_version", "op", "comment", "visit_date", "back", "month"]
    names += [f"{kind}_{i}" for i in range(12) for kind in ("score", "measured", "note")]
    for path in [f"/inspections/plan/{plan_id}", f"/inspections/plan/{plan_id}/visit"]:
        for data in ({n: value for n in names}, {"op": value}, {}):
            response = client.post(path, data=data | {"csrf_token": token})
            assert response.status_code < 500, (path, response.status_code)
            assert response.status_code != 302
    assert client.get("/inspections/", query_string={"month": value}).status_code == 200


def test_progress_reports_and_evidence_are_shown_beside_the_sheet(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow, tmp_path: Path
) -> None:
    pf.execution.store = EvidenceStore(tmp_path / "evidence")
    plan_id = scheduled(plans)
    drafter = pf.user_id("drafter_a")
    pf.services.execution.report_progress(
        plan_id, drafter, "i1", "done", "Congress held in March", 42
    )
    pf.services.execution.attach_evidence(
        plan_id, drafter, "i1", "minutes.pdf", "application/pdf", b"%PDF-1.4 " + b"x" * (3072 - 9)
    )
    auth.login("inspector")
    work = section(text(client.get(f"/inspections/plan/{plan_id}")), "work-h")
    assert "Item number 1" in work and "Done" in work and "measured 42" in work
    assert "Congress held in March" in work
    assert "minutes.pdf</a> <small>(3.0 KB)</small>" in work
    [link] = re.findall(r'href="(/plans/\d+/evidence/\d+)"', work)
    download = client.get(link)
    try:
        assert download.status_code == 200 and download.data.startswith(b"%PDF-1.4")
    finally:
        download.close()


def test_the_pages_in_chinese_and_korean(app: Flask, plans: Plans) -> None:
    plan_id = scheduled(plans)
    inspector = signed_in(app, "inspector")
    inspector.post_form("/auth/language", {"language": "zh"})
    page = text(inspector.get("/inspections/2027/2"))
    assert "检查日历" in page and "2027年2月" in page
    page = text(inspector.get(f"/inspections/plan/{plan_id}"))
    assert "职工之家验收评分表" in page and "单位自评" in page
    inspector.post_form("/auth/language", {"language": "ko"})
    assert "점검 일정표" in text(inspector.get("/inspections/"))
    assert "근로자의 집 점검표" in text(inspector.get(f"/inspections/plan/{plan_id}"))


def test_a_step_the_plan_is_not_at_is_refused(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = scheduled(plans)
    auth.login("inspector")
    version = plans.version(plan_id)
    response = client.post_form(
        f"/inspections/plan/{plan_id}", sheet_data(version, "finish", **full())
    )
    assert response.status_code == 422
    assert "not possible while the plan is in its current state" in text(response)
    assert plans.version(plan_id) == version


def test_a_plan_without_an_inspection_shows_an_empty_read_only_sheet(
    app: Flask, plans: Plans
) -> None:
    draft = plans.create("branch_a", title="Still a draft")
    page = text(signed_in(app, "drafter_a").get(f"/inspections/plan/{draft}"))
    assert "No inspection is waiting on this plan now." in page
    assert 'name="score_0"' not in page and 'id="totals"' not in page


#: The failed mandatory criterion A2 as the sheet names it, and the refusal's opening.
A2_WORDS = {
    "en": (
        "The inspection did not pass. Criteria to rectify: A2 Union committee and groups "
        "established and duties clear."
    ),
    "zh": "检查未通过。需要整改的项目：A2 工会组织健全、职责明确。",
    "ko": "점검을 통과하지 못했습니다. 시정할 항목: A2 노조 조직 완비 및 직무 명확.",
}


# The wording is the page's; its rows go through both databases once (in_languages).
@in_languages("language", ["en", "zh", "ko"])
def test_accepting_a_failed_sheet_names_the_criteria_in_the_readers_language(
    app: Flask, plans: Plans, pf: Planflow, language: str
) -> None:
    plan_id = scheduled(plans)
    scores = [
        CriterionScore(code, inspector_score=0.0 if code == "A2" else float(points))
        for code, points in zip(CODES, POINTS, strict=True)
    ]
    pf.inspections.record_scores(plan_id, scores, actor="inspector")
    pf.fire(plan_id, "inspect", "inspector")
    inspector = signed_in(app, "inspector")
    inspector.post_form("/auth/language", {"language": language})
    # Where the plan's actions are listed, accept says what blocks it.
    assert A2_WORDS[language] in text(inspector.get(f"/plans/{plan_id}"))
    refused = inspector.post_form(
        f"/plans/{plan_id}/act",
        {"action": "accept", "expected_version": str(plans.version(plan_id))},
    )
    assert refused.status_code == 422
    assert A2_WORDS[language] in text(refused)
    assert plans.state(plan_id) == "inspected"
