"""linli-sim: simulated firmware for Linli's lockers and blood-pressure terminal.

It is someone else's hardware speaking docs/protocol.md, so it imports nothing of the
Linli server (only the standard library and paho-mqtt) and validates nothing with the
server's tools: a bug here must show up as a protocol violation on the wire.
"""

from __future__ import annotations

FIRMWARE = "linli-sim 0.1.0"
