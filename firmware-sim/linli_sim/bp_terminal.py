"""The blood-pressure terminal: a card reader and a cuff. Its retained state is only the
phase; values leave the device only in `reading` events (docs/protocol.md §8)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from linli_sim import people
from linli_sim.device import DeviceSim, Reject
from linli_sim.wire import utc_ts

ERROR_CODES = ("cuff_error", "motion", "overpressure", "low_battery", "timeout")
# Share of measurements that fail on their own (without a requested error).
ERROR_RATE = 0.03


class BpTerminalSim(DeviceSim):
    kind = "bp_terminal"
    known_commands = ("open", "status", "resync")

    def __init__(
        self,
        device_id: str,
        site: str,
        broker_url: str,
        state_dir: str | Path,
        *,
        measure_s: float = 30.0,
        **options: Any,
    ) -> None:
        super().__init__(device_id, site, broker_url, state_dir, **options)
        self.phase = "idle"
        self.card: str | None = None
        self.measure_s = measure_s

    def capabilities(self) -> dict[str, Any]:
        return {"card_reader": True}

    def snapshot(self) -> dict[str, Any]:
        return {"phase": self.phase}

    def execute(self, command_id: str, name: str, args: dict[str, Any]) -> None:
        raise Reject("not_supported")

    def after_power_loss(self) -> None:
        self.phase = "idle"
        self.card = None

    def _phase(self, phase: str) -> None:
        self.phase = phase
        self.publish_state()

    def read_card(self, card_id: str) -> dict[str, Any]:
        with self.lock:
            self.card = card_id
            event = self.emit("card_read", card_id=card_id)
            self._phase("card_read")
            return event

    def measure(
        self, values: dict[str, Any] | None = None, *, error: str | None = None
    ) -> dict[str, Any]:
        """Take a measurement (blocking for ``measure_s`` device seconds) and return the
        `reading` or `measurement_error` event. ``values`` overrides the random values."""
        if error is not None and error not in ERROR_CODES:
            raise ValueError(f"measurement error must be one of {', '.join(ERROR_CODES)}")
        with self.lock:
            self.emit("measurement_started")
            self._phase("measuring")
        time.sleep(self.seconds(self.measure_s))
        with self.lock:
            if error is None and values is None and self.rng.random() < ERROR_RATE:
                error = self.rng.choice(ERROR_CODES)
            if error is not None:
                event = self.emit("measurement_error", code=error)
                self._phase("error")
                self.card = None
                self._phase("idle")
                return event
            reading = people.blood_pressure(self.rng)
            if values:
                reading.update(values)
                if "mean_arterial_pressure" not in values:
                    reading["mean_arterial_pressure"] = people.mean_arterial_pressure(
                        reading["systolic"], reading["diastolic"]
                    )
            event = self.emit(
                "reading",
                systolic=reading["systolic"],
                diastolic=reading["diastolic"],
                mean_arterial_pressure=reading["mean_arterial_pressure"],
                unit="mmHg",
                pulse=reading["pulse"],
                measured_at=utc_ts(self.clock()),
                card_id=self.card,
                flags=reading["flags"],
            )
            self.card = None
            self._phase("idle")
            return event
