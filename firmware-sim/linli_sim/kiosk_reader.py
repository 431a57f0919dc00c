"""The kiosk reader: a card reader and a QR scanner beside a kiosk screen. It reads and
reports; what a read means is the server's business (docs/protocol.md §8.1). Its retained
state says only whether it can read, never what it read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from linli_sim.device import DeviceSim, Reject

# event.json's bound on a scanned text; a real scanner cuts off what it cannot send.
MAX_TEXT = 512


class KioskReaderSim(DeviceSim):
    kind = "kiosk_reader"
    known_commands = ("open", "status", "resync")

    def __init__(
        self, device_id: str, site: str, broker_url: str, state_dir: str | Path, **options: Any
    ) -> None:
        super().__init__(device_id, site, broker_url, state_dir, **options)
        self.reader = "ready"

    def capabilities(self) -> dict[str, Any]:
        return {"card_reader": True, "code_scanner": True}

    def snapshot(self) -> dict[str, Any]:
        return {"reader": self.reader}

    def execute(self, command_id: str, name: str, args: dict[str, Any]) -> None:
        raise Reject("not_supported")

    def after_power_loss(self) -> None:
        self.reader = "ready"

    def read_card(self, card_id: str) -> dict[str, Any]:
        """A card is held to the reader."""
        with self.lock:
            return self.emit("card_read", card_id=card_id)

    def scan(self, text: str) -> dict[str, Any]:
        """A code is held to the scanner; ``text`` is what it reads, sent as read."""
        if not text:
            raise ValueError("a scanned code has some text")
        with self.lock:
            return self.emit("code_scanned", text=text[:MAX_TEXT])
