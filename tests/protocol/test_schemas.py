"""The JSON Schemas in docs/schemas are the device contract: each must be a valid 2020-12
schema, its own examples must pass, and the payloads a careless or hostile device could send
must fail."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"
SCHEMA_FILES = sorted(p.name for p in SCHEMA_DIR.glob("*.json"))
EXPECTED = {
    "ack.json",
    "birth.json",
    "command.json",
    "event.json",
    "heartbeat.json",
    "reply.json",
    "server-status.json",
    "state.json",
    "status.json",
}


def load(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return schema


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load(name))


def test_every_protocol_message_has_a_schema_file() -> None:
    assert set(SCHEMA_FILES) == EXPECTED


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_a_valid_2020_12_schema_named_by_its_file(name: str) -> None:
    schema = load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/" + name)
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_example_in_a_schema_validates(name: str) -> None:
    schema = load(name)
    assert schema["examples"], f"{name} has no examples"
    for example in schema["examples"]:
        errors = list(Draft202012Validator(schema).iter_errors(example))
        assert not errors, f"{name}: {example} -> {[e.message for e in errors]}"


def example(schema_file: str, index: int = 0, /, **changes: Any) -> dict[str, Any]:
    """A copy of a schema's example with some fields replaced (None value = field removed)."""
    payload: dict[str, Any] = copy.deepcopy(load(schema_file)["examples"][index])
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


FLAGS = {
    "body_movement": False,
    "cuff_too_loose": False,
    "irregular_pulse": False,
    "pulse_out_of_range": False,
    "improper_position": False,
}
# event.json example 8 is a reading in mmHg, 9 a reading in kPa.
BAD_PAYLOADS: list[tuple[str, str, dict[str, Any]]] = [
    ("status.json", "unknown state", example("status.json", state="sleeping")),
    ("status.json", "protocol version 2", example("status.json", v=2)),
    ("status.json", "device id with capitals", example("status.json", device="Locker-A")),
    ("status.json", "negative session", example("status.json", session=-1)),
    ("status.json", "session as a string", example("status.json", session="7")),
    ("status.json", "timestamp without Z", example("status.json", ts="2026-11-24T09:30:00+08:00")),
    ("status.json", "timestamp without time", example("status.json", ts="2026-11-24")),
    ("status.json", "extra field", example("status.json", battery=80)),
    ("status.json", "missing session", example("status.json", session=None)),
    ("heartbeat.json", "heartbeat with seq", example("heartbeat.json", seq=3)),
    ("birth.json", "missing seq", example("birth.json", seq=None)),
    ("birth.json", "negative seq", example("birth.json", seq=-1)),
    ("birth.json", "unknown kind", example("birth.json", kind="printer")),
    (
        "birth.json",
        "locker with 65 compartments",
        example("birth.json", capabilities={"compartments": 65}),
    ),
    (
        "birth.json",
        "locker with bp capabilities",
        example("birth.json", capabilities={"card_reader": True}),
    ),
    (
        "birth.json",
        "bp terminal with locker state",
        example("birth.json", 1, state=load("birth.json")["examples"][0]["state"]),
    ),
    ("birth.json", "missing firmware", example("birth.json", firmware=None)),
    ("birth.json", "extra field", example("birth.json", colour="red")),
    (
        "state.json",
        "unknown lock state",
        example(
            "state.json",
            state={
                "compartments": [{"n": 1, "lock": "broken", "door": "closed", "item_present": True}]
            },
        ),
    ),
    (
        "state.json",
        "compartment 0",
        example(
            "state.json",
            state={
                "compartments": [{"n": 0, "lock": "locked", "door": "closed", "item_present": True}]
            },
        ),
    ),
    (
        "state.json",
        "compartment without door",
        example(
            "state.json", state={"compartments": [{"n": 1, "lock": "locked", "item_present": True}]}
        ),
    ),
    (
        "state.json",
        "bp state with a reading in it",
        example("state.json", 1, state={"phase": "idle", "systolic": 150}),
    ),
    ("state.json", "unknown bp phase", example("state.json", 1, state={"phase": "sleeping"})),
    ("event.json", "unknown event type", example("event.json", type="exploded")),
    ("event.json", "door event without compartment", example("event.json", compartment=None)),
    ("event.json", "compartment 65", example("event.json", compartment=65)),
    ("event.json", "door_opened without command_id", example("event.json", command_id=None)),
    ("event.json", "command_id not a uuid", example("event.json", command_id="open-3")),
    ("event.json", "field of another event type", example("event.json", 2, present=True)),
    ("event.json", "item_present_changed without present", example("event.json", 1, present=None)),
    ("event.json", "negative open_seconds", example("event.json", 3, open_seconds=-5)),
    ("event.json", "card id with spaces", example("event.json", 6, card_id="C 001")),
    ("event.json", "measurement_started with a value", example("event.json", 7, systolic=120)),
    ("event.json", "systolic 39 mmHg", example("event.json", 8, systolic=39)),
    ("event.json", "systolic 301 mmHg", example("event.json", 8, systolic=301)),
    ("event.json", "diastolic 19 mmHg", example("event.json", 8, diastolic=19)),
    ("event.json", "diastolic 201 mmHg", example("event.json", 8, diastolic=201)),
    ("event.json", "systolic as a string", example("event.json", 8, systolic="148")),
    ("event.json", "pulse 19", example("event.json", 8, pulse=19)),
    ("event.json", "pulse 251", example("event.json", 8, pulse=251)),
    ("event.json", "reading without pulse field", example("event.json", 8, pulse=None)),
    ("event.json", "unknown unit", example("event.json", 8, unit="cmHg")),
    ("event.json", "kPa value given as mmHg", example("event.json", 9, systolic=148)),
    (
        "event.json",
        "missing flag",
        example("event.json", 8, flags={k: v for k, v in FLAGS.items() if k != "cuff_too_loose"}),
    ),
    ("event.json", "unknown flag", example("event.json", 8, flags={**FLAGS, "sneezed": True})),
    (
        "event.json",
        "flag not boolean",
        example("event.json", 8, flags={**FLAGS, "body_movement": 1}),
    ),
    (
        "event.json",
        "measured_at local time",
        example("event.json", 8, measured_at="2026-11-24 09:30"),
    ),
    ("event.json", "unknown measurement error", example("event.json", 10, code="bored")),
    ("reply.json", "rejected without reason", example("reply.json", 2, reason=None)),
    ("reply.json", "done with a reason", example("reply.json", 1, reason="busy")),
    ("reply.json", "unknown reason", example("reply.json", 2, reason="tired")),
    ("reply.json", "unknown status", example("reply.json", status="maybe")),
    ("reply.json", "missing command_id", example("reply.json", command_id=None)),
    ("command.json", "id not a uuid4", example("command.json", id="1")),
    ("command.json", "unknown command", example("command.json", name="self_destruct")),
    ("command.json", "open without compartment", example("command.json", args={})),
    ("command.json", "open compartment 0", example("command.json", args={"compartment": 0})),
    (
        "command.json",
        "open with extra argument",
        example("command.json", args={"compartment": 1, "all": True}),
    ),
    ("command.json", "resync with arguments", example("command.json", 1, args={"hard": True})),
    ("command.json", "missing expires_at", example("command.json", expires_at=None)),
    ("command.json", "retained-style extra field", example("command.json", retain=True)),
    ("ack.json", "negative seq", example("ack.json", seqs=[[-1, 3]])),
    ("ack.json", "missing session", example("ack.json", session=None)),
    ("ack.json", "no ranges", example("ack.json", seqs=[])),
    ("ack.json", "range of one number", example("ack.json", seqs=[[5]])),
    ("ack.json", "range of three numbers", example("ack.json", seqs=[[1, 2, 3]])),
    ("ack.json", "single seq of the old form", {"v": 1, "session": 7, "seq": 5}),
    ("ack.json", "too many ranges", example("ack.json", seqs=[[n, n] for n in range(0, 130, 2)])),
    # The kiosk reader (§8.1): birth.json example 2, event.json example 11, state.json 2.
    (
        "birth.json",
        "kiosk reader without its scanner capability",
        example("birth.json", 2, capabilities={"card_reader": True}),
    ),
    (
        "birth.json",
        "kiosk reader with a terminal's phase",
        example("birth.json", 2, state={"phase": "idle"}),
    ),
    (
        "birth.json",
        "kiosk reader telling what it read in its state",
        example("birth.json", 2, state={"reader": "ready", "last_card": "C0012345"}),
    ),
    ("event.json", "scanned code without text", example("event.json", 11, text=None)),
    ("event.json", "scanned code of empty text", example("event.json", 11, text="")),
    ("event.json", "scanned code over 512 characters", example("event.json", 11, text="a" * 513)),
    ("event.json", "scanned code as a number", example("event.json", 11, text=12)),
    (
        "state.json",
        "kiosk reader in an unknown phase",
        example("state.json", 2, state={"reader": "asleep"}),
    ),
    ("server-status.json", "unknown state", example("server-status.json", state="busy")),
    ("server-status.json", "device field", example("server-status.json", device="server")),
    ("server-status.json", "rebirth as text", example("server-status.json", rebirth="no")),
    (
        "server-status.json",
        "offline saying whether to re-birth",
        example("server-status.json", 2, rebirth=False),
    ),
]


@pytest.mark.parametrize(
    ("name", "payload"),
    [pytest.param(name, payload, id=f"{name}: {why}") for name, why, payload in BAD_PAYLOADS],
)
def test_bad_payload_is_rejected_by_its_schema(name: str, payload: dict[str, Any]) -> None:
    assert not validator(name).is_valid(payload)


def test_readings_at_the_edges_of_the_plausible_ranges_are_accepted() -> None:
    edges = example(
        "event.json", 8, systolic=300, diastolic=20, mean_arterial_pressure=113.3, pulse=250
    )
    low = example(
        "event.json", 8, systolic=40, diastolic=200, mean_arterial_pressure=146.7, pulse=20
    )
    assert validator("event.json").is_valid(edges)
    assert validator("event.json").is_valid(low)
