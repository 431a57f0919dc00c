"""The flattened schemas the ingest validates with (devices.protocol.flat_schemas, compiled by
jsonschema-rs) give the same verdict as the schemas in docs/schemas, which stay the contract:
on every example, on every known bad payload, and on payloads Hypothesis mutates from the
examples. The one difference is deliberate and tested: patterns end at `$` as in ECMA-262."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_schemas import BAD_PAYLOADS, example, load

from devices.protocol import schemas as protocol
from devices.protocol.flat_schemas import NotFlattenable, flatten
from devices.protocol.messages import DEVICE_KINDS

DEVICE_SCHEMAS = sorted(set(DEVICE_KINDS.values()))


def verdicts(name: str, payload: Any) -> tuple[bool, bool]:
    """(the contract's verdict, the verdict of the validator the ingest picks)."""
    return (
        protocol.validator(name).is_valid(payload),
        protocol.conforms(name, payload),
    )


@pytest.mark.parametrize("name", DEVICE_SCHEMAS)
def test_every_branch_of_every_device_schema_is_flattened(name: str) -> None:
    field = protocol.DISCRIMINATORS.get(name)
    expected = [None] if field is None else load(name)["properties"][field]["enum"]
    assert sorted(protocol.flat_schemas(name), key=str) == sorted(expected, key=str)


@pytest.mark.parametrize("name", DEVICE_SCHEMAS)
def test_flat_validators_accept_every_example_and_are_the_ones_picked(name: str) -> None:
    for payload in load(name)["examples"]:
        assert protocol.fast_validator(name, payload) is not None, f"{name}: {payload}"
        assert verdicts(name, payload) == (True, True), payload


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        pytest.param(name, payload, id=f"{name}: {why}")
        for name, why, payload in BAD_PAYLOADS
        if name in DEVICE_SCHEMAS
    ],
)
def test_flat_validators_reject_every_known_bad_payload(name: str, payload: Any) -> None:
    assert verdicts(name, payload) == (False, False)


# Payloads aimed at what flattening changes: branch selection, fields of other branches,
# conditionals that stay, the envelope brought in from $defs.
FLATTENING_EDGES: list[tuple[str, str, Any]] = [
    ("event.json", "type missing", example("event.json", type=None)),
    ("event.json", "type a number", example("event.json", type=1)),
    ("event.json", "type a list", example("event.json", type=["door_opened"])),
    ("event.json", "type null", {**example("event.json"), "type": None}),
    ("event.json", "not an object", ["door_opened"]),
    ("event.json", "door_closed with door_opened's command_id", example("event.json", 2, command_id=None) | {"command_id": None}),
    ("event.json", "reading with a compartment", example("event.json", 8, compartment=1)),
    ("event.json", "reading in mmHg with kPa values", example("event.json", 8, systolic=17.3)),
    ("event.json", "mmHg reading relabelled kPa", example("event.json", 8, unit="kPa")),
    ("event.json", "envelope seq missing", example("event.json", 1, seq=None)),
    ("event.json", "envelope v 2", example("event.json", 1, v=2)),
    ("event.json", "envelope session too large", example("event.json", 1, session=2**31)),
    ("event.json", "seq a float", example("event.json", 1, seq=1.5)),
    ("event.json", "present as a string", example("event.json", 1, present="false")),
    ("event.json", "measurement_started exactly", example("event.json", 7)),
    ("birth.json", "kind missing", example("birth.json", kind=None)),
    ("birth.json", "kind a number", example("birth.json", kind=3)),
    ("birth.json", "bp terminal with compartments", example("birth.json", 1, capabilities={"compartments": 2})),
    ("birth.json", "locker capabilities with extra", example("birth.json", capabilities={"compartments": 2, "x": 1})),
    ("birth.json", "heartbeat_s 4", example("birth.json", heartbeat_s=4)),
    ("reply.json", "accepted with a reason", example("reply.json", reason="busy")),
    ("reply.json", "rejected with reason", example("reply.json", 2)),
    ("reply.json", "status missing", example("reply.json", status=None)),
    ("reply.json", "status null with reason", {**example("reply.json", 2), "status": None}),
    ("event.json", "lone surrogate in a card id", example("event.json", 6, card_id="C\ud800")),
    ("birth.json", "lone surrogate in the firmware", example("birth.json", firmware="x\ud800")),
    ("state.json", "state missing", example("state.json", state=None)),
    ("state.json", "extra field", example("state.json", colour="red")),
    ("state.json", "both state shapes", example("state.json", state={"phase": "idle", "compartments": []})),
    ("status.json", "not an object", "online"),
    ("heartbeat.json", "extra field", example("heartbeat.json", battery=3)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "payload"),
    [pytest.param(name, payload, id=f"{name}: {why}") for name, why, payload in FLATTENING_EDGES],
)
def test_flat_validators_agree_with_the_contract_where_flattening_could_go_wrong(
    name: str, payload: Any
) -> None:
    contract, flat = verdicts(name, payload)
    assert flat == contract


def test_a_pattern_ends_at_dollar_as_in_ecma_262_not_before_a_final_newline() -> None:
    # Python's re lets "$" match before a trailing newline, so the contract's Python
    # validator takes "locker-a\n"; JSON Schema patterns are ECMA-262, where it does not.
    payload = example("event.json", 2, device="locker-a\n")
    assert verdicts("event.json", payload) == (True, False)
    assert protocol.schema_mismatch("event.json", payload) == "(root): pattern failed"


def _field_values() -> list[Any]:
    """Every value any example holds in any field, plus a few of the wrong type."""
    values: list[Any] = [None, True, 0, -1, 65, 2**31, 1.5, "", "x", [], {}]
    for name in DEVICE_SCHEMAS:
        for payload in load(name)["examples"]:
            values.extend(payload.values())
    return values


FIELD_NAMES = sorted(
    {key for name in DEVICE_SCHEMAS for payload in load(name)["examples"] for key in payload}
)
EXAMPLES = [(name, i) for name in DEVICE_SCHEMAS for i in range(len(load(name)["examples"]))]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name, index = draw(st.sampled_from(EXAMPLES))
    payload: dict[str, Any] = copy.deepcopy(load(name)["examples"][index])
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(FIELD_NAMES))
        if draw(st.booleans()):
            payload.pop(key, None)
        else:
            payload[key] = copy.deepcopy(draw(st.sampled_from(_field_values())))
    return name, payload


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_flat_validators_agree_with_the_contract_on_mutated_examples(
    case: tuple[str, dict[str, Any]],
) -> None:
    name, payload = case
    contract, flat = verdicts(name, payload)
    assert flat == contract, payload


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        (
            {"type": "object", "allOf": [{"patternProperties": {"^x": {}}}]},
            "patternProperties in a branch",
        ),
        ({"type": "object", "allOf": [{"$ref": "other.json"}]}, "a reference to another file"),
        (
            {"type": "object", "allOf": [{"if": {"minProperties": 2}, "then": {}}]},
            "a condition other than properties",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {}},
                "allOf": [{"if": {"required": ["a"]}, "then": {"properties": {"b": {}}}}],
            },
            "a conditional that declares a property the rest does not",
        ),
    ],
)
def test_a_construct_flattening_cannot_keep_is_refused(schema: dict[str, Any], why: str) -> None:
    with pytest.raises(NotFlattenable):
        flatten(schema)
