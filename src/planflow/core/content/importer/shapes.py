"""The shape of a line: a heading ("Health and safety", "조직 강화") or a sentence.

Numbering alone does not always say where a point belongs: "IV." may
continue a level of headings or a list of inline points that also reached 3.
A reader then goes by shape: a short line with no sentence in it is a
heading like the headings before it; a sentence is an item like the items.
A heading may start with a label that only names a part of the document
("Part 2.", "第二部分：", "□"), which is not its title.
Pure: standard library only.
"""

from __future__ import annotations

import re
import unicodedata

#: A heading is at most this wide (a CJK character counts two): about 30 characters of Chinese.
HEADING_WIDTH = 64
SENTENCE_END = re.compile(r"[。！？；!?;：:]|\.(?:\s|$)")
# A part label or a bullet before a heading's words: "Part 2.", "第二部分：", "제2부", "□".
_LABEL = re.compile(
    r"^(?:[■□◆◇●○▶▷►★☆※\-–—*·•]+\s*"
    r"|(?:part|section)\s+(?:one|two|three|four|five|[0-9]{1,2}|[ivx]{1,4})\s*[:：.\-–—]\s*"
    r"|第[一二三四五六七八九十0-9]{1,3}部分\s*[:：、.，,]?\s*"
    r"|제\s*[0-9]{1,2}\s*부\s*[:：.]?\s*)",
    re.I,
)


_TASK = re.compile(r"[,，、;；0-9%]")


def width(text: str) -> int:
    """Display width: a wide (CJK) character counts two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def unlabelled(text: str) -> str:
    """``text`` without a leading part label or bullet ("Part 2. Our plan" → "Our plan")."""
    return _LABEL.sub("", text.strip(), count=1).strip()


def is_heading(text: str) -> bool:
    """A short line with no sentence in it (a trailing colon is allowed)."""
    words = unlabelled(text).rstrip(":： ")
    return 0 < width(words) <= HEADING_WIDTH and not SENTENCE_END.search(words)


def is_title(text: str) -> bool:
    """A heading that names a topic: no clause and no figure in it ("Culture", "조직 강화").

    Items are often written without a full stop ("会员入会率达到95%,六月完成"); a
    comma or a figure says the line is a task, not the name of a part of the plan.
    """
    return is_heading(text) and not _TASK.search(unlabelled(text))
