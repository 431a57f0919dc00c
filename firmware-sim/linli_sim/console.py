"""The simulator's operator console: one typed line applies a fault or a person's action to a
device of the fleet (``help`` lists them).

It sits on top of the device kinds (locker, blood-pressure terminal, kiosk reader) and drives them; the
device core (``device``, ``faults``) never imports it, so no kind depends on another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from linli_sim.bp_terminal import BpTerminalSim
from linli_sim.device import DeviceSim
from linli_sim.faults import MALFORMED_KINDS
from linli_sim.kiosk_reader import KioskReaderSim
from linli_sim.locker import LockerSim

CONSOLE_HELP = """\
commands (device ids as in the fleet):
  list                           every device, online or not, and its session
  show DEVICE                    the device's state
  offline DEVICE                 drop the connection without DISCONNECT (the Will fires)
  online DEVICE                  reconnect after `offline`
  power-cycle DEVICE             power loss and recovery (new session, outbox kept)
  duplicate DEVICE               send the last message again
  reorder DEVICE [N]             send the next N messages in reverse order
  malformed DEVICE KIND          send a malformed payload ({kinds})
  jam LOCKER N | unjam LOCKER N  jam or free compartment N
  force-open LOCKER N            open a locked door (no command)
  leave-open LOCKER N            open compartment N's door and leave it open
  open-door LOCKER N | take LOCKER N | put LOCKER N | close LOCKER N   a person at the locker
  card BP|READER CARD_ID         a card is read (at a terminal or a kiosk reader)
  scan READER TEXT               a kiosk reader scans a code reading TEXT (e.g. LINLI:B:...)
  measure BP [SYS DIA PULSE]     a measurement (random values unless given)
  error BP CODE                  a failed measurement (cuff_error, motion, ...)
  help | quit""".format(kinds=", ".join(MALFORMED_KINDS))


def run_console_line(devices: Mapping[str, DeviceSim], line: str) -> str:
    """Apply one console line to the fleet and say what happened (errors as text, never raised)."""
    words = line.split()
    if not words:
        return ""
    verb, rest = words[0].lower(), words[1:]
    if verb == "help":
        return CONSOLE_HELP
    if verb == "list":
        return "\n".join(
            f"{d.device_id:<20} {d.kind:<12} {'online' if d.connected else 'OFFLINE'} "
            f"session {d.session} unacked {d.unacked_count()}"
            for d in devices.values()
        )
    if not rest:
        return f"{verb}: which device? ({', '.join(devices)})"
    device = devices.get(rest[0])
    if device is None:
        return f"no device {rest[0]!r}; the fleet has {', '.join(devices)}"
    args = rest[1:]
    try:
        if verb == "show":
            return json.dumps(device.snapshot())
        if verb == "offline":
            device.go_offline()
        elif verb == "online":
            device.go_online()
        elif verb == "power-cycle":
            device.power_cycle()
        elif verb == "duplicate":
            return "sent" if device.send_duplicate_of_last() else "nothing sent yet"
        elif verb == "reorder":
            device.reorder_next(int(args[0]) if args else 2)
        elif verb == "malformed":
            device.send_malformed(args[0] if args else "not_json")
        elif isinstance(device, LockerSim) and verb in LOCKER_VERBS:
            if not args:
                return f"{verb}: which compartment?"
            done = getattr(device, LOCKER_VERBS[verb])(int(args[0]))
            if done is False:
                return f"{verb}: not possible now ({json.dumps(device.compartment(int(args[0])))})"
        elif isinstance(device, BpTerminalSim | KioskReaderSim) and verb == "card":
            device.read_card(args[0] if args else "C0000001")
        elif isinstance(device, KioskReaderSim) and verb == "scan":
            # The rest of the line as typed: a code's text may hold spaces.
            text = line.strip().split(None, 2)[2] if len(args) else ""
            return json.dumps(device.scan(text))
        elif isinstance(device, BpTerminalSim) and verb == "measure":
            values = None
            if len(args) >= 2:
                values = {"systolic": int(args[0]), "diastolic": int(args[1])}
                if len(args) >= 3:
                    values["pulse"] = int(args[2])
            return json.dumps(device.measure(values))
        elif isinstance(device, BpTerminalSim) and verb == "error":
            return json.dumps(device.measure(error=args[0] if args else "cuff_error"))
        else:
            return f"unknown command {verb!r} for a {device.kind}; try help"
    except (ValueError, IndexError, TimeoutError) as error:
        return f"{verb}: {error}"
    return "ok"


LOCKER_VERBS = {
    "jam": "jam",
    "unjam": "unjam",
    "force-open": "force_open",
    "leave-open": "leave_door_open",
    "open-door": "person_opens",
    "take": "person_takes_item",
    "put": "person_puts_item",
    "close": "person_closes",
}
