"""Bidirectional controls are refused wherever a person's text enters planflow.

U+202E RIGHT-TO-LEFT OVERRIDE and its kin make displayed text lie about what
it says ("Approved \u202edesrever" shows reversed). Titles, comments, unit and
person names refuse them like other control characters, naming the character;
the library, the command line and the web forms share one rule
(``planflow.core.text``). Database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from planflow.app import Planflow
from planflow.core.text import BIDI_CONTROLS, TextError, clean_text, refused_character
from planflow.errors import ValidationError

SPOOFS = ["report\u202efdp.exe", "x\u202ay", "\u2066isolate\u2069", "mark\u200f", "alm\u061c"]


@pytest.mark.parametrize("value", SPOOFS)
@pytest.mark.parametrize("multiline", [True, False])
def test_clean_text_refuses_bidi_controls(value: str, multiline: bool) -> None:
    with pytest.raises(TextError, match=r"must not contain the bidirectional control U\+"):
        clean_text(value, field="title", max_length=100, multiline=multiline)
    position, char = refused_character(value, multiline=multiline) or (0, "")
    assert char in BIDI_CONTROLS and value[position - 1] == char


def test_joiners_and_ordinary_scripts_still_pass() -> None:
    for value in ("a\u200db", "工会 노동조합 union", "①Ⅱ"):
        assert clean_text(value, field="t", max_length=100) == value
        assert refused_character(value) is None


def test_a_title_or_comment_with_an_override_writes_nothing(pf: Planflow, org: Any) -> None:
    before = pf.counts()
    with pytest.raises(ValidationError, match="bidirectional control U\\+202E"):
        pf.create_plan(unit_code="branch_a", year=2027, title="Plan \u202eA", actor="drafter_a")
    assert pf.counts() == before
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan A", actor="drafter_a")
    before = pf.counts()
    with pytest.raises(ValidationError, match="bidirectional control"):
        pf.fire(plan_id, "submit", "chair_a", "fine\u202e")
    assert pf.counts() == before


def test_the_command_line_refuses_a_spoofed_unit_name(cli: Any, database_url: str) -> None:
    code, _out, err = cli("--database-url", database_url, "init")
    assert code == 0, err
    code, out, err = cli("--database-url", database_url, "units", "add", "u1", "Union \u202e1")
    assert code == 1
    assert "bidirectional control U+202E" in err and "Traceback" not in err
    code, out, err = cli("--database-url", database_url, "units", "list")
    assert code == 0 and "u1" not in out
