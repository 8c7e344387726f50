"""The unit's self-assessment page: the scoring sheet, its saving and its totals.

Every test runs on SQLite and PostgreSQL (``app``/``pf``) with CSRF on.
Covered: the sheet as the definition has it (categories, points, mandatory
criteria, targets); a save through ``record_self_assessment`` (audited,
version checked) and the library's running totals shown after it; invalid
values marked at their criteria with everything typed kept and nothing
saved; read-only for others and in other states; stale pages; CSRF; 404
for plans the user may not see; garbage input.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from webui_support import AuthActions, Plans, WebClient, signed_in, text
from werkzeug.test import TestResponse

from planflow.app import Planflow
from planflow.core.inspection.scoring import CriterionScore

#: The annual_plan sheet, in order: (code, points, has a target).
SHEET = [
    ("A1", 10, False),
    ("A2", 10, False),
    ("B1", 10, True),
    ("B2", 10, True),
    ("C1", 20, True),
    ("D1", 10, True),
    ("D2", 10, True),
    ("E1", 10, True),
    ("E2", 10, True),
]
NASTY = ["", " ", "\x00", "a\x00b", "9" * 40, "-1", "1e309", "NaN", "x" * 5000, "ü漢字한국어"]


def plan_in(plans: Plans, state: str = "inspection_scheduled", unit: str = "branch_a") -> int:
    chair = "chair_a" if unit == "branch_a" else "chair_b"
    steps = [
        ("submit", chair),
        ("start_review", "reviewer"),
        ("approve", "reviewer"),
        ("schedule_inspection", "officer"),
        ("inspect", "inspector"),
    ]
    plan_id = plans.create(unit)
    for step in steps:
        if plans.state(plan_id) == state:
            break
        plans.fire(plan_id, step)
    assert plans.state(plan_id) == state
    return plan_id


def fields(scores: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The form as a browser sends it: every row, blank unless given (``score_0``, ...)."""
    data: dict[str, str] = {}
    for n, (_code, _points, target) in enumerate(SHEET):
        data[f"score_{n}"] = ""
        data[f"note_{n}"] = ""
        if target:
            data[f"measured_{n}"] = ""
    data.update(scores or {})
    data.update(extra)
    return data


def save(client: WebClient, plan_id: int, data: dict[str, Any], **kwargs: Any) -> TestResponse:
    return client.post_form(f"/plans/{plan_id}/self-assessment", data, **kwargs)


def row(html: str, n: int) -> str:
    start = html.index(f'id="criterion-{n}"')
    return html[start : html.index("</fieldset>", start)]


def self_column(pf: Planflow, plan_id: int) -> list[tuple[str, float | None, str]]:
    current = pf.inspections.current(plan_id)
    if current is None:
        return []
    return [(s.code, s.self_score, s.self_note) for s in current.scores]


def test_the_sheet_is_shown_as_the_definition_has_it(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plan_in(plans)
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}/self-assessment"))
    assert "Workers&#39; home acceptance sheet" in page and "Round 1" in page
    assert "A. Party, administration and union build the home together" in page
    assert page.count("at most 20 points") == 5
    a2 = row(page, 1)
    assert "A2" in a2 and "Union committee and groups established" in a2
    assert "10 points" in a2 and "Mandatory" in a2
    assert 'class="sa-criterion sa-mandatory" id="criterion-1"' in page
    assert "no union group established: 0 points" in a2  # the deduction rule
    b1 = row(page, 2)
    assert "satisfaction at least 90%" in b1 and 'name="measured_2"' in b1
    assert 'name="measured_0"' not in row(page, 0)  # no target, no measured value
    assert "Mandatory" not in row(page, 0)
    assert f'name="expected_version" value="{plans.version(plan_id)}"' in page
    assert "0 of 9 criteria scored" in page


def test_a_self_assessment_is_saved_and_totalled(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans)
    auth.login("chair_a")
    version = plans.version(plan_id)
    scores = {
        "score_0": "8",
        "score_1": "10",
        "score_2": "9.5",
        "measured_2": "92",
        "score_3": "10",
        "score_4": "15",
        "score_5": "10",
        "score_6": "7",
        "measured_6": "80",
        "score_7": "10",
        "note_7": "All dues in 会费\r\nby December",
        # E2 left blank: not given yet
    }
    response = save(client, plan_id, fields(scores, expected_version=str(version)))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/plans/{plan_id}/self-assessment#totals")
    current = pf.inspections.current(plan_id)
    assert current is not None
    by_code = {s.code: s for s in current.scores}
    assert by_code["A1"] == CriterionScore("A1", 8.0, "")
    assert by_code["E1"].self_note == "All dues in 会费\nby December"
    assert by_code["E2"].self_score is None
    assert dict(current.self_measured) == {"B1": 92.0, "D2": 80.0}
    assert plans.version(plan_id) == version + 1
    assert pf.audit_trail(plan_id)[-1].action == "self_assessment"

    page = text(client.get(f"/plans/{plan_id}/self-assessment"))
    assert "Your self-assessment was saved." in page
    totals = page[page.index('id="totals"') :]
    cells = re.findall(
        r"<th scope=\"row\">([A-E])\. [^<]*</th><td>([^<]*)</td><td>([^<]*)</td>", totals
    )
    assert cells == [
        ("A", "18", "20"),
        ("B", "19.5", "20"),
        ("C", "15", "20"),
        ("D", "17", "20"),
        ("E", "10", "20"),
    ]
    assert '<td class="sa-overall">79.5</td><td>100</td>' in totals
    assert "8 of 9 criteria scored" in totals
    # The form starts from what is saved.
    assert 'name="score_2" size="8" type="text" value="9.5"' in row(page, 2)
    assert 'value="92"' in row(page, 2)
    assert "All dues in 会费\nby December</textarea>" in row(page, 7)


def test_invalid_values_are_marked_kept_and_nothing_is_saved(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans)
    auth.login("drafter_a")
    version = plans.version(plan_id)
    typed = {
        "score_0": "11",  # over the criterion's points
        "score_1": "-1",  # negative
        "score_2": "NaN",  # not a number
        "measured_2": "ninety",
        "score_3": "abc",
        "score_4": "9" * 39,  # huge
        "measured_4": "9" * 41,  # too long
        "score_5": "7",  # fine, but not saved either
        "note_5": "Six activities 六次",
        "note_6": "bad\x00note",
        "score_7": "1e5",
    }
    response = save(client, plan_id, fields(typed, expected_version=str(version)))
    assert response.status_code == 422
    page = text(response)
    assert "Nothing was saved. Correct the marked fields." in page
    assert "This criterion has 10 points; give at most that." in row(page, 0)
    assert "This cannot be below 0." in row(page, 1)
    assert row(page, 2).count("Give a number, e.g. 95 or 87.5.") == 2
    assert "Give a number, e.g. 95 or 87.5." in row(page, 3)
    assert "This criterion has 20 points; give at most that." in row(page, 4)
    assert "This number is too long." in row(page, 4)
    assert "This text contains a control character; remove it." in row(page, 6)
    assert "Give a number" in row(page, 7)
    assert 'class="error"' not in row(page, 5) and 'class="error"' not in row(page, 8)
    # Everything typed comes back as it was typed.
    for n, value in [
        (0, "11"),
        (1, "-1"),
        (2, "NaN"),
        (3, "abc"),
        (4, "9" * 39),
        (5, "7"),
        (7, "1e5"),
    ]:
        assert f'value="{value}"' in row(page, n), n
    assert 'value="ninety"' in row(page, 2)
    assert "Six activities 六次</textarea>" in row(page, 5)
    assert 'aria-invalid="true"' in row(page, 0)
    assert plans.version(plan_id) == version
    assert self_column(pf, plan_id) == []


def test_a_library_refusal_alone_is_marked_too(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    """Numbers that are numbers reach the library, which judges them."""
    plan_id = plan_in(plans)
    auth.login("drafter_a")
    response = save(
        client,
        plan_id,
        fields({"score_4": "20.5", "score_8": "10"}, expected_version=str(plans.version(plan_id))),
    )
    assert response.status_code == 422
    assert "This criterion has 20 points; give at most that." in row(text(response), 4)
    assert self_column(pf, plan_id) == []


def test_others_read_the_sheet_but_cannot_save(app: Flask, plans: Plans, pf: Planflow) -> None:
    plan_id = plan_in(plans)
    pf.inspections.record_self_assessment(
        plan_id,
        [CriterionScore("A1", 9.0, "Twice a year")],
        actor="drafter_a",
    )
    for user in ["reviewer", "inspector"]:
        other = signed_in(app, user)
        page = text(other.get(f"/plans/{plan_id}/self-assessment"))
        assert "Only the drafter or submitter of the plan&#39;s own unit can record" in page
        assert 'name="score_0"' not in page
        assert "Twice a year" in row(page, 0) and "<dd>9</dd>" in row(page, 0)
        version = plans.version(plan_id)
        response = save(other, plan_id, fields({"score_0": "1"}, expected_version=str(version)))
        assert response.status_code == 403
        assert "self-assessment. Nothing was saved." in text(response)
        assert plans.version(plan_id) == version
    assert self_column(pf, plan_id)[0] == ("A1", 9.0, "Twice a year")


def test_the_sheet_opens_once_the_plan_is_approved(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, "approved")
    auth.login("chair_a")
    page = text(client.get(f"/plans/{plan_id}/self-assessment"))
    assert 'name="score_0"' in page and "can be recorded only while" not in page
    version = plans.version(plan_id)
    response = save(client, plan_id, fields({"score_0": "7"}, expected_version=str(version)))
    assert response.status_code == 302
    current = pf.inspections.current(plan_id)
    assert current is not None and current.round == 1
    assert [(s.code, s.self_score) for s in current.scores if s.self_score] == [("A1", 7.0)]


@pytest.mark.parametrize("state", ["inspected"])
def test_the_sheet_is_read_only_outside_the_inspection_state(
    client: WebClient, auth: AuthActions, plans: Plans, state: str
) -> None:
    plan_id = plan_in(plans, state)
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}/self-assessment"))
    assert "can be recorded only while the plan is Approved, Inspection scheduled" in page
    assert 'name="score_0"' not in page
    version = plans.version(plan_id)
    response = save(client, plan_id, fields({"score_0": "5"}, expected_version=str(version)))
    assert response.status_code == 422
    page = text(response)
    assert "The self-assessment cannot be recorded now. Nothing was saved." in page
    assert 'value="5"' in row(page, 0)  # what was typed stays readable
    assert plans.version(plan_id) == version


def test_a_stale_page_is_refused_and_keeps_what_was_typed(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans)
    seen = plans.version(plan_id)
    pf.inspections.record_self_assessment(
        plan_id,
        [CriterionScore("A1", 5.0, "")],
        actor="chair_a",
    )
    auth.login("drafter_a")
    response = save(client, plan_id, fields({"score_0": "7"}, expected_version=str(seen)))
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this plan while you were looking at it" in page
    assert 'value="7"' in row(page, 0)
    assert f'name="expected_version" value="{seen + 1}"' in page
    assert self_column(pf, plan_id)[0] == ("A1", 5.0, "")
    # A form refused for its values keeps the version it was sent with.
    response = save(client, plan_id, fields({"score_0": "x"}, expected_version=str(seen)))
    assert f'name="expected_version" value="{seen}"' in text(response)


def test_post_without_csrf_token_is_refused(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans)
    auth.login("drafter_a")
    version = plans.version(plan_id)
    response = save(
        client, plan_id, fields({"score_0": "5"}, expected_version=str(version)), csrf=False
    )
    assert response.status_code == 400
    assert plans.version(plan_id) == version


def test_plans_the_user_may_not_see_are_404(app: Flask, plans: Plans) -> None:
    theirs = plan_in(plans, unit="branch_b")
    draft = plans.create()
    drafter_a = signed_in(app, "drafter_a")
    reviewer = signed_in(app, "reviewer")
    for user, plan_id in [(drafter_a, theirs), (drafter_a, 999_999), (reviewer, draft)]:
        version = plans.version(theirs)
        assert user.get(f"/plans/{plan_id}/self-assessment").status_code == 404
        response = save(user, plan_id, fields({"score_0": "5"}, expected_version=str(version)))
        assert response.status_code == 404
        assert plans.version(theirs) == version


def test_no_input_breaks_the_sheet(client: WebClient, auth: AuthActions, plans: Plans) -> None:
    # Every value in one app and database; each meets a plan of its own.
    auth.login("drafter_a")
    failures: list[tuple[str, str, int]] = []
    for value in NASTY:
        plan_id = plan_in(plans)
        for name in ["score_0", "measured_2", "note_3", "expected_version", "score_99"]:
            version = str(plans.version(plan_id))
            data = fields(expected_version=version) | {name: value}
            status = save(client, plan_id, data).status_code
            if status not in (302, 409, 422):
                failures.append((value, name, status))
        # A form with no fields at all.
        status = save(client, plan_id, {}).status_code
        if status != 422:
            failures.append((value, "no fields", status))
    assert not failures


def test_the_sheet_in_korean(app: Flask, plans: Plans) -> None:
    plan_id = plan_in(plans)
    drafter = signed_in(app, "drafter_a")
    drafter.post_form("/auth/language", {"language": "ko"})
    page = text(drafter.get(f"/plans/{plan_id}/self-assessment"))
    assert "자체 평가" in page and "근로자의 집 점검표" in page and "필수" in page


def test_the_librarys_score_problems_are_said_by_code_in_chinese(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans)
    drafter = signed_in(app, "drafter_a")
    drafter.post_form("/auth/language", {"language": "zh"})
    typed = {"score_0": "11", "score_1": "-1", "score_4": "20.5"}
    response = save(drafter, plan_id, fields(typed, expected_version=str(plans.version(plan_id))))
    assert response.status_code == 422
    page = text(response)
    assert "本项满分为 10 分，评分不得超过满分。" in row(page, 0)
    assert "不能小于 0。" in row(page, 1)
    assert "本项满分为 20 分，评分不得超过满分。" in row(page, 4)
    for english in ("above the criterion", "below 0", "points"):
        assert english not in page, english
    assert self_column(pf, plan_id) == []


def test_score_problems_only_a_changed_page_sends_are_said_too(app: Flask) -> None:
    from planflow.core.inspection.scoring import ScoreProblem
    from planflow_web.codes import score_problem_text

    duplicate = ScoreProblem("A1", "duplicate", "scored more than once")
    unknown = ScoreProblem("Z9", "unknown_criterion", "unknown criterion code")
    newer = ScoreProblem("A1", "moon_full", "the moon is full")
    with app.test_request_context(headers={"Accept-Language": "ko"}):
        app.preprocess_request()
        assert score_problem_text(duplicate).startswith("이 기준이 두 번 이상 전송되었습니다.")
        assert score_problem_text(unknown).startswith("점검표에 이 기준이 없습니다.")
        # A code this catalogue does not know: the library's English, not nothing.
        assert score_problem_text(newer) == "the moon is full"
