"""An action blocked for good does not say "not possible yet".

A committee member who had approved saw "Approve is not possible yet: You
have already approved in this review round." ("아직 할 수 없습니다"): no wait
will ever let them approve again this round. A block that waiting cannot lift
(their own vote, their own submission) now reads "not possible for you"; one
that can (items without a due date) still reads "not possible yet".
"""

from __future__ import annotations

import re

from databases import SQLITE_ONLY
from flask import Flask
from webui_support import Plans, signed_in, text

# Words of the refusals: the refusals themselves are tested on both databases
# (tests/test_service.py, test_gestures.py), the plan page by test_web_plans.py.
pytestmark = SQLITE_ONLY


def _blocked(page: str, trigger: str) -> str:
    found = re.search(rf'id="blocked-{trigger}">\s*(.*?)</p>', page, re.S)
    assert found is not None, f"no blocked-{trigger} on the page"
    return " ".join(found.group(1).split())


def test_a_vote_already_given_is_not_a_later(app: Flask, plans: Plans) -> None:
    plan_id = plans.create(workflow="committee_plan")
    plans.fire(plan_id, ("submit", "chair_a"), ("approve", "member1"))
    member = signed_in(app, "member1")
    page = text(member.get(f"/plans/{plan_id}"))
    said = _blocked(page, "approve")
    assert said.startswith("Approve is not possible for you:"), said
    assert "already approved" in said
    step = text(member.get(f"/plans/{plan_id}/step/approve"))
    assert "Approve is not possible for you:" in step and "not possible yet" not in step
    member.post_form("/auth/language", {"language": "ko"})
    ko = _blocked(text(member.get(f"/plans/{plan_id}")), "approve")
    assert "하실 수 없습니다" in ko and "아직" not in ko.split(":")[0], ko


def test_a_block_that_work_can_lift_still_says_yet(app: Flask, plans: Plans) -> None:
    plan_id = plans.create(items=0)
    chair = signed_in(app, "chair_a")
    said = _blocked(text(chair.get(f"/plans/{plan_id}")), "submit")
    assert said.startswith("Submit is not possible yet:"), said
    # In Korean the particle fits the action's name: "제출은", not "제출은(는)"
    # (a new user's walk read "검수 통과은(는)"; tests/test_korean_particles.py).
    chair.post_form("/auth/language", {"language": "ko"})
    ko = _blocked(text(chair.get(f"/plans/{plan_id}")), "submit")
    assert "(는)" not in ko and re.match(r"\S+ ?[은는] 아직 할 수 없습니다", ko), ko


def test_a_recall_whose_moment_has_passed_says_no_longer(app: Flask, plans: Plans) -> None:
    plan_id = plans.under_review()
    chair = signed_in(app, "chair_a")
    said = _blocked(text(chair.get(f"/plans/{plan_id}")), "recall")
    assert said.startswith("Recall is no longer possible:"), said
    assert "too late" in said
    chair.post_form("/auth/language", {"language": "zh"})
    zh = _blocked(text(chair.get(f"/plans/{plan_id}")), "recall")
    assert zh.startswith("撤回已无法进行："), zh
