"""Decoding a plain-text plan whose encoding nobody stated.

Plans arrive as UTF-8 (with or without a BOM), as GB18030/GBK from Chinese
Windows, as EUC-KR/CP949 from Korean Windows, now and then as UTF-16 with a
BOM (Notepad's "Unicode"). UTF-8 is tried first: text in the other
encodings almost never decodes as valid UTF-8. GB18030 and CP949 share
their byte ranges, so both often decode the same bytes without an error;
what tells them apart is the result: Korean read as CP949 is nearly all
Hangul, while Chinese read as CP949 comes out as a mix of Hangul and Hanja
(and Korean read as GB18030 is Chinese characters between the spaces of a
Korean sentence). So a CP949 reading that is mostly Hangul, with no
word that mixes Hangul and Hanja, wins; else GB18030. Only these candidates
are tried: no guessing among encodings no union uses. Binary data is
refused by its NUL and control bytes.
"""

from __future__ import annotations

import codecs
import re

#: A CP949 reading is Korean when at least this share of its CJK letters is Hangul.
HANGUL_SHARE = 0.7
_CONTROLS = frozenset({*range(0x20), 0x7F} - {0x09, 0x0A, 0x0C, 0x0D})


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control bytes, in the first 8 KiB: not a text file."""
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = sum(1 for b in head if b in _CONTROLS)
    return b"\x00" in head or controls > max(4, len(head) // 100)


def _reads_korean(text: str) -> bool:
    """Whether a CP949 reading is Korean: mostly Hangul, words not mixed with Hanja.

    Chinese read as CP949 comes out as runs like "쾨묏삔묏鱗셕뺍": Hangul and Hanja
    inside one word, which Korean never writes (Hanja words stand apart).
    """
    runs = re.findall(r"[\uac00-\ud7a3\u4e00-\u9fff\uf900-\ufaff]+", text)
    hangul = sum(1 for c in text if "\uac00" <= c <= "\ud7a3")
    letters = sum(len(run) for run in runs)
    mixed = sum(
        1
        for run in runs
        if re.search(r"[\uac00-\ud7a3]", run) and re.search(r"[^\uac00-\ud7a3]", run)
    )
    return bool(letters) and hangul >= HANGUL_SHARE * letters and mixed * 10 <= len(runs)


def decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) of ``data``, or None when no candidate decodes it."""
    if data.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8",)
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    if candidates != ("utf-8",):
        return None  # a BOM that lies: the file is damaged
    readings = {}
    for encoding in ("cp949", "gb18030"):
        try:
            readings[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    korean = readings.get("cp949")
    if korean is not None and _reads_korean(korean):
        return korean, "cp949"
    if "gb18030" in readings:
        return readings["gb18030"], "gb18030"
    return (korean, "cp949") if korean is not None else None
