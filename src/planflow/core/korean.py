"""Korean particles chosen by the word they follow, once a text is filled in.

A Korean sentence with a placeholder cannot know its particle in advance:
은/는, 이/가, 을/를, 과/와 and 으로/로 depend on whether the word put in ends
in a consonant (a 받침). The catalogues write the generic form, "%(action)s은(는)",
and a reader saw "검수 통과은(는)". ``attach_particles`` replaces each generic
form that follows a Hangul syllable (or a closing quote or bracket after one)
with the particle that syllable takes, after the text is formatted. After a
digit or a Latin letter the generic form stays: how it is read out is not
known from the letter alone.
"""

from __future__ import annotations

import re

#: Each generic form: (the particle after a final consonant, the one after a vowel).
_FORMS = {
    "은(는)": ("은", "는"),
    "을(를)": ("을", "를"),
    "이(가)": ("이", "가"),
    "과(와)": ("과", "와"),
    "(으)로": ("으로", "로"),
}
_GENERIC = re.compile(
    r"([\uac00-\ud7a3])([’”'\")」』\]]?)(" + "|".join(re.escape(f) for f in _FORMS) + ")"
)
_HANGUL_FIRST = 0xAC00
#: The final consonant ㄹ: 으로 becomes 로 after it, as after a vowel ("서울로").
_RIEUL = 8


def _pick(found: re.Match[str]) -> str:
    syllable, closer, generic = found.groups()
    final = (ord(syllable) - _HANGUL_FIRST) % 28
    after_consonant, after_vowel = _FORMS[generic]
    if generic == "(으)로":
        particle = after_vowel if final in (0, _RIEUL) else after_consonant
    else:
        particle = after_consonant if final else after_vowel
    return f"{syllable}{closer}{particle}"


def attach_particles(text: str) -> str:
    """``text`` with each generic particle after a Hangul syllable made specific."""
    if "(" not in text:
        return text
    return _GENERIC.sub(_pick, text)
