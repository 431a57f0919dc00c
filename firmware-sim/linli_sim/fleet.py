"""A fleet of simulated devices for one site: from counts (locker-a, locker-b, bp-1, …) or from
the provisioning file the server's `devices` commands write."""

from __future__ import annotations

import json
import logging
import random
import string
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linli_sim.bp_terminal import BpTerminalSim
from linli_sim.device import DEVICE_ID, DeviceSim
from linli_sim.kiosk_reader import KioskReaderSim
from linli_sim.locker import MAX_COMPARTMENTS, LockerSim
from linli_sim.people import card_id

log = logging.getLogger(__name__)

KINDS = ("locker", "bp_terminal", "kiosk_reader")


@dataclass(frozen=True)
class DeviceSpec:
    device_id: str
    kind: str
    username: str | None = None
    password: str | None = None
    compartments: int = 8


def default_specs(
    lockers: int, bp: int, compartments: int = 8, readers: int = 0
) -> list[DeviceSpec]:
    if lockers < 0 or bp < 0 or readers < 0 or lockers > len(string.ascii_lowercase):
        raise ValueError("--lockers must be 0 to 26, --bp and --readers at least 0")
    specs = [
        DeviceSpec(f"locker-{letter}", "locker", compartments=compartments)
        for letter in string.ascii_lowercase[:lockers]
    ]
    specs += [DeviceSpec(f"bp-{i}", "bp_terminal") for i in range(1, bp + 1)]
    specs += [DeviceSpec(f"reader-{i}", "kiosk_reader") for i in range(1, readers + 1)]
    return specs


def load_specs(path: Path) -> list[DeviceSpec]:
    """Read a devices file: ``[{"device_id", "kind", "username", "password", "compartments"}]``.
    Raises ValueError naming the entry and field at fault."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read devices file {path}: {error}") from None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: expected a non-empty JSON list of devices")
    specs: list[DeviceSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path}: entry {index}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected an object")
        unknown = set(entry) - {
            "device_id",
            "kind",
            "username",
            "password",
            "compartments",
            "name",
            "site",
        }
        if unknown:
            raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
        device_id = entry.get("device_id")
        if not isinstance(device_id, str) or not DEVICE_ID.match(device_id):
            raise ValueError(f"{where}: device_id must match {DEVICE_ID.pattern}")
        if device_id in seen:
            raise ValueError(f"{where}: device_id {device_id!r} appears twice")
        seen.add(device_id)
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}")
        compartments = entry.get("compartments", 8)
        if kind == "locker" and (
            not isinstance(compartments, int) or not 1 <= compartments <= MAX_COMPARTMENTS
        ):
            raise ValueError(f"{where}: compartments must be 1 to {MAX_COMPARTMENTS}")
        for key in ("username", "password"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise ValueError(f"{where}: {key} must be a string")
        specs.append(
            DeviceSpec(
                device_id=device_id,
                kind=kind,
                username=entry.get("username"),
                password=entry.get("password"),
                compartments=compartments if kind == "locker" else 8,
            )
        )
    return specs


class Fleet:
    def __init__(
        self,
        specs: list[DeviceSpec],
        *,
        site: str,
        broker_url: str,
        state_dir: Path,
        auto_person: bool = False,
        no_show_rate: float = 0.0,
        time_scale: float = 1.0,
        activity_every_s: float | None = 180.0,
        seed: int | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.devices: dict[str, DeviceSim] = {}
        for spec in specs:
            options: dict[str, Any] = {
                "username": spec.username,
                "password": spec.password,
                "time_scale": time_scale,
                "seed": self.rng.randrange(2**32),
            }
            device: DeviceSim
            if spec.kind == "locker":
                device = LockerSim(
                    spec.device_id,
                    site,
                    broker_url,
                    state_dir,
                    spec.compartments,
                    auto_person=auto_person,
                    no_show_rate=no_show_rate,
                    **options,
                )
            elif spec.kind == "kiosk_reader":
                device = KioskReaderSim(spec.device_id, site, broker_url, state_dir, **options)
            else:
                device = BpTerminalSim(spec.device_id, site, broker_url, state_dir, **options)
            self.devices[spec.device_id] = device
        self.activity_every_s = activity_every_s
        self._stopping = threading.Event()
        self._activity: list[threading.Thread] = []

    def start(self) -> None:
        for device in self.devices.values():
            # Do not wait: a fleet keeps retrying (with backoff) until the broker is there.
            device.start(wait=False)
        if self.activity_every_s:
            for device in self.devices.values():
                if isinstance(device, BpTerminalSim):
                    thread = threading.Thread(
                        target=self._visitors,
                        args=(device,),
                        name=f"visitors-{device.device_id}",
                        daemon=True,
                    )
                    thread.start()
                    self._activity.append(thread)

    def _visitors(self, terminal: BpTerminalSim) -> None:
        """Residents drop by now and then: most tap their card first, some do not."""
        assert self.activity_every_s is not None
        while not self._stopping.wait(
            terminal.seconds(self.rng.expovariate(1 / self.activity_every_s))
        ):
            if not terminal.connected:
                continue
            try:
                if self.rng.random() < 0.8:
                    terminal.read_card(card_id(self.rng))
                terminal.measure()
            except Exception:  # a visitor's mishap must not end the demo
                log.exception("%s: simulated visit failed", terminal.device_id)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._activity:
            thread.join(timeout=5)
        for device in self.devices.values():
            device.stop()
