"""The demo's devices: registering each centre's lockers and terminal (idempotently), and
where the simulated fleet keeps its devices file and its state."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from booking.core.clock import Clock
from booking.core.db import Database
from booking.demo import centre as demo_centre
from booking.demo import district as demo_district
from devices.fleet import provisioning
from devices.models.device import Device, DeviceKind

DEVICES_FILE = "demo-devices.json"


def demo_devices(
    centre: demo_district.DemoCentre = demo_district.FIRST,
) -> list[tuple[str, DeviceKind]]:
    return [(d, DeviceKind.LOCKER) for d in centre.lockers] + [
        (d, DeviceKind.BP_TERMINAL) for d in centre.bp_terminals
    ]


def devices_file_of(instance: Path, centre: demo_district.DemoCentre) -> Path:
    """The simulator's devices file of a centre: the demo centre's keeps its old name."""
    if centre.slug == demo_district.FIRST.slug:
        return instance / DEVICES_FILE
    return instance / f"demo-devices-{centre.slug}.json"


def sim_state_of(instance: Path, centre: demo_district.DemoCentre) -> Path:
    """The simulated fleet's state directory of a centre (a file a device: its session
    counter, its unacknowledged events and what lies in its compartments)."""
    if centre.slug == demo_district.FIRST.slug:
        return instance / "sim-state"
    return instance / f"sim-state-{centre.slug}"


def provision(
    database: Database,
    clock: Clock,
    devices_file: Path,
    centre: demo_district.DemoCentre = demo_district.FIRST,
    sim_state: Path | None = None,
) -> list[dict[str, Any]]:
    """Register the demo devices of ``centre`` (the demo centre unless a district's other
    centre is given), or reuse them; write the simulator's devices file.

    A password is only ever known at registration, so the file is the memory: when it
    still matches the stored hash the device keeps its password (and the broker's files
    stay the same); otherwise the device gets a new one.

    A device registered anew is a new one, full of its tools: its simulated state in
    ``sim_state`` (the tools taken out of it, its session counter) belonged to a database
    that is gone, and is forgotten with it.
    """
    known: dict[str, str] = {}
    if devices_file.exists():
        try:
            for remembered in json.loads(devices_file.read_text()):
                known[remembered["device_id"]] = remembered["password"]
        except (ValueError, KeyError, TypeError):
            known = {}
    entries = []
    with database.write() as session:
        site = provisioning.site_by_slug(session, centre.slug)
        for device_id, kind in demo_devices(centre):
            device = session.scalar(select(Device).where(Device.device_id == device_id))
            password = known.get(device_id)
            if device is None:
                if sim_state is not None:
                    for leftover in sim_state.glob(f"{device_id}.sqlite3*"):
                        leftover.unlink()
                device, password = provisioning.register_device(
                    session,
                    site.id,
                    device_id,
                    kind,
                    # A district's other centres name theirs as the demo centre does.
                    demo_centre.DEVICE_NAMES.get(
                        device_id.removeprefix(f"{centre.slug}-"), device_id
                    ),
                    clock.now(),
                )
            elif password is None or not provisioning.verify_mosquitto_hash(
                device.mqtt_password_hash, password
            ):
                device, password = provisioning.rotate_password(session, device_id)
            entry: dict[str, Any] = {
                "device_id": device_id,
                "kind": kind.value,
                "username": device_id,
                "password": password,
                "site": centre.slug,
            }
            if kind is DeviceKind.LOCKER:
                entry["compartments"] = demo_centre.COMPARTMENTS_PER_LOCKER
            entries.append(entry)
    fd = os.open(devices_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(entries, out, indent=2)
    return entries
