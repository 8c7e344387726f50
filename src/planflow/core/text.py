"""Text hygiene: the one check for text a person typed, before the library stores it.

PostgreSQL refuses a NUL byte in a text column with a raw ``DataError`` (a
500 in any caller), and neither database should keep other control
characters or unpaired surrogates: nobody types them on purpose, and a
surrogate cannot be encoded as UTF-8 for the audit hash. Bidirectional
controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) make displayed text lie
about what it says ("report\u202efdp.exe" shows as "reportexe.pdf"), in a
title, a comment or a unit name as much as in a file name; planflow's
languages never need them. ``clean_text`` turns such input into a
``ValidationError`` that names the field, before anything is written;
``refused_character`` is the same rule for a form that checks before sending.

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
#: A unit's name, and a person's display name.
MAX_UNIT_NAME = 300
MAX_DISPLAY_NAME = 200
#: The comment of an audit record (``PlanService.fire``/``mutate``): a bound
#: against abuse, not a style limit. People's comments are held to
#: ``MAX_COMMENT`` where they are taken; this one also carries text the
#: library assembles (an inspection's rectification points with the
#: inspector's notes), which can be longer.
MAX_RECORD_COMMENT = 100_000

#: Bidirectional controls: embeddings, overrides and isolates, and the marks
#: (LRM, RLM, ALM), which reorder what follows them too.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Unicode category Cc (U+0000-001F, U+007F-009F), unpaired surrogates (Cs), bidi controls.
_REFUSED = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")
# The same without TAB and LF (CR is turned into LF first).
_REFUSED_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")


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
    refused = refused_character(text, multiline=multiline)
    if refused is not None:
        position, char = refused
        kind = _kind(char)
        raise TextError(
            field,
            f"must not contain the {kind} U+{ord(char):04X} (character {position})",
            "text_bidi_control" if kind == "bidirectional control" else "text_control_character",
            char=f"U+{ord(char):04X}",
            position=position,
        )
    return text


def refused_character(text: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The first character ``clean_text`` refuses, with its 1-based position, or None.

    ``\r`` counts as a line break in ``multiline`` text.
    """
    pattern = _REFUSED_MULTILINE if multiline else _REFUSED
    bad = pattern.search(text.replace("\r", "\n") if multiline else text)
    return None if bad is None else (bad.start() + 1, bad.group())


def _kind(char: str) -> str:
    if "\ud800" <= char <= "\udfff":
        return "unpaired surrogate"
    if char in BIDI_CONTROLS:
        return "bidirectional control"
    return "control character"


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
