"""dumps_readable writes the value json.dumps writes, indented only at the outer levels."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jakreg.jsontext import compact_encoder, dumps_readable

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(JSON, st.integers(0, 4))
def test_same_value_as_json_dumps(value: Any, depth: int) -> None:
    assert json.loads(dumps_readable(value, depth=depth)) == json.loads(json.dumps(value))


def test_outer_levels_indented_deeper_on_one_line() -> None:
    doc = {"a": 1, "visits": [{"x": [1, 2]}, {"x": []}], "empty": []}
    assert dumps_readable(doc) == (
        '{\n "a": 1,\n "visits": [\n  {"x": [1, 2]},\n  {"x": []}\n ],\n "empty": []\n}'
    )
    assert dumps_readable(doc, depth=0) == json.dumps(doc)
    assert dumps_readable("é", ensure_ascii=False) == '"é"'


@given(JSON, st.booleans())
def test_compact_encoder_writes_what_json_dumps_writes(value: Any, ascii_only: bool) -> None:
    encode = compact_encoder(ensure_ascii=ascii_only)
    assert encode(value) == json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":"))
    spaced = compact_encoder(ensure_ascii=ascii_only, separators=(", ", ": "))
    assert spaced(value) == json.dumps(value, ensure_ascii=ascii_only)


def test_compact_encoder_default_and_refusals() -> None:
    day = dt.date(2026, 12, 7)
    assert compact_encoder(default=dt.date.isoformat)([day]) == '["2026-12-07"]'
    with pytest.raises(TypeError, match="date is not JSON serializable"):
        compact_encoder()(day)
    with pytest.raises(ValueError, match="Out of range float"):
        compact_encoder(allow_nan=False)(float("nan"))
