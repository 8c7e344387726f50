"""Targets read as people write them, in the reader's language, and a return's reason
appears among the plan's comments (both databases; the words in every language on
SQLite, tests/databases.py)."""

from __future__ import annotations

import io
import re

import docx
from databases import in_languages
from flask import Flask
from webui_support import AuthActions, Plans, WebClient, signed_in, text

from planflow.app import Planflow
from planflow.core.content.model import PlanContent

CONTENT = PlanContent.from_dict(
    {
        "sections": [
            {
                "key": "s1",
                "title": "Education",
                "items": [
                    {
                        "key": "i1",
                        "text": "Train the stewards",
                        "due": 3,
                        "targets": [
                            {"metric": "培训次数", "op": ">=", "value": 3, "unit": ""},
                            {"metric": "complaints", "op": "<", "value": 10, "unit": "%"},
                        ],
                    }
                ],
            }
        ]
    },
    year=2027,
)

#: The item's targets on the plan page, per language.
SAID = {
    "en": "培训次数 at least 3; complaints less than 10%",
    "zh": "培训次数不少于 3; complaints少于 10%",
    "ko": "培训次数 3 이상; complaints 10% 미만",
}
#: The editor's first comparison choice, per language (its value stays ">=").
AT_LEAST = {"en": "at least", "zh": "不少于", "ko": "이상"}


# The content is written and read back on both databases (in English on
# PostgreSQL); the other languages are words, the same on both.
@in_languages("lang", ["en", "zh", "ko"])
def test_targets_read_in_words_on_the_plan_page_and_in_the_editor(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow, lang: str
) -> None:
    plan_id = plans.create(items=0)
    pf.content.set_content(plan_id, CONTENT, actor="drafter_a")
    auth.login("drafter_a")
    client.post_form("/auth/language", {"language": lang})
    page = text(client.get(f"/plans/{plan_id}"))
    assert SAID[lang] in page, page
    assert "&gt;= 3" not in page and "&lt; 10" not in page
    editor = text(client.get(f"/plans/{plan_id}/edit"))
    chosen = re.search(r'<option[^>]*value="&gt;="[^>]*>([^<]*)</option>', editor)
    assert chosen is not None and chosen.group(1) == AT_LEAST[lang]
    assert re.search(
        r'<option[^>]*value="&lt;"[^>]*selected[^>]*>|<option[^>]*selected[^>]*value="&lt;"', editor
    )


def test_a_returns_reason_is_among_the_comments_on_the_plan_page(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.under_review()
    plans.fire(plan_id, ("return_for_revision", "reviewer", "Add targets to 1.2"))
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}"))
    comments = page[page.index('id="comments"') :]
    assert "No comments yet." not in comments
    assert "Add targets to 1.2" in comments
    assert "With the decision: Return for revision, now " in comments
    client.post_form("/auth/language", {"language": "zh"})
    page = text(client.get(f"/plans/{plan_id}"))
    assert "随决定给出：退回修改，现为" in page[page.index('id="comments"') :]


@in_languages("lang", ["en", "zh", "ko"])  # as above
def test_the_plan_docx_writes_targets_in_the_readers_language(
    app: Flask, plans: Plans, pf: Planflow, lang: str
) -> None:
    plan_id = plans.create(items=0)
    pf.content.set_content(plan_id, CONTENT, actor="drafter_a")
    reader = signed_in(app, "drafter_a")
    reader.post_form("/auth/language", {"language": lang})
    data = reader.get(f"/plans/{plan_id}/plan.docx").get_data()
    said = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    assert SAID[lang] in said, said
