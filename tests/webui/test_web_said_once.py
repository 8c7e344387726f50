"""Wording a new user tripped over on the phone: the same word said twice in a row.

In Chinese a step and the state it leads to share a name ("退回修改"), so a notice
read "陈静: 退回修改: 退回修改"; the review queue's "Due" column (on a phone, the
line "기한:") repeated its own label before the date ("기한: 기한 2026. 12. 21.").
"""

from __future__ import annotations

import re

from databases import SQLITE_ONLY
from flask import Flask
from webui_support import Plans, signed_in, text

# Words only: the notification list and the review queue are tested on both
# databases by test_web_inbox.py and test_web_reviews.py.
pytestmark = SQLITE_ONLY


def test_a_notice_names_a_step_and_its_state_once_when_they_read_alike(
    app: Flask, plans: Plans
) -> None:
    plan_id = plans.under_review()
    plans.fire(plan_id, ("return_for_revision", "reviewer", "补充培训月份。"))
    chair = signed_in(app, "chair_a")
    chair.post_form("/auth/language", {"language": "zh"})
    page = text(chair.get("/notifications/"))
    assert "退回修改" in page and "补充培训月份。" in page
    assert "退回修改: 退回修改" not in page
    chair.post_form("/auth/language", {"language": "en"})
    page = text(chair.get("/notifications/"))
    assert "Return for revision: Returned for revision" in page  # different words: both said


def test_the_due_column_shows_the_moment_without_repeating_its_label(
    app: Flask, plans: Plans
) -> None:
    plans.submitted(title="Plan for review")
    reviewer = signed_in(app, "reviewer")
    for lang, label in [("en", "Due"), ("ko", "기한"), ("zh", "完成时限")]:
        reviewer.post_form("/auth/language", {"language": lang})
        page = text(reviewer.get("/reviews/"))
        cells = re.findall(
            r'<td data-label="([^"]*)">\s*(?:<span class="badge[^<]*</span>)?'
            r'\s*<span class="due">([^<]*)</span>',
            page,
        )
        assert cells, lang
        for heading, due in cells:
            assert heading == label
            assert not due.lower().startswith(label.lower()), (lang, due)
            assert re.search(r"\d", due)
