"""Fixtures for the simulator tests: the probe (a bare MQTT client acting as the server) and
devices that are stopped, and their retained topics cleared, after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_probe import ServerProbe


@pytest.fixture
def probe(mqtt_url: str, mqtt_site: str) -> Iterator[ServerProbe]:
    probe = ServerProbe(mqtt_url, mqtt_site)
    yield probe
    # Leave no retained server status behind on a shared broker.
    probe.client.publish(
        f"linli/v1/{mqtt_site}/server/status", b"", qos=1, retain=True
    ).wait_for_publish(5)
    probe.close()
    assert len(probe.invalid) == probe.expected_invalid, (
        f"the simulator sent payloads that break docs/schemas: {probe.invalid}"
    )


@pytest.fixture
def start_device(
    mqtt_url: str, mqtt_site: str, tmp_path: Path, probe: ServerProbe
) -> Iterator[Callable[..., Any]]:
    """Start a simulated device (LockerSim or BpTerminalSim) that is stopped after the test."""
    started: list[Any] = []

    def start(cls: type, device_id: str, **options: Any) -> Any:
        options.setdefault("time_scale", 0.01)
        # Another test may run a "locker-a" on the same broker at the same time.
        options.setdefault("client_id", f"{mqtt_site}-{device_id}")
        device = cls(
            device_id, mqtt_site, options.pop("broker_url", mqtt_url), tmp_path / "state", **options
        )
        started.append(device)
        device.start()
        probe.wait_for(device_id, "birth")
        return device

    yield start
    for device in started:
        device.stop()
        # A shared broker keeps retained topics forever: clear this test's.
        for suffix in ("status", "state"):
            probe.publish(device.device_id, suffix, b"")
