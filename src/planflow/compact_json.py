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


def compact_json_array(values: Sequence[Any]) -> str:
    """``values`` as a JSON array, in order."""
    out = []
    for value in values:
        # Inline rather than a helper per value: this loop is the whole cost.
        kind = type(value)
        if kind is str:
            out.append(encode_basestring(value))
        elif kind is int:
            out.append(int.__repr__(value))
        elif value is None:
            out.append("null")
        else:
            return _dumps(list(values))
    return "[" + ",".join(out) + "]"


def compact_json_object(values: Mapping[str, Any]) -> str:
    """``values`` as a JSON object, keys in the mapping's order (not sorted)."""
    out = []
    for key, value in values.items():
        kind = type(value)
        if type(key) is not str:
            return _dumps(dict(values))
        if kind is str:
            out.append(encode_basestring(key) + ":" + encode_basestring(value))
        elif kind is int:
            out.append(encode_basestring(key) + ":" + int.__repr__(value))
        elif value is None:
            out.append(encode_basestring(key) + ":null")
        else:
            return _dumps(dict(values))
    return "{" + ",".join(out) + "}"
