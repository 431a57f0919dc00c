"""The simulated blood-pressure terminal: card, measurement, reading; no value in its state."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sim_probe import ServerProbe

from linli_sim import people
from linli_sim.bp_terminal import BpTerminalSim

StartDevice = Callable[..., Any]


def test_birth_says_bp_terminal_with_a_card_reader_and_idle(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    start_device(BpTerminalSim, "bp-1")
    birth = probe.wait_for("bp-1", "birth")[0]
    assert (birth["kind"], birth["capabilities"], birth["state"]) == (
        "bp_terminal",
        {"card_reader": True},
        {"phase": "idle"},
    )


def test_a_card_then_a_measurement_gives_a_reading_for_that_card(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    terminal = start_device(BpTerminalSim, "bp-1")
    terminal.read_card("C0012345")
    terminal.measure({"systolic": 162, "diastolic": 94, "pulse": 81})
    events = probe.wait_for("bp-1", "event", 3)
    assert [e["type"] for e in events] == ["card_read", "measurement_started", "reading"]
    reading = events[2]
    assert (reading["systolic"], reading["diastolic"], reading["pulse"]) == (162, 94, 81)
    assert reading["mean_arterial_pressure"] == 116.7
    assert reading["card_id"] == "C0012345"
    assert reading["unit"] == "mmHg"


def test_a_measurement_without_a_card_has_no_card_id(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    terminal = start_device(BpTerminalSim, "bp-1")
    terminal.measure({"systolic": 120, "diastolic": 80})
    reading = probe.wait_for("bp-1", "event", type="reading")[0]
    assert reading["card_id"] is None


def test_the_state_never_carries_a_health_value(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    terminal = start_device(BpTerminalSim, "bp-1")
    terminal.read_card("C0000007")
    terminal.measure({"systolic": 150, "diastolic": 90})
    probe.wait_for("bp-1", "event", type="reading")
    phases = [m["state"] for m in probe.wait_for("bp-1", "state", 4)]
    assert phases == [
        {"phase": "idle"},
        {"phase": "card_read"},
        {"phase": "measuring"},
        {"phase": "idle"},
    ]


def test_a_failed_measurement_reports_its_error_code(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    terminal = start_device(BpTerminalSim, "bp-1")
    terminal.measure(error="cuff_error")
    error = probe.wait_for("bp-1", "event", type="measurement_error")[0]
    assert error["code"] == "cuff_error"
    assert terminal.phase == "idle"


def test_open_is_not_supported_by_a_bp_terminal(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    terminal = start_device(BpTerminalSim, "bp-1")
    command_id = probe.command("bp-1", "open", {"compartment": 1})
    reply = probe.wait_for("bp-1", "reply", command_id=command_id)[0]
    assert reply["reason"] == "not_supported"
    assert terminal.executed_commands == []


def test_many_random_measurements_all_satisfy_the_schema(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    terminal = start_device(BpTerminalSim, "bp-1", measure_s=0, seed=7)
    for _ in range(40):
        terminal.measure()
    # Everything sent was validated by the probe; 40 measurements, each ending in one event.
    probe.wait_until(
        lambda: (
            len(probe.of("bp-1", "event", type="reading"))
            + len(probe.of("bp-1", "event", type="measurement_error"))
            == 40
        )
    )


def test_simulated_elderly_blood_pressure_is_realistic() -> None:
    rng = random.Random(2026)
    readings = [people.blood_pressure(rng) for _ in range(4000)]
    high = sum(r["systolic"] >= 140 or r["diastolic"] >= 90 for r in readings) / len(readings)
    severe = sum(r["systolic"] >= 180 or r["diastolic"] >= 110 for r in readings) / len(readings)
    assert 0.3 < high < 0.6
    assert 0.02 < severe < 0.1
    assert all(r["diastolic"] < r["systolic"] for r in readings)
    assert all(r["pulse"] is None or 55 <= r["pulse"] <= 100 for r in readings)
    assert all(
        abs(r["mean_arterial_pressure"] - (r["diastolic"] + (r["systolic"] - r["diastolic"]) / 3))
        <= 0.05
        for r in readings
    )
    assert any(r["flags"]["irregular_pulse"] for r in readings)
