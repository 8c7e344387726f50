"""Words a person reads instead of wire names and formats the page cannot keep.

- Tokens and feeds offered the scopes ``read``/``write``/``admin`` as bare
  English options, and listed them so: each is now words in the reader's
  language with the wire name after it (the API and the CLI use that name).
- Date fields are the browser's date picker, which shows the browser's
  format (``mm/dd/yyyy`` in Chromium with an English locale) whatever the
  page's language; the visit date's hint and the date errors said
  "年-月-日" / "연-월-일". They now speak of the picker, and give the typed
  form only for a browser without one.
"""

from __future__ import annotations

import re

import pytest
from databases import SQLITE_ONLY, in_languages
from flask import Flask
from test_web_admin_support import Admins
from test_web_editor import Editor, error_next_to, item
from test_web_inspections import scheduled
from webui_support import Plans, signed_in, text

#: Per language: the three scopes as the options read.
SCOPES = {
    "en": ("Look only (read)", "Look and act (write)", "Look, act and administer (admin)"),
    "zh": ("只能查看 (read)", "查看并办理 (write)", "查看、办理并管理 (admin)"),
    "ko": ("보기만 (read)", "보기와 처리 (write)", "보기, 처리, 관리 (admin)"),
}
#: Per language: words of the visit date's hint and of a date error about the picker.
PICKER = {"en": "date picker", "zh": "日期选择器", "ko": "날짜 선택기"}
#: Per language: the one message for a date shaped right that is no day (2027-02-30).
NO_SUCH_DAY = {
    "en": "This date does not exist.",
    "zh": "没有这个日期。",
    "ko": "존재하지 않는 날짜입니다.",
}
#: What the page must no longer promise: a written order of year, month and day.
FORMAT_WORDS = ("year-month-day", "年-月-日", "연-월-일")


def _options(page: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, page
    return dict(re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))


# The token is stored and listed on both databases (in Chinese on PostgreSQL);
# the other languages are words, the same on both (tests/databases.py).
@in_languages("language", ["zh", "ko", "en"])
def test_token_scopes_read_as_words_with_their_wire_names(
    app: Flask, admins: Admins, language: str
) -> None:
    read, write, admin = SCOPES[language]
    reviewer = signed_in(app, "reviewer")
    reviewer.post_form("/auth/language", {"language": language})
    assert _options(text(reviewer.get("/settings/tokens/")), "scope") == {
        "read": read,
        "write": write,
    }
    administrator = signed_in(app, "union_admin")
    administrator.post_form("/auth/language", {"language": language})
    page = text(administrator.get("/settings/tokens/"))
    assert _options(page, "scope") == {"read": read, "write": write, "admin": admin}
    # The wire name is what the form sends and what is stored.
    made = administrator.post_form(
        "/settings/tokens/", {"name": "Robot", "scope": "write", "expires": "30"}
    )
    assert made.status_code == 302
    assert [t.scope for t in admins.pf.tokens.of_user("union_admin")] == ["write"]
    listed = text(administrator.get("/settings/tokens/")).split('id="feeds"')[0]
    assert f"<td>{write}</td>" in listed


@SQLITE_ONLY  # words of the form; the inspection pages are tested on both databases
@pytest.mark.parametrize("language", ["zh", "ko", "en"])
def test_date_fields_speak_of_the_picker_not_of_a_format(
    app: Flask, plans: Plans, language: str
) -> None:
    plan_id = scheduled(plans)
    inspector = signed_in(app, "inspector")
    inspector.post_form("/auth/language", {"language": language})
    sheet = text(inspector.get(f"/inspections/plan/{plan_id}"))
    assert 'type="date"' in sheet and PICKER[language] in sheet
    refused = inspector.post_form(
        f"/inspections/plan/{plan_id}/visit",
        {"visit_date": "14.1.2027", "op": "set", "expected_version": plans.version(plan_id)},
    )
    assert refused.status_code == 422
    answer = text(refused)
    assert PICKER[language] in answer and 'value="14.1.2027"' in answer
    assert not any(words in answer for words in FORMAT_WORDS)

    draft = plans.create(items=1)
    drafter = signed_in(app, "drafter_a")
    drafter.post_form("/auth/language", {"language": language})
    editor = Editor(drafter, draft)
    due = item(0, 0, "due_date")
    response = editor.press("save", **{item(0, 0, "due_month"): "", due: "31.3."})
    assert response.status_code == 422
    error = error_next_to(editor.html, due)
    assert PICKER[language] in error and "2027-03-31" in error
    assert not [w for w in FORMAT_WORDS if w in editor.html]
    # Shaped like a date but no day: one message, not the library's for imported files too.
    response = editor.press("save", **{item(0, 0, "due_month"): "", due: "2027-02-30"})
    assert response.status_code == 422
    assert error_next_to(editor.html, due) == NO_SUCH_DAY[language]
    assert not [w for w in FORMAT_WORDS if w in editor.html]
