"""Korean particles fitted to the word before them, after a text is filled in.

A new user's walk read "검수 통과은(는) 아직 할 수 없습니다" on a Korean page:
the catalogue's generic form after a label that ends in a vowel. The
library's pure function chooses the particle; the pages, the API's answers,
the e-mails and the system notes all pass their Korean text through it.
"""

from __future__ import annotations

import pytest

from planflow.core import notes
from planflow.core.korean import attach_particles
from planflow.core.notes import NoteLabels
from planflow.integrations.mail.messages import MailContext, RawLabels, render


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("검수 통과은(는) 아직 할 수 없습니다", "검수 통과는 아직 할 수 없습니다"),
        ("‘승인’을(를) 처리했습니다", "‘승인’을 처리했습니다"),
        ("‘반려’을(를) 처리했습니다", "‘반려’를 처리했습니다"),
        ("계획 ‘연간 계획’이(가) 기다립니다", "계획 ‘연간 계획’이 기다립니다"),
        ("계획 ‘지부 계획서’이(가) 기다립니다", "계획 ‘지부 계획서’가 기다립니다"),
        ("총공회(으)로 보고", "총공회로 보고"),
        ("서울(으)로 보고", "서울로 보고"),  # after ㄹ: 로
        ("본청(으)로", "본청으로"),
        ("노조과(와) 지부", "노조와 지부"),
        ("지부과(와) 본부", "지부와 본부"),
        ("본부장과(와) 위원", "본부장과 위원"),
        # After a digit or a Latin letter the reading is unknown: the generic form stays.
        ("계획 7은(는)", "계획 7은(는)"),
        ("단위 A을(를)", "단위 A을(를)"),
        ("no particle here (at all)", "no particle here (at all)"),
    ],
)
def test_each_generic_particle_takes_the_form_its_word_needs(written: str, read: str) -> None:
    assert attach_particles(written) == read


def test_a_korean_e_mail_says_the_particle_its_title_needs() -> None:
    for title, particle in (("지부 계획서", "가"), ("연간 계획", "이")):
        payload = {"title": title, "workflow": "annual_plan", "state": "submitted", "level": 0}
        mail = render("remind", payload, MailContext(language="ko", labels=RawLabels()))
        assert f"‘{title}’{particle} " in mail.body, mail.body
        assert "이(가)" not in mail.body


def test_a_korean_system_note_says_the_particle_its_action_needs() -> None:
    words = NoteLabels(action={"approve": "승인", "submit": "제출하기"}.__getitem__)
    said = {
        name: notes.render(
            {"code": notes.AUTO_ACTION_REFUSED, "params": {"action": name, "error": "x"}},
            "ko",
            words,
        )
        for name in ("approve", "submit")
    }
    assert "‘승인’이 거부되었습니다" in said["approve"], said
    assert "‘제출하기’가 거부되었습니다" in said["submit"], said
