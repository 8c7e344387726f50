"""compact_json writes exactly the standard encoder's text, so hashes never change.

That the audit form itself is unchanged is pinned by
``tests/test_audit.py::test_canonical_form_is_fixed``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planflow.core import compact_json
from planflow.core.audit_chain import utc_isoformat
from planflow.core.compact_json import compact_json_array, compact_json_object, sorted_json
from planflow.storage.tx import sqlite_datetime


def standard(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


flat = st.one_of(st.none(), st.integers(), st.text())
anything = st.recursive(
    st.one_of(flat, st.booleans(), st.floats(allow_nan=False)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@given(st.lists(flat, max_size=15))
def test_an_array_of_strings_integers_and_nulls_is_the_standard_text(values: list[object]) -> None:
    assert compact_json_array(values) == standard(values)


@given(st.lists(anything, max_size=6))
def test_any_other_array_falls_back_to_the_standard_text(values: list[object]) -> None:
    assert compact_json_array(values) == standard(values)


@given(st.dictionaries(st.text(), anything, max_size=8))
def test_an_object_keeps_its_key_order_and_the_standard_text(values: dict[str, object]) -> None:
    assert compact_json_object(values) == standard(values)


def test_control_characters_quotes_and_other_scripts_are_escaped_as_json_does() -> None:
    values = ['say "hi"\\\n\t\x00', "工会工作计划", "노동조합", 2**70, -1, None, True, 1.5]
    assert compact_json_array(values) == standard(values)
    assert compact_json_object({"a\n": "검사", "b": False}) == standard({"a\n": "검사", "b": False})


def test_the_remembered_timestamp_text_follows_the_value() -> None:
    first = datetime(2027, 4, 1, 8, 0, tzinfo=UTC)
    assert utc_isoformat(first) == "2027-04-01T08:00:00.000000+00:00"
    seoul = first.astimezone(timezone(timedelta(hours=9)))
    assert utc_isoformat(seoul) == "2027-04-01T08:00:00.000000+00:00"
    later = first + timedelta(microseconds=7)
    assert utc_isoformat(later) == "2027-04-01T08:00:00.000007+00:00"
    assert utc_isoformat(first) == "2027-04-01T08:00:00.000000+00:00"


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2), timezones=st.sampled_from([UTC, timezone(timedelta(hours=9))])
    )
)
def test_the_timestamp_texts_are_isoformats(at: datetime) -> None:
    utc = at.astimezone(UTC)
    assert utc_isoformat(at) == utc.isoformat(timespec="microseconds")
    assert sqlite_datetime(at) == utc.replace(tzinfo=None).isoformat(" ", "microseconds")


@given(st.lists(anything, max_size=6))
def test_a_tuple_and_the_fallback_give_the_same_text(values: list[object]) -> None:
    assert compact_json_array(tuple(values)) == standard(values)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compact_json, "_encode", None)
        assert compact_json_array(values) == standard(values)
        assert compact_json_object({"k": values}) == standard({"k": values})


def test_special_floats_other_keys_and_other_mappings_are_as_json_does() -> None:
    values = [float("nan"), float("inf"), -0.0, 1e300]
    assert compact_json_array(values) == standard(values)
    assert compact_json_object({1: "one", "two": 2.5}) == standard({1: "one", "two": 2.5})  # type: ignore[dict-item]
    proxy = MappingProxyType({"a": 1, "b": [None]})
    assert compact_json_object(proxy) == standard(dict(proxy))


def test_a_value_json_cannot_write_is_refused_like_json_does() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        compact_json_array([object()])
    with pytest.raises(TypeError, match="not JSON serializable"):
        compact_json_object({"when": datetime(2027, 1, 1, tzinfo=UTC)})


@given(st.one_of(anything, st.dictionaries(st.text(), anything, max_size=8)))
def test_sorted_json_is_json_dumps_with_sorted_keys(value: object) -> None:
    want = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert sorted_json(value) == want
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compact_json, "_encode_sorted", None)
        assert sorted_json(value) == want
