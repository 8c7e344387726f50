"""Compact JSON text for flat values, written directly, byte for byte the standard text.

The audit form (an array) and a notification's payload (an object) are
written on every transition. ``json.JSONEncoder.encode`` builds a new C
encoder object on each call, which costs more than the encoding of a dozen
strings and integers; writing those directly is a third cheaper. Anything
else (floats, nested values) goes to the standard encoder, so the text is
always what ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``
gives (the tests compare the two on random values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _scalar(value: Any) -> str | None:
    """The text of a string, integer or null; None for anything else."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return None


def compact_json_array(values: Sequence[Any]) -> str:
    """``values`` as a JSON array, in order."""
    out = []
    for value in values:
        text = _scalar(value)
        if text is None:
            return _dumps(list(values))
        out.append(text)
    return "[" + ",".join(out) + "]"


def compact_json_object(values: Mapping[str, Any]) -> str:
    """``values`` as a JSON object, keys in the mapping's order (not sorted)."""
    out = []
    for key, value in values.items():
        text = _scalar(value)
        if text is None or type(key) is not str:
            return _dumps(dict(values))
        out.append(encode_basestring(key) + ":" + text)
    return "{" + ",".join(out) + "}"
