"""A bare paho client that plays the server, for testing the simulated firmware on the wire.

Every message a device publishes is checked against docs/schemas; a test that expects a
malformed payload says so with ``probe.expect_invalid``."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from jsonschema import Draft202012Validator
from paho.mqtt.enums import CallbackAPIVersion

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"
SCHEMA_FOR_SUFFIX = {
    "status": "status.json",
    "birth": "birth.json",
    "state": "state.json",
    "event": "event.json",
    "reply": "reply.json",
    "heartbeat": "heartbeat.json",
}
VALIDATORS = {
    suffix: Draft202012Validator(json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8")))
    for suffix, name in SCHEMA_FOR_SUFFIX.items()
}
COMMAND_VALIDATOR = Draft202012Validator(
    json.loads((SCHEMA_DIR / "command.json").read_text(encoding="utf-8"))
)
WAIT_S = 10.0


@dataclass
class Message:
    device: str
    suffix: str
    payload: dict[str, Any]
    retain: bool
    # When the probe received it (time.monotonic), for the tests of how often devices send.
    at: float = field(default_factory=time.monotonic)

    def __getitem__(self, key: str) -> Any:
        return self.payload[key]


def utc(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


class ServerProbe:
    def __init__(self, broker_url: str, site: str) -> None:
        parts = urlsplit(broker_url)
        self.site = site
        self.messages: list[Message] = []
        self.invalid: list[tuple[str, bytes, str]] = []
        self.expected_invalid = 0
        self._changed = threading.Condition()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"probe-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        self.client.subscribe(f"linli/v1/{site}/+/+", qos=1)
        assert subscribed.wait(WAIT_S), "probe could not subscribe"

    def close(self) -> None:
        # Disconnecting wakes the network thread, which then ends: stopped first, it ended
        # only when its wait for the socket timed out, a second into every sim test's
        # teardown. (The other order once kept amqtt's ResourceWarnings out of the session;
        # amqtt now runs in a process of its own, tests/conftest.py.)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        _, _, _, device, suffix = message.topic.split("/")
        if device == "server":
            return
        validator = VALIDATORS.get(suffix)
        if validator is None or not message.payload:  # our cmd/ack; a retained topic cleared
            return
        try:
            payload = json.loads(message.payload)
            errors = [e.message for e in validator.iter_errors(payload)]
        except ValueError as error:
            payload, errors = None, [str(error)]
        if len(message.payload) > 8192:
            errors.append("payload over 8 KiB")
        with self._changed:
            if errors:
                self.invalid.append((message.topic, bytes(message.payload), "; ".join(errors)))
            else:
                self.messages.append(Message(device, suffix, payload, bool(message.retain)))
            self._changed.notify_all()

    # --- looking -----------------------------------------------------------------------------

    def of(self, device: str, suffix: str, **match: Any) -> list[Message]:
        with self._changed:
            return [
                m
                for m in self.messages
                if m.device == device
                and m.suffix == suffix
                and all(m.payload.get(k) == v for k, v in match.items())
            ]

    def wait_for(
        self, device: str, suffix: str, count: int = 1, timeout: float = WAIT_S, **match: Any
    ) -> list[Message]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := self.of(device, suffix, **match)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"waited {timeout}s for {count} {suffix} {match} from {device}; got "
                        f"{[m.payload for m in self.of(device, suffix)]}"
                    )
                self._changed.wait(left)
            return found

    def wait_until(self, condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.02)

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()

    def expect_invalid(self, count: int = 1) -> None:
        self.expected_invalid += count

    # --- acting as the server ----------------------------------------------------------------

    def command(
        self,
        device: str,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        command_id: str | None = None,
        expires_in: float = 30.0,
    ) -> str:
        now = datetime.now(UTC)
        command = {
            "v": 1,
            "id": command_id or str(uuid.uuid4()),
            "name": name,
            "args": args or {},
            "issued_at": utc(now),
            "expires_at": utc(now + timedelta(seconds=expires_in)),
        }
        if expires_in > 0:
            COMMAND_VALIDATOR.validate(command)
        self.publish(device, "cmd", command)
        return str(command["id"])

    def ack(self, device: str, session: int, seq: int) -> None:
        self.publish(device, "ack", {"v": 1, "session": session, "seqs": [[seq, seq]]})

    def server_status(self, state: str, *, rebirth: bool | None = None) -> None:
        status: dict[str, Any] = {"v": 1, "state": state, "ts": utc(datetime.now(UTC))}
        if rebirth is not None:
            status["rebirth"] = rebirth
        payload = json.dumps(status)
        self.client.publish(
            f"linli/v1/{self.site}/server/status", payload, qos=1, retain=True
        ).wait_for_publish(5)

    def publish(self, device: str, suffix: str, payload: dict[str, Any] | bytes) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        retain = suffix in ("status", "state")  # only ever to clear them
        self.client.publish(
            f"linli/v1/{self.site}/{device}/{suffix}", data, qos=1, retain=retain
        ).wait_for_publish(5)
