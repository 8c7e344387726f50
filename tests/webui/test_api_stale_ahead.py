"""A version ahead of the plan's is not "someone else changed it".

An IT person trying the API sent ``expected_version`` 4 to a plan at version
3 and read "Someone else changed this plan while you were looking at it (you
had version 4, it is now at version 3)": nobody had changed anything, the
number sent was wrong. The 409 stays (same code and parameters); its text
now says the plan has no such version yet, in the caller's language.
"""

from __future__ import annotations

import pytest
from flask import Flask
from test_api import new_plan, token

from planflow.app import Planflow

AHEAD = {
    "en": "This plan is at version 2: there is no version 7 yet.",
    "zh": "此计划当前为第 2 版，还没有第 7 版。",
    "ko": "이 계획은 현재 버전 2이며, 버전 7은 아직 없습니다.",
}


@pytest.mark.parametrize("language", ["en", "zh", "ko"])
def test_a_version_from_the_future_is_named_so(app: Flask, pf: Planflow, language: str) -> None:
    plan_id = new_plan(pf)
    headers = token(pf, "chair_a", "write") | {"Accept-Language": language}
    api = app.test_client()
    url = f"/api/v1/plans/{plan_id}/actions/submit"
    ahead = api.post(url, headers=headers, json={"expected_version": 7})
    assert ahead.status_code == 409
    body = ahead.get_json()
    assert body["code"] == "stale_version" and body["params"]["current"] == 2
    assert body["detail"].startswith(AHEAD[language]), body["detail"]
    # A version behind the plan's is still someone else's change.
    pf.content.add_comment(plan_id, "a change meanwhile", actor="drafter_a")
    english = headers | {"Accept-Language": "en"}
    behind = api.post(url, headers=english, json={"expected_version": 2})
    assert behind.status_code == 409
    assert behind.get_json()["detail"].startswith("Someone else changed this plan")
