"""A device payload's JSON read as ``json.loads`` reads it, by orjson where that reads the same.

The commit process reads every message a device sends, one after another, and the standard
library's decoder was 7 % of its CPU (bench/mqtt_ingest.py, docs/benchmarks.md); orjson reads
a locker's event in a quarter of the time. What orjson would read otherwise, or refuse, is
left to ``json.loads`` (see :func:`value`), so the protocol's answers do not change.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Every digit as "0": a run of 19 of them may be an integer orjson reads as a float (beyond
# 64 bits). (A regular expression's search took 1.4-2.2 µs a message, this 0.3.)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def value(payload: bytes, text: str) -> Any:
    """``json.loads(text)`` (``text``, the ``payload`` decoded).

    What orjson refuses (``NaN``, a lone surrogate, nesting past 1,024, a number beyond a
    double) goes to ``json.loads``, which accepts or refuses it as before, with its own
    message; so does a payload with a run of 19 digits or more, where orjson would turn an
    integer beyond 64 bits into a float. Everything else orjson reads to the same value
    (tests/protocol/test_json_reading.py compares the two).
    """
    if _NINETEEN_DIGITS not in payload.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
