"""Refusals as the command line words them, in the language a command is given (``--lang``).

The command line speaks English (``Refusal.message``), but a refusal that
names the definition's own words says them in the reader's language: the
inspection that did not pass lists its criteria to rectify by the scoring
sheet's texts, and its sentence is in that language too. Other codes keep
the library's English sentence, and a refusal line with one of them among its
reasons stays English throughout: half a sentence in each language reads worse
than either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planflow.core.notes import number
from planflow.errors import GuardFailed, Refusal

LANGUAGES = ("en", "zh", "ko")

#: The codes this module words in Chinese and Korean.
WORDED = frozenset({"inspection_failed"})
#: The sentences in Chinese and Korean; English is the library's own (``Refusal.message``).
_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "refused": "操作“{action}”被拒绝：{reasons}",
        "sep": "；",
        "list": "，",
        "failed": "检查未通过",
        "criteria": "需要整改的项目：{criteria}",
        "total": "检查员评分合计 {total} 分，低于合格线 {mark} 分",
        "why": "{failed}（{details}）",
    },
    "ko": {
        "refused": "‘{action}’ 작업이 거부되었습니다: {reasons}",
        "sep": "; ",
        "list": ", ",
        "failed": "점검을 통과하지 못했습니다",
        "criteria": "시정할 항목: {criteria}",
        "total": "점검자 합계 {total}점은 합격 기준 {mark}점에 못 미칩니다",
        "why": "{failed} ({details})",
    },
}


def refusal_words(refusal: Refusal, lang: str = "en") -> str:
    """One refusal in ``lang`` where this module words its code; else its English message."""
    if refusal.code not in WORDED or lang not in _TEXTS:  # English among them
        return refusal.message
    return _inspection_failed(refusal.params, _TEXTS[lang], lang)


def guard_failed_words(error: GuardFailed, lang: str = "en") -> str:
    """``GuardFailed`` as one line in ``lang``; the library's English for English, or
    when a reason's code is not one this module words (no line of two languages)."""
    if lang not in _TEXTS or any(r.code not in WORDED for r in error.refusals):
        return str(error)
    t = _TEXTS[lang]
    reasons = t["sep"].join(refusal_words(r, lang) for r in error.refusals)
    return t["refused"].format(action=error.action, reasons=reasons)


def _inspection_failed(p: Mapping[str, Any], t: Mapping[str, str], lang: str) -> str:
    details = []
    criteria: Sequence[Any] = p.get("criteria", ())
    named = [_criterion(c, lang) for c in criteria if isinstance(c, Mapping)]
    if named:
        details.append(t["criteria"].format(criteria=t["list"].join(named)))
    if "total" in p and "pass_mark" in p:
        details.append(t["total"].format(total=number(p["total"]), mark=number(p["pass_mark"])))
    if not details:
        return t["failed"]
    return t["why"].format(failed=t["failed"], details=t["sep"].join(details))


def _criterion(criterion: Mapping[str, Any], lang: str) -> str:
    code = str(criterion.get("code", ""))
    texts = criterion.get("text")
    text = (texts.get(lang) or texts.get("en")) if isinstance(texts, Mapping) else None
    return f"{code} {text}" if text else code
