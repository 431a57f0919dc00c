"""`linli-sim fleet`: devices from counts or from the provisioning file, clean shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sim_probe import ServerProbe

from linli_sim.console import run_console_line
from linli_sim.fleet import DeviceSpec, default_specs, load_specs
from linli_sim.locker import LockerSim

StartDevice = Callable[..., Any]


def test_default_fleet_names_lockers_by_letter_and_terminals_by_number() -> None:
    assert [s.device_id for s in default_specs(2, 1)] == ["locker-a", "locker-b", "bp-1"]


def test_devices_file_gives_ids_kinds_and_credentials(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    path.write_text(
        json.dumps(
            [
                {
                    "device_id": "locker-a",
                    "kind": "locker",
                    "username": "locker-a",
                    "password": "pw1",
                    "compartments": 12,
                },
                {"device_id": "bp-1", "kind": "bp_terminal", "username": "bp-1", "password": "pw2"},
            ]
        )
    )
    assert load_specs(path) == [
        DeviceSpec("locker-a", "locker", "locker-a", "pw1", 12),
        DeviceSpec("bp-1", "bp_terminal", "bp-1", "pw2", 8),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read devices file"),
        ("[]", "non-empty JSON list"),
        ('[{"device_id": "Locker A", "kind": "locker"}]', "device_id must match"),
        ('[{"device_id": "locker-a", "kind": "printer"}]', "kind must be one of"),
        (
            '[{"device_id": "locker-a", "kind": "locker", "compartments": 0}]',
            "compartments must be 1 to 64",
        ),
        (
            '[{"device_id": "a", "kind": "locker"}, {"device_id": "a", "kind": "locker"}]',
            "appears twice",
        ),
        ('[{"device_id": "a", "kind": "locker", "colour": "red"}]', "unknown fields"),
        ('[{"device_id": "a", "kind": "locker", "password": 12}]', "password must be a string"),
    ],
)
def test_a_bad_devices_file_is_refused_with_the_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "devices.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_specs(path)


def test_console_line_jams_a_compartment(start_device: StartDevice, probe: ServerProbe) -> None:
    locker = start_device(LockerSim, "locker-a")
    assert run_console_line({"locker-a": locker}, "jam locker-a 3") == "ok"
    assert locker.compartment(3)["lock"] == "jammed"
    assert "no device" in run_console_line({"locker-a": locker}, "jam locker-z 3")


def test_fleet_runs_until_interrupted_then_goes_offline_cleanly(
    mqtt_url: str, mqtt_site: str, tmp_path: Path, probe: ServerProbe
) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "linli_sim.cli",
            "fleet",
            "--lockers",
            "1",
            "--bp",
            "1",
            "--broker",
            mqtt_url,
            "--site",
            mqtt_site,
            "--state-dir",
            str(tmp_path / "fleet"),
            "--no-console",
            "--activity-every",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        probe.wait_for("locker-a", "birth")
        probe.wait_for("bp-1", "birth")
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "stopped cleanly" in output
    probe.wait_for("locker-a", "status", state="offline")
    probe.wait_for("bp-1", "status", state="offline")
    for device in ("locker-a", "bp-1"):
        for suffix in ("status", "state"):
            probe.publish(device, suffix, b"")
