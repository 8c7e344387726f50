"""The web import: a document read, its outline corrected in the form, one draft saved.

Every test runs on SQLite and PostgreSQL (the ``app`` fixture). The preview
state is the form's own (hidden fields), so a test posts it back the way a
browser would: read the page, take the hidden fields, change what the user
changes.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from webui_support import AuthActions, WebClient, text

from planflow.app import Planflow
from planflow.integrations.documents import reading

DATA = Path(__file__).resolve().parents[1] / "data" / "imports"
URL = "/plans/import"
PASTED = (DATA / "en_mixed.txt").read_text(encoding="utf-8")


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1))


def _base(pf: Planflow, **extra: Any) -> dict[str, Any]:
    return {
        "workflow": "annual_plan",
        "unit": str(pf.unit_id("branch_a")),
        "year": "2027",
        **extra,
    }


def _state(page: str) -> dict[str, str]:
    """What the page carries forward: the hidden state, the title and each item's fields."""
    state = {name: _hidden(page, name) for name in ("outline", "lines", "report")}
    state["title"] = html.unescape(re.search(r'name="title"[^>]*value="([^"]*)"', page).group(1))
    outline = json.loads(state["outline"])
    for section in outline["sections"]:
        state[f"section-{section['key']}"] = section["title"]
        for item in section["items"]:
            state[f"text-{item['key']}"] = item["text"]
            state[f"due-{item['key']}"] = "" if item["due"] is None else str(item["due"])
    return state


def _plans(pf: Planflow) -> int:
    return pf.counts()["plans"]


@pytest.fixture
def drafter(client: WebClient, auth: AuthActions) -> WebClient:
    auth.login("drafter_a")
    return client


def test_pasted_plan_previews_corrects_and_saves_one_draft(
    drafter: WebClient, pf: Planflow
) -> None:
    before = _plans(pf)
    page = drafter.post_form(URL, _base(pf, text=PASTED, op="read"))
    assert page.status_code == 200, text(page)
    body = text(page)
    assert "Preview" in body and "Recruit new members" in body
    assert "left out" in body  # the breadcrumbs and the review are listed, not lost
    assert _plans(pf) == before  # nothing saved by a preview
    state = _state(body)
    outline = json.loads(state["outline"])
    items = [i for s in outline["sections"] for i in s["items"]]
    first, second = items[0]["key"], items[1]["key"]
    # Merge the second item into the first; give the first another month.
    state[f"due-{first}"] = "3"
    page = drafter.post_form(URL, _base(pf, **state, op=f"merge:{second}"))
    assert page.status_code == 200, text(page)
    state = _state(text(page))
    merged = json.loads(state["outline"])["sections"][0]["items"]
    assert merged[0]["due"] == 3 and "Hold a members' meeting" in merged[0]["text"]
    assert len([i for s in json.loads(state["outline"])["sections"] for i in s["items"]]) == (
        len(items) - 1
    )
    saved = drafter.post_form(URL, _base(pf, **state, op="save"))
    assert saved.status_code == 302
    plan_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    assert _plans(pf) == before + 1
    content = pf.content.content(plan_id)
    assert content.item_count == len(items) - 1
    assert content.sections[0].items[0].due == 3
    plan = pf.plan(plan_id)
    assert (plan.state, plan.year, plan.title) == ("draft", 2027, state["title"])


def test_split_and_promote_an_item(drafter: WebClient, pf: Planflow) -> None:
    body = text(drafter.post_form(URL, _base(pf, text=PASTED, op="read")))
    state = _state(body)
    sections = json.loads(state["outline"])["sections"]
    key = sections[0]["items"][0]["key"]
    state[f"text-{key}"] = "Recruit new members.\nHold a census of the depots."
    state = _state(text(drafter.post_form(URL, _base(pf, **state, op=f"split:{key}"))))
    after = json.loads(state["outline"])["sections"]
    assert [i["text"] for i in after[0]["items"][:2]] == [
        "Recruit new members.",
        "Hold a census of the depots.",
    ]
    second = after[0]["items"][1]["key"]
    state = _state(text(drafter.post_form(URL, _base(pf, **state, op=f"promote:{second}"))))
    promoted = json.loads(state["outline"])["sections"]
    assert len(promoted) == len(after) + 1
    assert promoted[1]["title"] == "Hold a census of the depots."


def test_a_word_file_is_read(drafter: WebClient, pf: Planflow) -> None:
    data = (DATA / "heldout" / "en_word.docx").read_bytes()
    page = drafter.post_form(
        URL,
        _base(pf, document=(io.BytesIO(data), "plan.docx"), op="read"),
        content_type="multipart/form-data",
    )
    assert page.status_code == 200, text(page)
    assert "Run a recruitment drive on every ward in April" in text(page)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "nothing to import"),
        (b"\x00\x01\x02\xff" * 100, "not text"),
        (b"%PDF-1.4 junk", "cannot be read"),
    ],
)
def test_bad_files_are_refused_in_words_and_the_form_kept(
    drafter: WebClient, pf: Planflow, data: bytes, said: str
) -> None:
    before = _plans(pf)
    page = drafter.post_form(
        URL,
        _base(pf, document=(io.BytesIO(data), "plan.txt"), year="2028", op="read"),
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    assert said in text(page)
    assert 'value="2028"' in text(page)  # what was chosen stays
    assert _plans(pf) == before


def test_a_file_over_the_limit_is_refused(
    drafter: WebClient, pf: Planflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "MAX_BYTES", 1000)
    page = drafter.post_form(
        URL,
        _base(pf, document=(io.BytesIO(b"plan text\n" * 200), "plan.txt"), op="read"),
        content_type="multipart/form-data",
    )
    assert page.status_code == 422 and "too large" in text(page)


def test_garbage_preview_and_file_parts_save_nothing(drafter: WebClient, pf: Planflow) -> None:
    before = _plans(pf)
    state = _state(text(drafter.post_form(URL, _base(pf, text=PASTED, op="read"))))
    for junk in ("{not json", "[]", json.dumps({"sections": [{"title": 5}]}), ""):
        page = drafter.post_form(URL, _base(pf, **{**state, "outline": junk}, op="save"))
        assert page.status_code == 422, junk
        assert "Correct the marked fields" in text(page) or "could not be read" in text(page)
        assert PASTED.splitlines()[0] in text(page)  # the pasted text stays
    # A file where text belongs: the field says so; nothing is read or saved.
    page = drafter.post_form(
        URL,
        _base(pf, **{**state, "outline": (io.BytesIO(b"{}"), "x.json")}, op="save"),
        content_type="multipart/form-data",
    )
    assert page.status_code == 422 and "takes text" in text(page)
    # An emptied item text: refused at its number, the typed text shown again.
    first, second = json.loads(state["outline"])["sections"][0]["items"][:2]
    typed = {f"text-{first['key']}": " ", f"due-{second['key']}": "13"}
    page = drafter.post_form(URL, _base(pf, **{**state, **typed}, op="save"))
    assert page.status_code == 422
    # Every problem at once, at its item's number; what was typed is on the page again.
    assert "1.1: This field is required." in text(page)
    assert "1.2: Choose one of the options." in text(page)
    assert f'name="text-{second["key"]}"' in text(page)
    assert _plans(pf) == before


def test_refusals_are_worded_in_the_readers_language(drafter: WebClient, pf: Planflow) -> None:
    drafter.post_form("/auth/language", {"language": "zh"})
    zh = text(drafter.post_form(URL, _base(pf, text="  ", op="read")))
    drafter.post_form("/auth/language", {"language": "ko"})
    ko = text(drafter.post_form(URL, _base(pf, text="  ", op="read")))
    english = "There is nothing to import"
    assert english not in zh and english not in ko and zh != ko


def test_only_drafters_reach_the_page(client: WebClient, auth: AuthActions) -> None:
    auth.login("reviewer")
    assert client.get(URL).status_code == 403


def test_a_file_of_several_plans_offers_the_others(drafter: WebClient, pf: Planflow) -> None:
    first = ("【篇一】", "一、组织建设", "1. 发展会员，4月完成。")
    two = "\n".join((*first, "【篇二】", "一、宣传教育", "1. 办好职工报，6月完成。", "2. 举办讲座"))
    page = text(drafter.post_form(URL, _base(pf, text=two, op="read")))
    assert "发展会员" in page and "Take this plan" in page
    state = _state(page)
    assert state["lines"]  # the paragraphs stay on the page to read another part
    page = text(drafter.post_form(URL, _base(pf, **state, op="part:2")))
    outline = _state(page)["outline"]
    assert "办好职工报" in outline and "发展会员" not in outline
    saved = drafter.post_form(URL, _base(pf, **_state(page), op="save"))
    plan_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    items = [i for _n, _s, i in pf.content.content(plan_id).numbered_items()]
    assert [(i.text, i.due) for i in items] == [("办好职工报，6月完成。", 6), ("举办讲座", None)]


def test_only_the_drafters_own_units_are_offered(drafter: WebClient, pf: Planflow) -> None:
    page = drafter.post_form(
        URL, _base(pf, unit=str(pf.unit_id("branch_b")), text=PASTED, op="read")
    )
    assert page.status_code == 422 and "Choose one of the options." in text(page)
    assert "Branch B" not in text(page).split('name="unit"')[1].split("</select>")[0]


def test_the_preview_sets_an_items_owner(drafter: WebClient, pf: Planflow) -> None:
    body = text(drafter.post_form(URL, _base(pf, text=PASTED, op="read")))
    assert 'name="owner-' in body and "(branch_a)" in body  # the chosen unit is offered
    state = _state(body)
    outline = json.loads(state["outline"])
    first = outline["sections"][0]["items"][0]["key"]
    # A unit that is not the plan's or below it is refused in words; nothing is saved.
    refused = drafter.post_form(URL, _base(pf, **state, **{f"owner-{first}": "fed"}, op="save"))
    assert refused.status_code == 422
    assert "fed is not this plan&#39;s unit or a unit below it." in text(refused)
    assert _plans(pf) == 0
    state[f"owner-{first}"] = "branch_a"
    page = drafter.post_form(URL, _base(pf, **state, op="refresh"))
    assert json.loads(_state(text(page))["outline"])["sections"][0]["items"][0]["owner_unit"] == (
        "branch_a"
    )
    assert re.search(r'<option value="branch_a" selected>', text(page))
    saved = drafter.post_form(URL, _base(pf, **_state(text(page)), op="save"))
    assert saved.status_code == 302
    plan_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    assert pf.content.content(plan_id).sections[0].items[0].owner_unit == "branch_a"
