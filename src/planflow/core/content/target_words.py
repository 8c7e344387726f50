"""How a target reads: a comparison as a phrase code and its parameters, for clients to word.

A target is stored as ``metric``, ``op`` (``>=``, ``<=``, ``=``, ``>``, ``<``),
``value`` and ``unit``; people do not read ``>=``. The library names the
phrase (``at_least`` ...) with its parameters (``metric``, ``amount``), and
each client says it in its reader's language: the web through gettext, the
.docx writer through its phrase table, the command line and the logs in the
English given here. The JSON and the API keep the operator.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The phrase of each comparison, in the order the editor offers them.
PHRASES: dict[str, str] = {
    ">=": "at_least",
    "<=": "at_most",
    "=": "exactly",
    ">": "more_than",
    "<": "less_than",
}

#: Each phrase in each language the library writes itself (the command line and
#: logs read English; the .docx writer and the audit notes the reader's language).
#: The web UI has the same phrases in its gettext catalogues.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "at_least": "{metric} at least {amount}",
        "at_most": "{metric} at most {amount}",
        "exactly": "{metric} exactly {amount}",
        "more_than": "{metric} more than {amount}",
        "less_than": "{metric} less than {amount}",
    },
    "zh": {
        "at_least": "{metric}不少于 {amount}",
        "at_most": "{metric}不超过 {amount}",
        "exactly": "{metric}等于 {amount}",
        "more_than": "{metric}超过 {amount}",
        "less_than": "{metric}少于 {amount}",
    },
    "ko": {
        "at_least": "{metric} {amount} 이상",
        "at_most": "{metric} {amount} 이하",
        "exactly": "{metric} 정확히 {amount}",
        "more_than": "{metric} {amount} 초과",
        "less_than": "{metric} {amount} 미만",
    },
}
ENGLISH = WORDS["en"]

#: The comparison alone, in English (the editor's choice, the command line's help).
ENGLISH_OPS: dict[str, str] = {
    ">=": "at least",
    "<=": "at most",
    "=": "exactly",
    ">": "more than",
    "<": "less than",
}


@dataclass(frozen=True, slots=True)
class TargetWording:
    """A target as a phrase: ``code`` (a key of ``ENGLISH``), the metric and the amount.

    ``amount`` is the value with its unit, already written (``99.5%``, ``3期``).
    """

    code: str
    metric: str
    amount: str

    def english(self) -> str:
        return self.said("en")

    def said(self, lang: str) -> str:
        """The phrase in ``lang`` (English for a language the library does not write)."""
        phrase = WORDS.get(lang, ENGLISH)[self.code]
        return phrase.format(metric=self.metric, amount=self.amount)


def meets(op: str, actual: float, value: float) -> bool:
    """Whether ``actual`` meets the target ``op value`` (one rule for items and criteria)."""
    return {
        ">=": actual >= value,
        "<=": actual <= value,
        ">": actual > value,
        "<": actual < value,
        "=": actual == value,
    }[op]


def target_wording(metric: str, op: str, value: float, unit: str) -> TargetWording:
    """The phrase for ``metric op value unit`` (the amount as ``amount_text`` writes it)."""
    return TargetWording(PHRASES[op], metric, amount_text(value, unit))


#: Units written against the number in every language: "100%", not "100 %".
_SIGNS = frozenset("%‰°℃℉‱")


def amount_text(value: float, unit: str) -> str:
    """A value with its unit as people write it: "100%", "3期", "6회", "40 members".

    A sign (``%``) and a Chinese, Japanese or Korean counter ("期", "次", "회")
    follow the number directly; a unit in words is set apart by a space.
    """
    number = f"{value:g}"
    unit = unit.strip()
    if not unit:
        return number
    if unit[0] in _SIGNS or _cjk(unit[0]):
        return f"{number}{unit}"
    return f"{number} {unit}"


def _cjk(char: str) -> bool:
    """A Han character, kana or Hangul (a counter written against its number)."""
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x9FFF  # Han (extension A and unified)
        or 0xF900 <= code <= 0xFAFF  # Han compatibility
        or 0x1100 <= code <= 0x11FF  # Hangul jamo
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0x20000 <= code <= 0x3FFFF  # Han extensions B and later
    )
