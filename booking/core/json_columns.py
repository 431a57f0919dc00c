"""How a JSON column's value is written to the database: by orjson, meaning what the
standard library's ``json.dumps`` (SQLAlchemy's default) wrote.

Every event a locker sends is kept in the device ledger with its payload in a JSON column, and
writing that payload with ``json.dumps`` took 2.5 µs of the 30 the commit process spends on an
event; orjson takes 0.2 (docs/benchmarks.md, twentieth session). The commit process is the stage
every device message goes through, one at a time.

Only the text's form changes (compact, non-ASCII as UTF-8 rather than ``\\uXXXX``): the same
JSON to PostgreSQL, to SQLite's JSON functions and to ``json.loads``. What orjson would write
differently is left to ``json.dumps``, as before:

- what orjson refuses (an integer beyond 64 bits) or would write where ``json.dumps`` refuses
  (dates, dataclasses: passed through, so it refuses them too);
- not-a-number and infinities, which orjson writes as ``null`` and ``json.dumps`` as ``NaN``
  (SQLite keeps that, PostgreSQL refuses it): a text with a ``null`` in it is written again by
  ``json.dumps``, so no number turns into a null.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any) -> str:
    """``value`` as JSON text, for SQLAlchemy's ``json_serializer``."""
    try:
        written = orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value)
    if b"null" in written:
        return json.dumps(value)
    return written.decode()
