"""Plain-text plan importer: ``parse_plan_text`` turns a pasted plan into PlanContent.

Real plans are messy: web-page debris around them, several plans in one file,
headings run into their body text, numbering styles mixed ("一、", "（一）", "1、",
"First,", "가."). The importer is a heuristic that produces a useful first draft
for a person to edit. It never fails on any text; whatever it produces passes
``PlanContent.from_dict``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from planflow.core.content.items import MAX_SHORT, MAX_TEXT, MAX_TITLE
from planflow.core.content.model import PlanContent

_CN = "[一二三四五六七八九十]{1,3}"
_CN_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")}
_EN_ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
_KO_ORDINALS = "첫째 둘째 셋째 넷째 다섯째 여섯째 일곱째 여덟째 아홉째 열째"
_ROMAN = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "Ⅵ", "Ⅶ", "Ⅷ", "Ⅸ", "Ⅹ", "Ⅺ", "Ⅻ"]
_ASCII_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
_KO_LETTERS = "가나다라마바사아자차카타파하"

# Each numbering style with the pattern of its marker at the start of a line.
_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn", re.compile(rf"({_CN})\s*[、．.]")),
    ("cn_paren", re.compile(rf"[（(]\s*({_CN})\s*、?\s*[)）]\s*[、．.]?")),
    ("cn_ordinal", re.compile(rf"第({_CN})(?:[，,、：:]|部分)")),
    ("ordinal", re.compile(rf"({'|'.join(_EN_ORDINALS.split())})(?:ly)?\s*[,，:：]", re.I)),
    ("ko_ordinal", re.compile(rf"({'|'.join(_KO_ORDINALS.split())})\s*[,，:：]?\s")),
    (
        "roman",
        re.compile(rf"([{''.join(_ROMAN)}])\s*[.．、]?|({'|'.join(_ASCII_ROMAN[::-1])})\.\s"),
    ),
    ("num_paren", re.compile(r"[（(]\s*([0-9]{1,2})\s*[)）]|([0-9]{1,2})\s*[)）]")),
    ("circled", re.compile(r"([①-⑳])")),
    ("num", re.compile(r"([0-9]{1,2})\s*[.、．](?![0-9])")),
    ("ko_letter", re.compile(rf"([{_KO_LETTERS}])\s*[.)]\s")),
)
_TAGS = re.compile(r"^(?:\s*【[^】\n]{0,20}】)+")  # "【篇二】" separates several plans in one file
# A numbered point run into the previous paragraph: "... in April. 3. Strengthened ..."
_INLINE = re.compile(r"(?<=[.!?。！？；;])\s*(?=[0-9]{1,2}(?:\.\s+[A-Z]|、\S))")
_SENTENCE_END = re.compile(r"[。！？；!?;：:]|\.(?:\s|$)")
_CLAUSE_END = re.compile(r"[，,、]")

_EN_MONTHS = "January February March April May June July August September October November December"
_EN_MONTH = re.compile(rf"\b({'|'.join(_EN_MONTHS.split())}|Sept)\b")
_MAY_BEFORE = re.compile(
    r"(?:\bin|\bby|\bof|\bbefore|\buntil|\bduring|\bearly|\blate|\bmid)[\s-]*$"
)
_NUM_MONTH = re.compile(r"(?<![0-9])([0-9]{1,2})\s*[月월]")
_CN_MONTH = re.compile(rf"(?<![一二三四五六七八九十])({_CN})月")

_PCT = r"(?<![0-9.])([0-9]{1,9}(?:\.[0-9]{1,6})?)\s*(?:%|％|percent\b|per\s*cent\b)"
_OPS_BEFORE = {
    ">=": "不低于|不少于|不小于|至少|达到|达|at least|no less than|not less than|a minimum of"
    "|reach",
    "<=": "不高于|不超过|不多于|不大于|最多|at most|no more than|not more than|not exceeding|up to",
    ">": "高于|超过|多于|大于|more than|over|above|exceeding",
    "<": "低于|少于|小于|less than|below|under",
}
_OPS_AFTER = {
    ">=": "及以上|以上|이상|or more|or above|or higher",
    "<=": "及以下|以下|以内|이하|or less|or below|or lower",
    ">": "초과",
    "<": "미만",
}
_TARGETS = [
    (op, re.compile(rf"(?:{words})\s*{_PCT}", re.I)) for op, words in _OPS_BEFORE.items()
] + [(op, re.compile(rf"{_PCT}\s*(?:{words})", re.I)) for op, words in _OPS_AFTER.items()]
_BARE_TARGET = re.compile(_PCT, re.I)
_METRIC_STOP = re.compile(r"[，,。.;；:：、!?！？()（）]")


@dataclass
class _Section:
    title: str
    number: int | None
    items: list[str] = field(default_factory=list)
    marked: int = 0  # items that began with a number of the item style
    numbered: bool = False  # the last item began with a number, so plain paragraphs continue it


def _cn_number(text: str) -> int | None:
    tens, ten, ones = text.partition("十")
    if not ten:
        return _CN_DIGITS.get(text) if len(text) == 1 else None
    high = _CN_DIGITS.get(tens, 0) if tens else 1
    low = _CN_DIGITS.get(ones, 0) if ones else 0
    return high * 10 + low if len(tens) <= 1 and len(ones) <= 1 else None


def _value(style: str, token: str) -> int | None:
    if token.isascii() and token.isdigit():
        return int(token)
    if style in ("ordinal", "ko_ordinal"):
        words = (_EN_ORDINALS if style == "ordinal" else _KO_ORDINALS).split()
        return words.index(token.lower()) + 1 if token.lower() in words else None
    for names in (_ROMAN, _ASCII_ROMAN, list(_KO_LETTERS)):
        if token in names:
            return names.index(token) + 1
    if "①" <= token <= "⑳":
        return ord(token) - ord("①") + 1
    return _cn_number(token)


def _marker(line: str) -> tuple[str, int | None, str] | None:
    """(style, number, rest of the line) when the line starts with a numbering marker."""
    for style, pattern in _STYLES:
        match = pattern.match(line)
        if match:
            token = next((g for g in match.groups() if g), "")
            return style, _value(style, token), line[match.end() :].strip()
    return None


def _clip(text: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", text).strip()
    cut = limit
    while len(text) > limit:  # NFC may lengthen a string, so re-check after cutting
        text = unicodedata.normalize("NFC", text[:cut]).strip()
        cut -= 1
    return text


def _chunks(text: str) -> list[str]:
    """Pieces of at most MAX_TEXT characters, cut at a sentence end where possible."""
    pieces = []
    while len(text) > MAX_TEXT:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, MAX_TEXT)]
        cut = ends[-1] if ends and ends[-1] > MAX_TEXT // 2 else MAX_TEXT
        pieces.append(text[:cut])
        text = text[cut:]
    return [p for p in (*pieces, text) if p.strip()]


def _heading(body: str, fallback: str) -> tuple[str, str]:
    """Split a heading line into a title and the body text that was run into it."""
    end = _SENTENCE_END.search(body)
    title, rest = (body[: end.start()], body[end.end() :]) if end else (body, "")
    if len(title) > 80:
        # A long first sentence: title it by its first clause and keep all of it as text.
        clause = _CLAUSE_END.search(title)
        short = clause is not None and 4 <= clause.start() <= 80
        title = title[: clause.start()] if clause and short else title[:79] + "…"
        rest = body
    title = _clip(title.strip(" \t.。:：,，、;；"), MAX_TITLE) or _clip(fallback, MAX_TITLE)
    return title, rest.strip()


def _due_month(text: str) -> int | None:
    months = [int(m.group(1)) for m in _NUM_MONTH.finditer(text)]
    months += [n for m in _CN_MONTH.finditer(text) if (n := _cn_number(m.group(1)))]
    for m in _EN_MONTH.finditer(text):
        name = m.group(1)
        # "May" is also a verb: only take it when it reads as a date ("in May", "May 1").
        if (
            name != "May"
            or _MAY_BEFORE.search(text[: m.start()])
            or re.match(r"\s+\d", text[m.end() :])
        ):
            months.append(_EN_MONTHS.split().index(name) + 1 if name != "Sept" else 9)
    # The latest month mentioned: "in May, July and September" is done by September.
    return max((n for n in months if 1 <= n <= 12), default=None)


def _target(text: str) -> dict[str, object] | None:
    found = [(m.start(), op, m) for op, pattern in _TARGETS if (m := pattern.search(text))]
    if found:
        _, op, match = min(found, key=lambda f: f[0])
    elif bare := _BARE_TARGET.search(text):
        op, match = ">=", bare  # a bare "100%" in a plan is a level to reach
    else:
        return None
    before = _METRIC_STOP.split(text[: match.start()])[-1].strip()
    after = _METRIC_STOP.split(text[match.end() :])[0].strip()
    metric = before[-60:] if len(before) >= 2 else after[:60]
    metric = _clip(metric, MAX_SHORT) or "target"
    return {"metric": metric, "op": op, "value": float(match.group(1)), "unit": "%"}


def _lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    # Control characters and surrogates would be rejected by validation; they carry no meaning.
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cs") and c != "\n" else c for c in text
    )
    lines = []
    for raw in text.splitlines():
        line = re.sub(r"\s+", " ", _TAGS.sub("", raw)).strip()
        lines += [part.strip() for part in _INLINE.split(line) if part.strip()]
    return lines


def parse_plan_text(text: str, *, year: int) -> PlanContent:
    """Import a plain-text plan: numbered headings become sections and items.

    Numbering styles rank by first appearance, as in any outline. With one style
    it marks sections; with two, the second marks items; with more, the first
    two mark sections, the third items, and deeper ones continue the current
    item. Unnumbered paragraphs continue a numbered item or become items.
    """
    lines = [(line, _marker(line)) for line in _lines(text)]
    order = list(dict.fromkeys(mark[0] for _, mark in lines if mark))
    section_styles = order[: 2 if len(order) > 2 else 1]
    item_style = order[len(section_styles)] if len(order) > 1 else None
    sections: list[_Section] = []
    preamble: list[str] = []
    for line, mark in lines:
        current = sections[-1] if sections else None
        style, number, body = mark or (None, None, line)
        kind = "para" if style is None else "section" if style in section_styles else "more"
        if style is not None and style == item_style and current is not None:
            # "Fourth, ..." then "5. ...": a number continuing the sections' own is a section.
            first = (
                number is not None
                and current.number is not None
                and not current.marked
                and number == current.number + 1
            )
            kind = "section" if first else "item"
        if kind == "section" or (style is not None and current is None):
            title, rest = _heading(body, line)
            sections.append(_Section(title, number, _chunks(rest)))
        elif current is None:
            preamble.append(line)
        elif kind == "item":
            current.items += _chunks(body) or [""]  # "1." alone: the next paragraph is its text
            current.marked += 1
            current.numbered = True
        elif current.numbered and current.items and len(current.items[-1]) + len(line) < MAX_TEXT:
            current.items[-1] += "\n" + line
        else:
            current.items += _chunks(line)
            current.numbered = kind == "more" or current.numbered
    if not sections and preamble:
        title, _ = _heading(preamble[0], preamble[0])
        sections.append(_Section(title, None, [c for p in preamble[1:] for c in _chunks(p)]))
    data = {
        "sections": [
            {"title": s.title, "items": [_item(t) for t in s.items if _clip(t, MAX_TEXT)]}
            for s in sections
        ]
    }
    return PlanContent.from_dict(data, year=year)


def _item(text: str) -> dict[str, object]:
    text = _clip(text, MAX_TEXT)
    return {"text": text, "due": _due_month(text), "target": _target(text)}
