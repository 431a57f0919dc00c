"""A device's payload is read by orjson where it reads as json.loads does, and by json.loads
where it would not: every text gives the same value, or is refused with the same message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.protocol import json_reading
from devices.protocol.messages import Event, parse


def _read(read: Any, text: str) -> tuple[str, str]:
    """What reading ``text`` gives: its value's repr (NaN compares by repr), or the error."""
    try:
        return "value", repr(read(text))
    except (ValueError, RecursionError) as error:
        return type(error).__name__, str(error)


def _ours(text: str) -> Any:
    return json_reading.value(text.encode("utf-8", "surrogatepass"), text)


@pytest.mark.parametrize(
    "text",
    [
        '{"v":1,"device":"d1","session":7,"seq":9,"type":"door_left_open","open_seconds":60}',
        '{"big": 123456789012345678901234567890}',  # beyond 64 bits: orjson would give a float
        '{"low": -9999999999999999999}',  # below a signed 64-bit integer
        '{"top": 18446744073709551615}',
        '{"a": NaN, "b": Infinity, "c": -Infinity}',  # not JSON, but json.loads takes them
        '"\\ud800"',  # a lone surrogate
        "1e999",  # beyond a double: json.loads gives inf
        "[" * 1500 + "]" * 1500,  # deeper than orjson goes
        '{"a": 1, "a": 2}',
        ' {"x" : [1, 2.5, -0.0, 1E5, true, false, null, "中\\u0000\\n"]} ',
        "\ufeff{}",
        '{"a": 1} x',
        "",
        "01",
        '{"a": "\x01"}',
        "0.1e-400",
        '"\\uD83D\\uDE00"',
    ],
)
def test_each_text_reads_as_json_loads_reads_it(text: str) -> None:
    assert _read(_ours, text) == _read(json.loads, text)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, indent=st.sampled_from([None, 0, 2]), ascii_only=st.booleans())
def test_any_json_text_reads_as_json_loads_reads_it(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert _read(_ours, text) == _read(json.loads, text)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, cut=st.integers(min_value=0, max_value=200), junk=st.text(max_size=3))
def test_broken_json_is_refused_or_read_as_json_loads_does(value: Any, cut: int, junk: str) -> None:
    text = json.dumps(value)
    broken = text[:cut] + junk + text[cut + 1 :]
    assert _read(_ours, broken) == _read(json.loads, broken)


def test_an_open_door_of_more_than_64_bits_of_seconds_stays_a_whole_number() -> None:
    payload = (
        '{"v":1,"device":"locker-a","session":7,"seq":9,"ts":"2026-11-24T01:30:00.000Z",'
        '"type":"door_left_open","compartment":3,"open_seconds":123456789012345678901234567890}'
    )
    message = parse("linli/v1/site-a/locker-a/event", payload.encode()).message
    assert isinstance(message, Event)
    assert message.fields["open_seconds"] == 123456789012345678901234567890
    assert isinstance(message.fields["open_seconds"], int)
