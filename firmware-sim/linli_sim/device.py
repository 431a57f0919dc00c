"""What every simulated device does the same way: birth and state, events through the outbox,
and the command lifecycle (idempotent ids, expiry, accepted → done or one rejected)."""

from __future__ import annotations

import json
import logging
import random
import re
import threading
from pathlib import Path
from typing import Any, ClassVar

from linli_sim import FIRMWARE, faults
from linli_sim.link import Link
from linli_sim.outbox import DeviceStore
from linli_sim.timers import Scheduler
from linli_sim.wire import Clock, parse_ts, system_clock, utc_ts

log = logging.getLogger(__name__)

DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
COMMAND_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
COMMON_COMMANDS = ("resync",)


class Reject(Exception):
    """A command the device refuses; ``reason`` is one of the protocol's reply reasons."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeviceSim:
    """Base of LockerSim and BpTerminalSim. Thread-safe: the network thread (commands), the
    timer thread and the caller (tests, people) all go through ``self.lock``."""

    kind: ClassVar[str]
    known_commands: ClassVar[tuple[str, ...]] = ("open", "status", "resync")

    def __init__(
        self,
        device_id: str,
        site: str,
        broker_url: str,
        state_dir: str | Path,
        *,
        username: str | None = None,
        password: str | None = None,
        time_scale: float = 1.0,
        heartbeat_s: int = 30,
        resend_interval: float = 5.0,
        seed: int | None = None,
        clock: Clock = system_clock,
        client_id: str | None = None,
    ) -> None:
        if not DEVICE_ID.match(device_id) or device_id == "server":
            raise ValueError(f"device id must match {DEVICE_ID.pattern} (and not be 'server')")
        if not DEVICE_ID.match(site):
            raise ValueError(f"site slug must match {DEVICE_ID.pattern}")
        if time_scale <= 0:
            raise ValueError("time_scale must be greater than 0")
        self.device_id = device_id
        self.site = site
        self.broker_url = broker_url
        self.username = username
        self.password = password
        self.time_scale = time_scale
        self.heartbeat_s = heartbeat_s
        self.resend_interval = resend_interval
        self.rng = random.Random(seed)
        self.clock = clock
        # The protocol's client id is the device id (docs/protocol.md §1); tests that run at
        # once on one broker give theirs another, or the broker hands one's session to the
        # other and both keep reconnecting.
        self.client_id = client_id or device_id
        self.lock = threading.RLock()
        self.store = DeviceStore(Path(state_dir) / f"{device_id}.sqlite3")
        self.timers = Scheduler(device_id)
        self.link = self._new_link()
        self._running = False

    def _new_link(self) -> Link:
        return Link(
            device_id=self.device_id,
            site=self.site,
            broker_url=self.broker_url,
            store=self.store,
            on_online=self.publish_birth_and_state,
            on_command=self.handle_command,
            username=self.username,
            password=self.password,
            heartbeat_s=self.heartbeat_s,
            resend_interval=self.resend_interval,
            clock=self.clock,
            client_id=self.client_id,
        )

    def seconds(self, nominal: float) -> float:
        """Real seconds to wait for ``nominal`` device seconds (``time_scale`` < 1 is faster)."""
        return nominal * self.time_scale

    # --- to be provided by each kind --------------------------------------------------------

    def capabilities(self) -> dict[str, Any]:
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def execute(self, command_id: str, name: str, args: dict[str, Any]) -> None:
        """Run a command of this kind or raise Reject; answer with self.answer()."""
        raise NotImplementedError

    def after_power_loss(self) -> None:
        """Settle whatever was moving when the power went."""

    # --- lifecycle --------------------------------------------------------------------------

    def start(self, *, wait: bool = True, timeout: float = 10.0) -> DeviceSim:
        self.link.start()
        self._running = True
        if wait and not self.link.wait_connected(timeout):
            raise TimeoutError(
                f"{self.device_id} could not connect to {self.broker_url}: "
                f"{self.link.last_connect_error or 'no answer'}"
            )
        return self

    def stop(self) -> None:
        """Clean shutdown: offline status, DISCONNECT, then the timers and the store."""
        if self._running:
            self.link.stop(clean=True)
            self._running = False
        self.timers.stop()
        self.store.close()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.link.wait_connected(timeout)

    @property
    def connected(self) -> bool:
        return self.link.connected

    @property
    def session(self) -> int:
        return self.link.session

    # --- faults -----------------------------------------------------------------------------

    def go_offline(self) -> None:
        """The network goes: the socket dies without DISCONNECT, the broker sends the Will."""
        self.link.go_offline()

    def go_online(self, *, wait: bool = True, timeout: float = 10.0) -> None:
        self.link.go_online()
        if wait and not self.link.wait_connected(timeout):
            raise TimeoutError(f"{self.device_id} did not reconnect")

    def reconnect(self, *, timeout: float = 10.0) -> None:
        self.go_offline()
        self.go_online(timeout=timeout)

    def power_cycle(self, *, wait: bool = True, timeout: float = 10.0) -> None:
        """Power loss and recovery, as a process restart: the link dies without DISCONNECT,
        pending timers are lost, the outbox stays; the next connect is a new session."""
        self.link.stop(clean=False)
        self.timers.stop()
        with self.lock:
            self.after_power_loss()
        self.timers = Scheduler(self.device_id)
        self.link = self._new_link()
        self.link.start()
        if wait and not self.link.wait_connected(timeout):
            raise TimeoutError(f"{self.device_id} did not come back after the power cycle")

    def send_duplicate_of_last(self) -> bool:
        return self.link.duplicate_last()

    def reorder_next(self, count: int = 2) -> None:
        self.link.reorder_next(count)

    def send_malformed(self, kind: str = "not_json") -> bytes:
        suffix, payload = faults.malformed(kind, self.device_id, self.session, utc_ts(self.clock()))
        self.link.publish_raw(suffix, payload)
        return payload

    # --- what the server sees ---------------------------------------------------------------

    @property
    def executed_commands(self) -> list[str]:
        return self.store.executed_commands()

    def unacked_count(self) -> int:
        return self.store.unacked_count()

    def publish_birth_and_state(self) -> None:
        with self.lock:
            self.link.publish(
                "birth",
                {
                    "kind": self.kind,
                    "firmware": FIRMWARE,
                    "capabilities": self.capabilities(),
                    "heartbeat_s": self.heartbeat_s,
                    "state": self.snapshot(),
                },
            )
            self.publish_state()

    def publish_state(self) -> None:
        with self.lock:
            self.link.publish("state", {"state": self.snapshot()}, retain=True)

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            return self.link.publish_event({"type": event_type, **fields})

    # --- commands ---------------------------------------------------------------------------

    def handle_command(self, payload: bytes) -> None:
        try:
            command = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            log.warning("%s: dropping a command that is not JSON", self.device_id)
            return
        command_id = command.get("id") if isinstance(command, dict) else None
        if not isinstance(command_id, str) or not COMMAND_ID.match(command_id):
            log.warning("%s: dropping a command without a readable id", self.device_id)
            return
        with self.lock:
            previous = self.store.answers(command_id)
            if previous is not None:
                # Seen before: never execute again, repeat what we said.
                for answer in previous:
                    self.link.publish("reply", answer)
                return
            try:
                name, args = self._check(command)
                if name == "resync":
                    self.answer(command_id, "accepted", executed=True)
                    self.publish_birth_and_state()
                    self.answer(command_id, "done")
                else:
                    self.execute(command_id, name, args)
            except Reject as rejection:
                self.answer(command_id, "rejected", rejection.reason)

    def _check(self, command: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        expires = command.get("expires_at")
        if command.get("v") != 1 or not isinstance(expires, str):
            raise Reject("invalid_args")
        try:
            expires_at = parse_ts(expires)
        except ValueError:
            raise Reject("invalid_args") from None
        if expires_at <= self.clock():
            raise Reject("expired")
        name, args = command.get("name"), command.get("args", {})
        if name not in self.known_commands:
            raise Reject("unknown_command")
        if not isinstance(args, dict):
            raise Reject("invalid_args")
        return name, args

    def answer(
        self, command_id: str, status: str, reason: str | None = None, *, executed: bool = False
    ) -> None:
        """Record the answer durably, then publish it."""
        body: dict[str, Any] = {"command_id": command_id, "status": status}
        if reason is not None:
            body["reason"] = reason
        self.store.record_answer(command_id, body, executed=executed)
        self.link.publish("reply", body)
