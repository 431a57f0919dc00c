"""The contract's JSON schemas (``docs/schemas``): the validator exactly as written, and the
flattened, compiled validators the ingest checks each payload with first (~2 µs a message).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator

from devices.protocol.flat_schemas import NotFlattenable, flatten

log = logging.getLogger(__name__)


def schema_dir() -> Path:
    """``docs/schemas`` in a checkout, ``devices/schemas`` in an installed wheel."""
    # devices/protocol/ in a checkout, whose docs/ sits beside devices/; an installed wheel
    # carries the schemas as devices/schemas (pyproject's force-include).
    devices_dir = Path(__file__).resolve().parent.parent
    for candidate in (devices_dir.parent / "docs" / "schemas", devices_dir / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("protocol schemas not found in docs/schemas or devices/schemas")


@cache
def _schema(schema_file: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((schema_dir() / schema_file).read_text(encoding="utf-8"))
    return loaded


# The field whose value picks a schema's `if` branches; the flat schemas are keyed by it.
DISCRIMINATORS: Mapping[str, str] = {
    "event.json": "type",
    "birth.json": "kind",
    "reply.json": "status",
}


@cache
def validator(schema_file: str) -> Draft202012Validator:
    """The contract's validator for a schema file, exactly as written."""
    return Draft202012Validator(_schema(schema_file))


@cache
def flat_schemas(schema_file: str) -> Mapping[Any, dict[str, Any]]:
    """Equivalent flattened schemas (:mod:`devices.protocol.flat_schemas`), one per value of the
    schema's discriminator (key ``None`` for a schema without one).

    A value whose branches cannot be flattened is left out: messages with it meet the full
    schema, which is slower but the contract itself.
    """
    schema = _schema(schema_file)
    field = DISCRIMINATORS.get(schema_file)
    values: list[Any] = [None] if field is None else list(schema["properties"][field]["enum"])
    found: dict[Any, dict[str, Any]] = {}
    for value in values:
        try:
            found[value] = flatten(schema, field, value)
        except NotFlattenable as error:
            log.warning("%s for %s=%r not flattened: %s", schema_file, field, value, error)
    return found


@cache
def _fast_validators(schema_file: str) -> Mapping[Any, Any]:
    # jsonschema-rs (compiled, ~2 µs a message) over the flat schemas; `format` is an
    # annotation in 2020-12, as for the contract's validator, which has no format checker.
    return {
        value: jsonschema_rs.Draft202012Validator(flat, validate_formats=False)
        for value, flat in flat_schemas(schema_file).items()
    }


def fast_validator(schema_file: str, data: object) -> Any | None:
    """The flat validator of ``data``'s discriminator value, or None (unknown or missing
    value, not an object, a branch not flattened): the full schema must judge it."""
    field = DISCRIMINATORS.get(schema_file)
    if field is None:
        key = None
    elif isinstance(data, dict) and isinstance(data.get(field), str):
        # Only a string can name a branch (and a list could not even be looked up).
        key = data[field]
    else:
        return None
    return _fast_validators(schema_file).get(key)


def conforms(schema_file: str, data: object) -> bool:
    """Whether ``data`` passes the schema: through its flat validator when there is one.

    Where the two differ at all it is in the flat validator's favour of strictness: it
    applies patterns as ECMA-262 does (``$`` is the end, not "before a final newline" as in
    Python's ``re``). A payload it cannot read (a lone surrogate in a string) goes to the
    full schema.
    """
    fast = fast_validator(schema_file, data)
    if fast is not None:
        try:
            return bool(fast.is_valid(data))
        except (ValueError, OverflowError):  # UnicodeEncodeError is a ValueError
            pass
    return bool(validator(schema_file).is_valid(data))


def schema_mismatch(schema_file: str, data: object) -> str | None:
    """None when ``data`` conforms, else which field broke which rule (never its value:
    values may be health data)."""
    if conforms(schema_file, data):
        return None
    mismatch = next(iter(validator(schema_file).iter_errors(data)), None)
    if mismatch is None:
        # Refused by the flat validator's ECMA-262 patterns only (see conforms).
        return "(root): pattern failed"
    path = "/".join(str(p) for p in mismatch.absolute_path) or "(root)"
    return f"{path}: {mismatch.validator} failed"
