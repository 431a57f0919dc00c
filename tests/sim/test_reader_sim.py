"""The simulated kiosk reader: a card reader and a QR scanner that report what they read, as
docs/protocol.md §8.1 says, and never put a read into their state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim_probe import ServerProbe

from linli_sim.console import run_console_line
from linli_sim.fleet import default_specs
from linli_sim.kiosk_reader import KioskReaderSim

StartDevice = Callable[..., Any]


def test_birth_says_kiosk_reader_with_its_card_reader_and_scanner_ready(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    start_device(KioskReaderSim, "reader-1")
    birth = probe.wait_for("reader-1", "birth")[0]
    assert (birth["kind"], birth["capabilities"], birth["state"]) == (
        "kiosk_reader",
        {"card_reader": True, "code_scanner": True},
        {"reader": "ready"},
    )


def test_a_card_and_a_code_from_the_console_are_sent_as_read(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    reader = start_device(KioskReaderSim, "reader-1")
    devices = {"reader-1": reader}
    assert run_console_line(devices, "card reader-1 CARD0001") == "ok"
    run_console_line(devices, "scan reader-1 LINLI:B:abc def")
    events = probe.wait_for("reader-1", "event", 2)
    assert [(e["type"], e.payload.get("card_id"), e.payload.get("text")) for e in events] == [
        ("card_read", "CARD0001", None),
        ("code_scanned", None, "LINLI:B:abc def"),
    ]
    assert "CARD0001" not in str(reader.snapshot())


def test_a_scan_without_text_is_refused_at_the_console_and_nothing_is_sent(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    reader = start_device(KioskReaderSim, "reader-1")
    devices = {"reader-1": reader}
    assert run_console_line(devices, "scan reader-1") == "scan: a scanned code has some text"
    run_console_line(devices, "card reader-1 CARD0002")
    assert [e["type"] for e in probe.wait_for("reader-1", "event", 1)] == ["card_read"]


def test_a_fleet_can_have_readers() -> None:
    specs = default_specs(1, 0, readers=2)
    assert [(s.device_id, s.kind) for s in specs] == [
        ("locker-a", "locker"),
        ("reader-1", "kiosk_reader"),
        ("reader-2", "kiosk_reader"),
    ]
