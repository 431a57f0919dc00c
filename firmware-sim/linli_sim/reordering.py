"""A fault a real device can show: messages that reach the broker out of order. The next
few sequenced messages are held back, then sent newest first."""

from __future__ import annotations

Outgoing = tuple[str, bytes, bool]  # topic suffix, payload, retain


class Reversal:
    def __init__(self) -> None:
        self._held: list[Outgoing] = []
        self._count = 0

    def hold(self, count: int) -> None:
        """Hold the next ``count`` messages, to send them in reverse order."""
        self._count, self._held = count, []

    def send(self, message: Outgoing) -> list[Outgoing]:
        """What to send now: the message itself, nothing while holding, or all held reversed."""
        if not self._count:
            return [message]
        self._held.append(message)
        if len(self._held) < self._count:
            return []
        held, self._held, self._count = self._held, [], 0
        return held[::-1]
