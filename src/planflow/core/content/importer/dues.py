"""Due months and measurable targets, read from an item's own words.

A month is taken only where the text names one: "in April", "by the end of
December", "4月", "四月", "4 월" (machine translation leaves the space),
"年底"/"year-end" (December), "上半年"/"first half" (June), "第三季度"/"third
quarter" (September). "May, July and September" is done by September: the
latest month named is the due month, the others stay in the text. Noise such
as "1 2月" (a stray space inside a number) names no month, so none is
invented. Targets: "100%", "不低于90%", "more than 60%", "at least 95 percent",
"不少于6次", "연 2회 이상", "no fewer than 8 meetings" (counts: a comparator and a
number of something; a bare count is no target), every one in the order written.
Pure: standard library only.
"""

from __future__ import annotations

import re

from planflow.core.content.importer.markers import cn_number

_CN = "[一二三四五六七八九十]{1,3}"
#: The English month names, read here and written by the document export
#: (``planflow.integrations.documents.texts.month``): one table, so what is
#: written is what is read back.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_EN_MONTH = re.compile(rf"\b({'|'.join(MONTH_NAMES)}|Sept)\b")
_MAY_BEFORE = re.compile(
    r"(?:\bin|\bby|\bof|\bbefore|\buntil|\bduring|\bearly|\blate|\bmid|\bend"
    r"|\b[0-9]{1,2}(?:st|nd|rd|th)?)[\s-]*$",  # "on 1 May", "the 1st May"
    re.I,
)
# A digit or a digit and a space before the number: "1 2月" is noise, not February.
_NUM_MONTH = re.compile(r"(?<![0-9])(?<![0-9]\s)([0-9]{1,2})\s?(?:月|월)")
_CN_MONTH = re.compile(rf"(?<![一二三四五六七八九十两几每])({_CN})月")
_PERIODS = (
    (
        re.compile(r"年底|(?<!学)年末|年终|岁末|연말|year[-\s]end|end of (?:the|this) year", re.I),
        12,
    ),
    (re.compile(r"上半年|상반기|first half(?: of the year)?", re.I), 6),
    (re.compile(r"下半年|하반기|second half(?: of the year)?", re.I), 12),
    (re.compile(r"第?([一二三四1-4])\s?季度"), 0),
    (re.compile(r"([1-4])\s?분기"), 0),
    (re.compile(r"\b(first|second|third|fourth)\s+quarter\b|\bQ([1-4])\b", re.I), 0),
)
_QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "first": 1, "second": 2, "third": 3}
_QUARTER_WORDS["fourth"] = 4

_NUMBER = r"([0-9]{1,9}(?:\.[0-9]{1,6})?)"
_PCT = rf"(?<![0-9.]){_NUMBER}\s*(%|％|percent\b|per\s*cent\b|퍼센트)"
# An English count is a plural noun after the number ("at least 6 workshops"); a span
# of time ("over 3 years") is a duration, not something to count.
_EN_COUNT = r"(?!(?:years|months|weeks|days|hours|minutes)\b)[a-z]{2,}s\b"
_COUNT_UNIT = rf"(人次|次|个|场|期|项|家|篇|名|人|户|회|명|건|개|{_EN_COUNT})"
_OPS_BEFORE = {
    ">=": "不低于|不少于|不小于|至少|达到|达|at least|no less than|not less than|a minimum of"
    "|no fewer than|not fewer than"
    "|reach",
    "<=": "不高于|不超过|不多于|不大于|最多|控制在|at most|no more than|not more than"
    "|not exceeding|up to",
    ">": "高于|超过|多于|大于|more than|over|above|exceeding",
    "<": "低于|少于|小于|less than|fewer than|below|under",
}
_OPS_AFTER = {
    ">=": "及以上|以上|이상|or more|or above|or higher",
    "<=": "及以下|以下|以内|이하|or less|or below|or lower",
    ">": "초과",
    "<": "미만",
}
_WITH_OP = [
    (op, re.compile(rf"(?:{words})\s*{_PCT}", re.I)) for op, words in _OPS_BEFORE.items()
] + [(op, re.compile(rf"{_PCT}\s*(?:{words})", re.I)) for op, words in _OPS_AFTER.items()]
_COUNTS = [
    (op, re.compile(rf"(?:{words})\s*{_NUMBER}\s*{_COUNT_UNIT}", re.I))
    for op, words in _OPS_BEFORE.items()
]
_COUNTS += [
    (op, re.compile(rf"{_NUMBER}\s*{_COUNT_UNIT}\s*(?:{words})", re.I))
    for op, words in _OPS_AFTER.items()
]
_BARE = re.compile(_PCT, re.I)
# English words that only join a metric to its figure: "with a turnout of at least 80%".
_JOINING = r"(?:with|of|for|to|by|at|in|on|a|an|the)"
_FUNCTION_WORDS = re.compile(rf"^(?:{_JOINING}\b\s*)+|(?:\b{_JOINING}\s*)+$", re.I)
_METRIC_STOP = re.compile(r"[，,。.;；:：、!?！？()（）]|\band\b")


def _quarter_end(match: re.Match[str]) -> int | None:
    token = next((g for g in match.groups() if g), "")
    number = _QUARTER_WORDS.get(token.lower()) or (int(token) if token.isdigit() else None)
    return number * 3 if number and 1 <= number <= 4 else None


def due_month(text: str) -> int | None:
    """The latest month ``text`` names, or None; never a month it does not name."""
    months = [int(m.group(1)) for m in _NUM_MONTH.finditer(text)]
    months += [n for m in _CN_MONTH.finditer(text) if (n := cn_number(m.group(1)))]
    for m in _EN_MONTH.finditer(text):
        name = m.group(1)
        # "May" is also a verb: only take it when it reads as a date ("in May", "May 1",
        # "on 1 May", "May Day").
        if (
            name != "May"
            or _MAY_BEFORE.search(text[: m.start()])
            or re.match(r"\s+\d|,\s*(?:June|July|August)|\s+Day\b", text[m.end() :])
        ):
            months.append(9 if name == "Sept" else MONTH_NAMES.index(name) + 1)
    for pattern, month in _PERIODS:
        for m in pattern.finditer(text):
            found = month or _quarter_end(m)
            if found:
                months.append(found)
    return max((n for n in months if 1 <= n <= 12), default=None)


def _metric(text: str, start: int, end: int) -> str:
    clauses = [c.strip() for c in _METRIC_STOP.split(text[:start])]
    before = _FUNCTION_WORDS.sub("", clauses[-1]).strip()
    if not before and clauses[-1] and len(clauses) > 1:
        # "Run the book club, with at least 8 meetings": the club is what is counted.
        before = _FUNCTION_WORDS.sub("", clauses[-2]).strip()
    after = _FUNCTION_WORDS.sub("", _METRIC_STOP.split(text[end:])[0].strip()).strip()
    metric = before[-60:] if len(before) >= 2 else after[:60]
    return metric.strip() or "target"


def targets(text: str) -> list[dict[str, object]]:
    """Every target ``text`` states, in order: ``{"metric", "op", "value", "unit"}``."""
    found: list[tuple[int, int, str, re.Match[str], str]] = []
    for op, pattern in _WITH_OP:
        found += [(m.start(), m.end(), op, m, "%") for m in pattern.finditer(text)]
    for op, pattern in _COUNTS:
        found += [(m.start(), m.end(), op, m, m.group(2)) for m in pattern.finditer(text)]
    taken = [(s, e) for s, e, *_ in found]
    for m in _BARE.finditer(text):  # a bare "100%" in a plan is a level to reach
        if not any(s <= m.start() < e for s, e in taken):
            found.append((m.start(), m.end(), ">=", m, "%"))
    result, last_end = [], -1
    for start, end, op, match, unit in sorted(found, key=lambda f: (f[0], -f[1])):
        if start < last_end:
            continue  # "不低于90%" also matches as a bare "90%"
        last_end = end
        metric = _metric(text, start, end)
        unit = "%" if unit in ("%", "％") or unit.lower().startswith("per") else unit
        value = float(match.group(1))
        result.append({"metric": metric, "op": op, "value": value, "unit": unit})
    return result
