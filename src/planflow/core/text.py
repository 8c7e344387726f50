"""Text hygiene: the one check for text a person typed, before the library stores it.

PostgreSQL refuses a NUL byte in a text column with a raw ``DataError`` (a
500 in any caller), and neither database should keep other control
characters or unpaired surrogates: nobody types them on purpose, and a
surrogate cannot be encoded as UTF-8 for the audit hash. ``clean_text``
turns such input into a ``ValidationError`` that names the field, before
anything is written.

On the way out, ``csv_cell`` makes a value safe to open in a spreadsheet:
every CSV the project writes (the audit export of the command line and of
the web admin, the officers' overview) goes through it. It is pure: no
database, no web framework.
"""

from __future__ import annotations

import re

from planflow.errors import ValidationError

#: A comment someone writes on a plan (the web form has the same limit).
MAX_COMMENT = 4000
#: A plan's title.
MAX_PLAN_TITLE = 300
#: The comment of an audit record (``PlanService.fire``/``mutate``): a bound
#: against abuse, not a style limit. People's comments are held to
#: ``MAX_COMMENT`` where they are taken; this one also carries text the
#: library assembles (an inspection's rectification points with the
#: inspector's notes), which can be longer.
MAX_RECORD_COMMENT = 100_000

# Unicode category Cc (U+0000-001F, U+007F-009F) and unpaired surrogates (Cs).
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same without TAB and LF (CR is turned into LF first).
_REFUSED_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class TextError(ValidationError):
    """Text refused by ``clean_text``; ``field`` names it, ``problem`` says what is wrong."""

    def __init__(
        self, field: str, problem: str, code: str = "text_invalid", **params: object
    ) -> None:
        super().__init__(f"{field} {problem}", code=code, params={"field": field, **params})
        self.field = field
        self.problem = problem


def clean_text(value: str, *, field: str, max_length: int, multiline: bool = False) -> str:
    """``value`` trimmed (line breaks normalised to ``\\n``), or ``TextError``.

    Refuses control characters (``\\n`` and ``\\t`` are allowed in
    ``multiline`` text, where ``\\r\\n`` and a lone ``\\r`` become ``\\n``),
    unpaired surrogates, and text longer than ``max_length`` characters once
    trimmed. Blank text comes back as ``""``: whether that is allowed is the
    caller's rule. Other text passes unchanged.
    """
    if not isinstance(value, str):
        raise TextError(field, f"must be text, not {type(value).__name__}", "text_not_text")
    text = value
    if multiline and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip()
    if len(text) > max_length:
        raise TextError(
            field,
            f"can have at most {max_length} characters (it has {len(text)})",
            "text_too_long",
            max=max_length,
            length=len(text),
        )
    bad = (_REFUSED_MULTILINE if multiline else _REFUSED).search(text)
    if bad is not None:
        char = bad.group()
        what = "unpaired surrogate" if "\ud800" <= char <= "\udfff" else "control character"
        raise TextError(
            field,
            f"must not contain the {what} U+{ord(char):04X} (character {bad.start() + 1})",
            "text_control_character",
            char=f"U+{ord(char):04X}",
            position=bad.start() + 1,
        )
    return text


#: A cell starting with one of these is a formula to a spreadsheet (=, +, - and @ start
#: one; a leading tab or carriage return is dropped by some, exposing what follows).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text and never runs as a formula.

    A cell that would start a formula gets a leading apostrophe, which
    spreadsheets take as "this is text"; ``None`` is an empty cell.
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
