"""The grammar of numbering markers: what "一、", "(1)", "Second,", "둘째," or "가." say.

A marker has a *style* (its family of numerals and the punctuation around
them: "一、" and "(一)" are two styles) and a *number* (its value in the
family: "三" is 3, "IV" is 4, "다섯째" is 5, "나" is 2). The importer never
asks what a style means for the outline; levels come from the order styles
appear in and from which sequence a number continues
(``planflow.core.content.importer.levels``).

Some tokens belong to two families ("I." is a Roman one or the letter I,
"C." the letter C or Roman 100): ``line_markers`` returns every reading and
the levels pick the one that continues a sequence. Pure: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")}
_CN = "[一二三四五六七八九十]{1,3}"
EN_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
]
KO_ORDINALS = [
    "첫째",
    "둘째",
    "셋째",
    "넷째",
    "다섯째",
    "여섯째",
    "일곱째",
    "여덟째",
    "아홉째",
    "열째",
]
KO_COUNTED = [
    "첫",
    "두",
    "세",
    "네",
    "다섯",
    "여섯",
    "일곱",
    "여덟",
    "아홉",
    "열",
]  # "첫 번째", "두 번째"
KO_NATIVE = ["하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉", "열"]
KO_LETTERS = "가나다라마바사아자차카타파하"
ROMAN_CHARS = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ"
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
# Full-width digits and brackets read as ASCII, so that "（１）" is "(1)".
_WIDE = str.maketrans("０１２３４５６７８９（）．", "0123456789().")

# The punctuation after a number that ends a marker ("1、", "1.", "一，").
_AFTER = r"\s*[、．.，,:：]"
# Each family: (style, pattern at the start of a line). The first group is the numeral.
_LINE_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("tag", re.compile(r"【\s*(?:篇|第)?\s*([一二三四五六七八九十0-9]{1,3})\s*(?:篇|部分)?\s*】")),
    ("cn_paren", re.compile(rf"\(\s*({_CN})\s*[、.]?\s*\)\s*[、.，,]?")),
    ("cn_ordinal", re.compile(rf"第({_CN})(?:部分|章|节|条)?\s*[、，,：:.\s]")),
    ("cn_shi", re.compile(rf"({_CN})是(?![否非])")),
    ("cn", re.compile(rf"({_CN}){_AFTER}")),
    ("num_paren", re.compile(r"\(\s*([0-9]{1,2})\s*\)")),
    ("num_half_paren", re.compile(r"([0-9]{1,2})\s*\)")),
    ("num_dotted", re.compile(r"[0-9]{1,2}\.([0-9]{1,2})\.?(?![0-9])\s*")),
    ("num", re.compile(r"([0-9]{1,2})\s*[、.，,](?![0-9])")),
    ("circled", re.compile(r"([①-⑳])\s*[、.]?")),
    ("circled_paren", re.compile(r"([⑴-⒇])")),
    ("roman", re.compile(rf"([{ROMAN_CHARS}])\s*[、.．]?|({'|'.join(ROMAN[::-1])})\s*[.、]\s")),
    ("en_ordinal", re.compile(rf"({'|'.join(EN_ORDINALS)})(?:ly)?(?: of all)?\s*[,，:：]", re.I)),
    ("ko_ordinal", re.compile(rf"({'|'.join(KO_ORDINALS)})(?:로)?\s*[,，:：.]?\s")),
    ("ko_counted", re.compile(rf"({'|'.join(KO_COUNTED)})\s?번째(?:로)?\s*[,，:：.]?\s")),
    ("ko_native", re.compile(rf"({'|'.join(KO_NATIVE)})\s*[,，.:：]\s")),
    ("ko_letter", re.compile(rf"([{KO_LETTERS}])\s*[.)]\s")),
    ("letter_paren", re.compile(r"\(\s*([a-zA-Z])\s*\)\s")),
    ("letter", re.compile(r"([A-Za-z])[.)]\s")),
)
# An inline enumeration inside a paragraph: "…；二是…", "…。第二，…", "… 둘째, …", "… Second, …".
_INLINE_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn_shi", re.compile(rf"(?:^|(?<=[。；;：:，,！!？?\s]))({_CN})是(?![否非])")),
    # "第二，" only after a sentence: "第二次会议", "第三季度" are no markers.
    ("cn_ordinal", re.compile(rf"(?:^|(?<=[。；;：:！!？?\s]))第({_CN})\s*[，,、：:]")),
    (
        "ko_ordinal",
        re.compile(rf"(?:^|(?<=[.。;；:：,，\s]))({'|'.join(KO_ORDINALS)})(?:로)?\s*[,，:：]?\s"),
    ),
    ("en_ordinal", re.compile(rf"(?:^|(?<=[.;:!?]\s))({'|'.join(EN_ORDINALS).title()})(?:ly)?,")),
)
#: The families written inside a paragraph ("…; 二是…", "… Secondly, …"): the writer's own list.
INLINE_FAMILIES = frozenset(style for style, _ in _INLINE_STYLES)
# A numbered point run into the paragraph before it: "... in April. 3. Strengthened ...",
# "첫째, … 둘째, …" (taken only where it continues a sequence: ``levels``).
_RUN_IN = (
    ("num", re.compile(r"(?<=[.!?。！？；;])\s*([0-9]{1,2})(?:\.\s+(?=[A-Z])|、(?=\S))")),
    *_INLINE_STYLES,
)


@dataclass(frozen=True, slots=True)
class Marker:
    """One reading of a numbering marker: its style and its number (from 1)."""

    style: str
    number: int


@dataclass(frozen=True, slots=True)
class Found:
    """A marker at the start of a line: its readings and the text after it."""

    readings: tuple[Marker, ...]
    rest: str


def cn_number(text: str) -> int | None:
    """一 .. 九十九 as a number; None for anything else."""
    tens, ten, ones = text.partition("十")
    if not ten:
        return CN_DIGITS.get(text) if len(text) == 1 else None
    high = CN_DIGITS.get(tens, 0) if tens else 1
    low = CN_DIGITS.get(ones, 0) if ones else 0
    return high * 10 + low if len(tens) <= 1 and len(ones) <= 1 else None


def _value(style: str, token: str) -> int | None:
    if token.isascii() and token.isdigit():
        return int(token)
    lower = token.lower()
    for words in (EN_ORDINALS, KO_ORDINALS, KO_NATIVE):
        if lower in words and style != "ko_counted":
            return words.index(lower) + 1
    if style == "ko_counted":
        return KO_COUNTED.index(token) + 1
    if style == "ko_letter":
        return KO_LETTERS.index(token) + 1
    if token in ROMAN_CHARS:
        return ROMAN_CHARS.index(token) + 1
    if token in ROMAN:
        return ROMAN.index(token) + 1
    if style.startswith("letter"):
        return ord(lower) - ord("a") + 1
    if "①" <= token <= "⑳":
        return ord(token) - ord("①") + 1
    if "⑴" <= token <= "⒇":
        return ord(token) - ord("⑴") + 1
    return cn_number(token)


def _readings(style: str, token: str) -> list[Marker]:
    found = []
    number = _value(style, token)
    if number is not None:
        found.append(Marker(style, number))
    # "I." "V." "X." may be letters, and "C." "D." "L." letters that are no Roman numeral here.
    if style == "roman" and len(token) == 1:
        found.append(Marker("letter", ord(token.lower()) - ord("a") + 1))
    if style == "letter" and token.upper() in ROMAN:
        found.append(Marker("roman", ROMAN.index(token.upper()) + 1))
    return found


def line_markers(line: str) -> Found | None:
    """The readings of the marker that starts ``line``, or None when it starts with none."""
    probe = line.translate(_WIDE)
    for style, pattern in _LINE_STYLES:
        match = pattern.match(probe)
        if match:
            token = next((g for g in match.groups() if g), "")
            readings = _readings(style, token)
            if readings:
                return Found(tuple(readings), line[match.end() :].strip())
    return None


def _start(match: re.Match[str]) -> int:
    """Where a marker found inside a paragraph starts: "第" of "第二，", not its numeral."""
    text = match.group(0)
    return match.start() + len(text) - len(text.lstrip())


def inline_runs(text: str) -> list[tuple[int, int, Marker]]:
    """Inline enumeration markers in ``text``: (start, end of the marker, its reading).

    Only the families people write inside a paragraph ("一是", "첫째", "First,")
    count; whether a run of them is an enumeration is for the caller to decide.
    """
    found = []
    for style, pattern in _INLINE_STYLES:
        for match in pattern.finditer(text):
            number = _value(style, match.group(1))
            if number is not None:
                found.append((_start(match), match.end(), Marker(style, number)))
    return sorted(found, key=lambda f: f[0])


def run_in_points(text: str) -> list[tuple[int, int, Marker]]:
    """Numbered points run into a paragraph after a sentence end ("April. 3. Strengthened")."""
    found = []
    for style, pattern in _RUN_IN:
        for match in pattern.finditer(text):
            if _start(match) == 0:
                continue
            number = _value(style, match.group(1))
            if number is not None:
                found.append((_start(match), match.end(), Marker(style, number)))
    return sorted(found, key=lambda f: f[0])
