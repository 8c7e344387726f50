"""The demo federation reads as one real federation: everything people wrote is Chinese.

Finding G of the new-user walk: the demo mixed Chinese plan titles with English
items, units named in three languages and English people in a Chinese
federation. Here every text a person wrote (unit and people's names, plan
titles, sections, items, targets, comments, inspection notes) is checked to be
Chinese, on both databases.
"""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from planflow.app import Planflow
from planflow.demo import DEMO_LOGINS, load_demo
from planflow.storage import passwords

LATIN = re.compile(r"[A-Za-z]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    """Chinese text: some Han characters, no Latin letters (digits and % are fine)."""
    return bool(HAN.search(text)) and not LATIN.search(text)


@pytest.fixture
def demo_pf(pf: Planflow, monkeypatch: pytest.MonkeyPatch) -> Planflow:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    pf.init()
    load_demo(pf, year=2027)
    return pf


def test_everything_people_wrote_is_chinese(demo_pf: Planflow) -> None:
    written = [unit.name for unit in demo_pf.org.units()]
    written += [user.display_name for user in demo_pf.org.users()]
    plans = demo_pf.plans(year=2027, page_size=100).items
    for plan in plans:
        written.append(plan.title)
        for section in demo_pf.content.content(plan.id).sections:
            written.append(section.title)
            for item in section.items:
                written.append(item.text)
                written += [target.metric for target in item.targets]
                written += [target.unit for target in item.targets if LATIN.search(target.unit)]
        # A system note (``detail["note"]``) is worded per reader; its comment is the English form.
        trail = demo_pf.audit_trail(plan.id)
        written += [e.comment for e in trail if e.comment and "note" not in e.detail]
        for inspection in demo_pf.inspections.rounds(plan.id):
            written += [s.inspector_note for s in inspection.scores if s.inspector_note]
    assert len(plans) == 13
    assert len(written) > 13 * 20
    assert [text for text in written if not chinese(text)] == []


def test_the_printed_logins_read_in_the_languages_they_name(demo_pf: Planflow) -> None:
    """``planflow run`` prints "(ko)" beside the inspector: signing in shows Korean."""
    languages = {user.username: user.language for user in demo_pf.org.users()}
    for label, username in DEMO_LOGINS:
        assert label.endswith(f"({languages[username]})"), (label, username)
