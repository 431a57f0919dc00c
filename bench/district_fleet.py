"""Many simulated lockers in one process, for bench/district.py: one paho client per device
(its own MQTT connection, client id and persistent session, as a real locker has), all driven
by one ``selectors`` loop through paho's external-loop callbacks, so a process carries a
thousand devices where linli_sim's one-thread-per-device would carry a few dozen.

What each device does, from docs/protocol.md: a Will (retained ``offline``) with its session;
on CONNACK it subscribes to its ``cmd`` and ``ack`` and the site's server status, publishes
``status`` online (retained), ``birth`` (seq 0) and ``state`` (seq 1, retained); then an
``item_present_changed`` event every ``event_every_s`` (QoS 1, kept until acked, re-sent
unchanged every 5 s) and a heartbeat (QoS 0) every 30 s; a later server ``online`` makes it
publish birth and state again, unless it says ``"rebirth": false``; a ``resync`` command is
answered accepted, birth, state, done.

What is simplified, and why it does not change what the bench measures: the outbox is kept in
memory (a real one survives power loss; no device here loses power), the session counter
starts at 1 (fresh database), and the event is always the item sensor of one of 8
compartments with nothing assigned to them (the server's lending reaction looks and returns).
"""

from __future__ import annotations

import json
import random
import selectors
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from linli_sim.resend import ResendPace

PREFIX = "linli/v1"
FIRMWARE = "linli-bench 0.1.0"
COMPARTMENTS = 8
# The first re-send round 5 s after the last, each further round while events stay unacked
# twice as long (up to 60 s, up to 10 % less at random), back to 5 s once the outbox is empty:
# docs/protocol.md §5, paced by linli_sim's own rule (bench/district.py puts firmware-sim on
# the path of this process).
RESEND_FIRST_S = 5.0
HEARTBEAT_S = 30
KEEPALIVE_S = 30


def ts(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass
class Device:
    device_id: str
    site: str
    client: mqtt.Client
    session: int = 0
    seq: int = -1
    online: bool = False
    seen_server_status: bool = False
    present: list[bool] = field(default_factory=lambda: [True] * COMPARTMENTS)
    # (session, seq) -> payload, until acked (when to re-send is the device's, not the event's)
    outbox: dict[tuple[int, int], bytes] = field(default_factory=dict)
    emitted: list[tuple[int, int]] = field(default_factory=list)
    next_event: float = 0.0
    next_heartbeat: float = 0.0
    reconnect_at: float | None = None
    resend_pace: ResendPace = field(default_factory=lambda: ResendPace(RESEND_FIRST_S))

    def topic(self, kind: str) -> str:
        return f"{PREFIX}/{self.site}/{self.device_id}/{kind}"

    def envelope(self, body: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        return {"v": 1, "device": self.device_id, "session": self.session, "seq": self.seq,
                "ts": ts(), **body}  # fmt: skip

    def state(self) -> dict[str, Any]:
        return {"compartments": [
            {"n": n, "lock": "locked", "door": "closed", "item_present": self.present[n - 1]}
            for n in range(1, COMPARTMENTS + 1)
        ]}  # fmt: skip

    def will(self) -> None:
        self.session += 1
        self.seq = -1
        status = {"v": 1, "device": self.device_id, "session": self.session, "state": "offline",
                  "ts": ts()}  # fmt: skip
        self.client.will_set(self.topic("status"), encode(status), qos=1, retain=True)

    def birth_and_state(self) -> None:
        birth = self.envelope({"kind": "locker", "firmware": FIRMWARE,
                               "capabilities": {"compartments": COMPARTMENTS},
                               "heartbeat_s": HEARTBEAT_S, "state": self.state()})  # fmt: skip
        self.client.publish(self.topic("birth"), encode(birth), qos=1)
        state = self.envelope({"state": self.state()})
        self.client.publish(self.topic("state"), encode(state), qos=1, retain=True)

    def event(self) -> None:
        n = random.randrange(COMPARTMENTS)
        self.present[n] = not self.present[n]
        payload = encode(self.envelope({"type": "item_present_changed", "compartment": n + 1,
                                        "present": self.present[n]}))  # fmt: skip
        key = (self.session, self.seq)
        self.outbox[key] = payload
        self.emitted.append(key)
        self.client.publish(self.topic("event"), payload, qos=1)

    def resend(self, now: float) -> None:
        """A round of re-sends when it is due; each round waits longer than the one before."""
        if not self.resend_pace.due(now):
            return
        for payload in list(self.outbox.values()):
            self.client.publish(self.topic("event"), payload, qos=1)
        self.resend_pace.round_done(now, len(self.outbox))

    def resend_soon(self, now: float) -> None:
        """The next round after RESEND_FIRST_S (a connect, an ack that empties the outbox)."""
        self.resend_pace.start_over(now)

    def heartbeat(self) -> None:
        beat = {"v": 1, "device": self.device_id, "session": self.session, "ts": ts()}
        self.client.publish(self.topic("heartbeat"), encode(beat), qos=0)


class Fleet:
    """The devices of one process and their selector loop."""

    def __init__(self, devices: list[tuple[str, str]], host: str, port: int,
                 event_every_s: float) -> None:  # fmt: skip
        self.host, self.port = host, port
        self.event_every_s = event_every_s
        self.selector = selectors.DefaultSelector()
        self.devices = [self._make(device_id, site) for device_id, site in devices]
        self.emitting = True
        self.stopping = False
        self.disconnects = 0

    def _make(self, device_id: str, site: str) -> Device:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_id,
                             clean_session=False, protocol=mqtt.MQTTv311)  # fmt: skip
        device = Device(device_id, site, client)
        client.user_data_set(device)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        return device

    # --- paho's external-loop callbacks ---------------------------------------------------------

    def _on_socket_open(self, client: mqtt.Client, device: Device, sock: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.selector.register(sock, selectors.EVENT_READ, device)

    def _on_socket_close(self, client: mqtt.Client, device: Device, sock: Any) -> None:
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass

    def _on_register_write(self, client: mqtt.Client, device: Device, sock: Any) -> None:
        try:
            self.selector.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, device)
        except (KeyError, ValueError):
            pass

    def _on_unregister_write(self, client: mqtt.Client, device: Device, sock: Any) -> None:
        try:
            self.selector.modify(sock, selectors.EVENT_READ, device)
        except (KeyError, ValueError):
            pass

    def _on_connect(self, client: mqtt.Client, device: Device, flags: Any, rc: Any,
                    properties: Any) -> None:  # fmt: skip
        if rc.is_failure:
            return
        client.subscribe([(device.topic("cmd"), 1), (device.topic("ack"), 1),
                          (f"{PREFIX}/{device.site}/server/status", 1)])  # fmt: skip
        status = {"v": 1, "device": device.device_id, "session": device.session,
                  "state": "online", "ts": ts()}  # fmt: skip
        client.publish(device.topic("status"), encode(status), qos=1, retain=True)
        device.birth_and_state()
        device.online = True
        device.seen_server_status = False
        now = time.monotonic()
        device.resend_soon(now)
        for payload in list(device.outbox.values()):
            client.publish(device.topic("event"), payload, qos=1)

    def _on_disconnect(self, client: mqtt.Client, device: Device, flags: Any, rc: Any,
                       properties: Any) -> None:  # fmt: skip
        device.online = False
        self.disconnects += 1
        if not self.stopping:
            device.reconnect_at = time.monotonic() + random.uniform(0.5, 1.0)

    def _on_message(self, client: mqtt.Client, device: Device, message: mqtt.MQTTMessage) -> None:
        kind = message.topic.rsplit("/", 1)[-1]
        try:
            payload = json.loads(message.payload) if message.payload else None
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        if kind == "ack" and payload.get("session") is not None:
            for first, last in payload.get("seqs", []):
                for seq in range(first, last + 1):
                    device.outbox.pop((payload["session"], seq), None)
            if not device.outbox:
                device.resend_soon(time.monotonic())
        elif kind == "status":  # the server's
            if device.seen_server_status and payload.get("state") == "online":
                if payload.get("rebirth", True) is not False:  # docs/protocol.md §4
                    device.birth_and_state()
                device.resend_soon(time.monotonic())
            device.seen_server_status = True
        elif kind == "cmd" and "id" in payload:
            self._command(device, payload)

    def _command(self, device: Device, command: dict[str, Any]) -> None:
        def reply(status: str, reason: str | None = None) -> None:
            body: dict[str, Any] = {"command_id": command["id"], "status": status}
            if reason:
                body["reason"] = reason
            device.client.publish(device.topic("reply"), encode(device.envelope(body)), qos=1)

        if command.get("name") != "resync":
            reply("rejected", "busy")
            return
        reply("accepted")
        device.birth_and_state()
        reply("done")

    # --- running ---------------------------------------------------------------------------------

    def connect_all(self, per_second: float = 400.0) -> None:
        """Connect every device, paced so the broker is not handed thousands of CONNECTs at
        once (as a district's devices come up over minutes, not in one instant)."""
        for i, device in enumerate(self.devices):
            device.will()
            device.client.connect(self.host, self.port, KEEPALIVE_S)
            if i % 50 == 49:
                self.turn(50 / per_second)

    def turn(self, wait: float) -> None:
        """One pass of the loop: sockets ready within ``wait``, then the devices' timers."""
        for key, mask in self.selector.select(wait):
            device: Device = key.data
            if mask & selectors.EVENT_READ:
                device.client.loop_read()
            if mask & selectors.EVENT_WRITE:
                device.client.loop_write()

    def timers(self, now: float) -> None:
        for device in self.devices:
            if device.reconnect_at is not None and now >= device.reconnect_at:
                device.reconnect_at = None
                device.will()
                try:
                    device.client.reconnect()
                except OSError:
                    device.reconnect_at = now + 2.0
                continue
            if not device.online:
                continue
            if self.emitting:
                if not device.next_event:  # each device at its own phase of the period
                    device.next_event = now + random.uniform(0, self.event_every_s)
                elif now >= device.next_event:
                    device.event()
                    device.next_event += self.event_every_s
            if now >= device.next_heartbeat:
                device.heartbeat()
                device.next_heartbeat = now + HEARTBEAT_S
            if device.outbox:
                device.resend(now)

    def misc(self) -> None:
        for device in self.devices:
            device.client.loop_misc()

    def connected(self) -> int:
        return sum(1 for device in self.devices if device.online)

    def unacked(self) -> int:
        return sum(len(device.outbox) for device in self.devices)

    def disconnect_all(self) -> None:
        self.emitting = False
        self.stopping = True
        for device in self.devices:
            if device.online:
                status = {"v": 1, "device": device.device_id, "session": device.session,
                          "state": "offline", "ts": ts()}  # fmt: skip
                device.client.publish(device.topic("status"), encode(status), qos=1, retain=True)
                device.client.disconnect()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.selector.get_map():
            self.turn(0.05)


def run(devices: list[tuple[str, str]], host: str, port: int, event_every_s: float,
        conn: Any) -> None:  # fmt: skip
    """A fleet process: connect, report ``connected`` counts, emit until told ``drain``, then
    wait for the acks and send back what was emitted and what is still unacked.

    ``conn`` is a multiprocessing Pipe end: this side sends ("connected", n) now and then and
    finally ("done", emitted, unacked); the bench sends "drain" and later "stop"."""
    random.seed(hash(devices[0][0]) if devices else 0)
    fleet = Fleet(devices, host, port, event_every_s)
    fleet.connect_all()
    last_misc = last_report = 0.0
    while True:
        fleet.turn(0.02)
        now = time.monotonic()
        fleet.timers(now)
        if now - last_misc >= 1.0:
            fleet.misc()
            last_misc = now
        if now - last_report >= 1.0:
            conn.send(("connected", fleet.connected(), fleet.unacked(), fleet.disconnects))
            last_report = now
        if conn.poll():
            order = conn.recv()
            if order == "drain":
                fleet.emitting = False
            elif order == "stop":
                break
    emitted = [(d.device_id, s, q) for d in fleet.devices for s, q in d.emitted]
    unacked = [(d.device_id, s, q) for d in fleet.devices for s, q in d.outbox]
    fleet.disconnect_all()
    conn.send(("done", emitted, unacked))
