"""Flattened, equivalent forms of the protocol schemas, for validating at ingest speed.

``docs/schemas`` stay the contract. They are written for readers: an envelope in ``$defs``,
one ``if type == …`` branch per event type, ``unevaluatedProperties: false`` over the lot.
jsonschema evaluates that literally, walking every branch and resolving every ``$ref`` for
each message (about 2 ms an event). Once the value of the field that picks the branch is
known (an event's ``type``, a birth's ``kind``, a reply's ``status``), the same rules fit in
one flat object: the envelope's and that branch's ``properties`` side by side, their
``required`` together and ``additionalProperties: false``, every ``$ref`` inlined.

:func:`flatten` derives that schema mechanically and refuses (:class:`NotFlattenable`) any
construct whose meaning it cannot keep, so a later schema edit makes it fail loudly instead
of letting it accept something the contract refuses. ``tests/protocol/test_flat_schemas.py``
holds both forms to the same verdict on every example and every known bad payload.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Schema = dict[str, Any]

# Keywords that only annotate: they never change a verdict.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples"})
# Keywords that mark object properties as evaluated, which unevaluatedProperties depends on.
_EVALUATING = frozenset(
    {
        "properties",
        "patternProperties",
        "additionalProperties",
        "unevaluatedProperties",
        "dependentSchemas",
        "allOf",
        "anyOf",
        "oneOf",
        "if",
        "then",
        "else",
        "$ref",
        "$dynamicRef",
    }
)


class NotFlattenable(ValueError):
    """The schema uses a construct :func:`flatten` cannot rewrite without changing its meaning."""


def inline_refs(schema: Any, defs: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``schema`` with every ``{"$ref": "#/$defs/name"}`` replaced by the definition itself.

    Sibling keywords of a ``$ref`` apply together with it (2020-12), so they are kept: merged
    in when they only annotate, else beside it in an ``allOf``.
    """
    if isinstance(schema, list):
        return [inline_refs(item, defs, seen) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if ref is None:
        return {key: inline_refs(value, defs, seen) for key, value in schema.items()}
    prefix = "#/$defs/"
    if not isinstance(ref, str) or not ref.startswith(prefix) or ref[len(prefix) :] not in defs:
        raise NotFlattenable(f"only local #/$defs references can be inlined, not {ref!r}")
    name = ref[len(prefix) :]
    if name in seen:
        raise NotFlattenable(f"recursive definition {name!r}")
    target = inline_refs(defs[name], defs, (*seen, name))
    siblings = {k: inline_refs(v, defs, seen) for k, v in schema.items() if k != "$ref"}
    if not isinstance(target, Mapping):
        raise NotFlattenable(f"definition {name!r} is not a schema object")
    if set(siblings) <= _ANNOTATIONS:
        return {**target, **siblings}
    return {"allOf": [target, siblings]}


class _Flat:
    """The pieces of the flat object schema as they are collected."""

    def __init__(self) -> None:
        self.properties: dict[str, list[Any]] = {}
        self.required: list[str] = []
        # Subschemas that still apply whole (a `not`, a conditional on another field); none
        # of them may evaluate a property the flat `properties` does not declare.
        self.also: list[Schema] = []


def flatten(schema: Mapping[str, Any], field: str | None = None, value: Any = None) -> Schema:
    """One flat schema equivalent to ``schema`` for every instance whose ``field`` is ``value``.

    With no ``field``, equivalent for every instance. The result has no ``$ref``; the caller
    must only use it for instances that hold ``field: value`` (check before choosing it).
    """
    defs = schema.get("$defs", {})
    root = inline_refs({k: v for k, v in schema.items() if k != "$defs"}, defs)
    if root.get("type") != "object":
        raise NotFlattenable("only object schemas are flattened")
    closed = root.get("unevaluatedProperties", root.get("additionalProperties", True))
    if closed not in (True, False):
        raise NotFlattenable("unevaluatedProperties/additionalProperties must be true or false")
    flat = _Flat()
    body = {
        k: v
        for k, v in root.items()
        if k not in ("unevaluatedProperties", "additionalProperties", "type")
    }
    _absorb(flat, body, field, value)
    if field is not None and field not in flat.properties:
        raise NotFlattenable(f"{field!r} is not a declared property")
    for extra in flat.also:
        unknown = _evaluated_names(extra) - set(flat.properties)
        if unknown:
            raise NotFlattenable(f"a conditional evaluates undeclared properties {sorted(unknown)}")
    result: Schema = {"$schema": root.get("$schema"), "type": "object"}
    result["properties"] = {
        name: parts[0] if len(parts) == 1 else {"allOf": parts}
        for name, parts in flat.properties.items()
    }
    if flat.required:
        result["required"] = list(dict.fromkeys(flat.required))
    if closed is False:
        result["additionalProperties"] = False
    if flat.also:
        result["allOf"] = flat.also
    if result["$schema"] is None:
        del result["$schema"]
    return result


def _absorb(flat: _Flat, sub: Mapping[str, Any], field: str | None, value: Any) -> None:
    """Add a subschema that applies to the whole instance unconditionally."""
    for key, part in sub.items():
        if key in _ANNOTATIONS or key in ("then", "else"):
            continue
        if key == "properties":
            for name, prop in part.items():
                flat.properties.setdefault(name, []).append(copy.deepcopy(prop))
        elif key == "required":
            flat.required.extend(part)
        elif key == "type":
            if part != "object":
                raise NotFlattenable(f"a branch of type {part!r} inside an object schema")
        elif key == "allOf":
            for item in part:
                _absorb(flat, item, field, value)
        elif key == "if":
            _conditional(flat, sub, field, value)
        elif key == "not":
            if _EVALUATING & set(_keywords(part)):
                raise NotFlattenable("a `not` with property-evaluating keywords")
            flat.also.append({"not": copy.deepcopy(part)})
        else:
            raise NotFlattenable(f"keyword {key!r} in a branch")


def _conditional(flat: _Flat, branch: Mapping[str, Any], field: str | None, value: Any) -> None:
    condition = branch["if"]
    then, otherwise = branch.get("then"), branch.get("else")
    if not isinstance(condition, Mapping) or set(condition) - {"properties", "required"}:
        raise NotFlattenable("an `if` other than properties/required")
    tested = condition.get("properties", {})
    required = list(condition.get("required", ()))
    picks = (
        field is not None
        and field in tested
        and field in required
        and set(tested[field]) == {"const"}
    )
    if not picks:
        flat.also.append(_kept(branch))
        return
    if tested[field]["const"] != value:
        # The instance's `field` is `value`, so this `if` fails: only the `else` applies.
        if otherwise is not None:
            _absorb(flat, otherwise, field, value)
        return
    rest_props = {k: v for k, v in tested.items() if k != field}
    rest_required = [r for r in required if r != field]
    if not rest_props and not rest_required:
        # The `if` tests nothing but `field`, which holds: the `then` applies.
        if then is not None:
            _absorb(flat, then, field, value)
        return
    # More conditions than `field`: keep the conditional, minus the part known to hold.
    remaining: Schema = {}
    if rest_props:
        remaining["properties"] = rest_props
    if rest_required:
        remaining["required"] = rest_required
    flat.also.append(_kept({**branch, "if": remaining}))


def _kept(branch: Mapping[str, Any]) -> Schema:
    kept: Schema = {}
    for key in ("if", "then", "else"):
        part = branch.get(key)
        if part is None:
            continue
        extra = set(_keywords(part)) - {"properties", "required"} - _ANNOTATIONS
        if extra:
            raise NotFlattenable(f"a conditional's {key} uses {sorted(extra)}")
        kept[key] = copy.deepcopy(part)
    if set(branch) - {"if", "then", "else"} - _ANNOTATIONS:
        raise NotFlattenable("a conditional branch with other keywords beside if/then/else")
    return kept


def _keywords(part: Any) -> list[str]:
    return list(part) if isinstance(part, Mapping) else []


def _evaluated_names(extra: Mapping[str, Any]) -> set[str]:
    """The property names a kept subschema can mark as evaluated (only at its top level)."""
    names: set[str] = set()
    for key in ("if", "then", "else"):
        part = extra.get(key)
        if isinstance(part, Mapping):
            names |= set(part.get("properties", {}))
    return names
