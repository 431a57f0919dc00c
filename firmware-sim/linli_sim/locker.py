"""A smart tool locker: N compartments, each with a lock (Home Assistant's lock states), a
door sensor and an item sensor. docs/protocol.md §7 is the state machine."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linli_sim.device import DeviceSim, Reject
from linli_sim.people import AutoPerson
from linli_sim.timers import Timer

MAX_COMPARTMENTS = 64


@dataclass
class Compartment:
    n: int
    lock: str = "locked"
    door: str = "closed"
    item_present: bool = True
    # The command that unlocked it, reported with door_opened; None after a forced open.
    command_id: str | None = None
    opened_at: float | None = None
    timers: list[Timer] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "lock": self.lock,
            "door": self.door,
            "item_present": self.item_present,
        }

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


class LockerSim(DeviceSim):
    kind = "locker"
    known_commands = ("open", "status", "resync")

    def __init__(
        self,
        device_id: str,
        site: str,
        broker_url: str,
        state_dir: str | Path,
        compartments: int = 8,
        *,
        auto_person: bool = False,
        no_show_rate: float = 0.0,
        relock_after_s: float = 60.0,
        door_left_open_after_s: float = 60.0,
        unlock_s: float = 0.5,
        lock_s: float = 0.5,
        **options: Any,
    ) -> None:
        if not 1 <= compartments <= MAX_COMPARTMENTS:
            raise ValueError(f"a locker has 1 to {MAX_COMPARTMENTS} compartments")
        super().__init__(device_id, site, broker_url, state_dir, **options)
        self.compartments = [Compartment(n) for n in range(1, compartments + 1)]
        # Every compartment starts with its item, except where a person took it out (or left
        # one) before this simulator last stopped: the tools stay where they were.
        for n, present in self.store.contents().items():
            if 1 <= n <= compartments:
                self.compartments[n - 1].item_present = present
        self.relock_after_s = relock_after_s
        self.door_left_open_after_s = door_left_open_after_s
        self.unlock_s = unlock_s
        self.lock_s = lock_s
        self.person = AutoPerson(self, self.rng, no_show_rate=no_show_rate) if auto_person else None

    def capabilities(self) -> dict[str, Any]:
        return {"compartments": len(self.compartments)}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"compartments": [c.state() for c in self.compartments]}

    def compartment(self, n: int) -> dict[str, Any]:
        with self.lock:
            return self._get(n).state()

    def _get(self, n: int) -> Compartment:
        if not 1 <= n <= len(self.compartments):
            raise ValueError(f"{self.device_id} has compartments 1 to {len(self.compartments)}")
        return self.compartments[n - 1]

    def _after(self, c: Compartment, nominal_s: float, action: Any) -> None:
        c.timers.append(self.timers.call_later(self.seconds(nominal_s), action))

    # --- commands ---------------------------------------------------------------------------

    def execute(self, command_id: str, name: str, args: dict[str, Any]) -> None:
        if name == "status":
            self.answer(command_id, "accepted", executed=True)
            self.publish_state()
            self.answer(command_id, "done")
            return
        n = args.get("compartment")
        # bool is an int in Python; `true` is not a compartment number.
        if set(args) != {"compartment"} or not isinstance(n, int) or isinstance(n, bool):
            raise Reject("invalid_args")
        if not 1 <= n <= len(self.compartments):
            raise Reject("invalid_args")
        c = self._get(n)
        if c.lock == "jammed":
            raise Reject("jammed")
        if c.door == "open":
            raise Reject("door_open")
        if c.lock != "locked":
            raise Reject("busy")
        self.answer(command_id, "accepted", executed=True)
        c.lock = "unlocking"
        self.publish_state()
        self._after(c, self.unlock_s, lambda: self._unlocked(c, command_id))

    def _unlocked(self, c: Compartment, command_id: str) -> None:
        with self.lock:
            if c.lock != "unlocking":
                return
            c.lock = "unlocked"
            c.command_id = command_id
            self.publish_state()
            self.answer(command_id, "done")
            self._after(c, self.relock_after_s, lambda: self._relock_unopened(c))
        if self.person is not None:
            self.person.after_unlock(c.n)

    def _relock_unopened(self, c: Compartment) -> None:
        with self.lock:
            if c.lock == "unlocked" and c.door == "closed":
                c.command_id = None
                self._start_locking(c)

    def _start_locking(self, c: Compartment) -> None:
        c.lock = "locking"
        self.publish_state()
        self._after(c, self.lock_s, lambda: self._locked(c))

    def _locked(self, c: Compartment) -> None:
        with self.lock:
            if c.lock == "locking" and c.door == "closed":
                c.lock = "locked"
                self.publish_state()

    def _door_opens(self, c: Compartment) -> None:
        c.cancel_timers()
        c.lock = "open"
        c.door = "open"
        c.opened_at = time.monotonic()
        self._after(c, self.door_left_open_after_s, lambda: self._left_open(c))

    def _left_open(self, c: Compartment) -> None:
        with self.lock:
            if c.door != "open" or c.opened_at is None:
                return
            # Report device seconds, whatever the demo's time scale.
            open_seconds = round((time.monotonic() - c.opened_at) / self.time_scale)
            self.emit("door_left_open", compartment=c.n, open_seconds=open_seconds)

    # --- a person at the locker -------------------------------------------------------------

    def person_opens(self, n: int) -> bool:
        """Pull the door of an unlocked compartment; False if it is not unlocked."""
        with self.lock:
            c = self._get(n)
            if c.door == "open" or c.lock != "unlocked":
                return False
            self._door_opens(c)
            self.emit("door_opened", compartment=n, command_id=c.command_id)
            self.publish_state()
            return True

    def person_takes_item(self, n: int) -> bool:
        return self._set_item(n, present=False)

    def person_puts_item(self, n: int) -> bool:
        return self._set_item(n, present=True)

    def _set_item(self, n: int, *, present: bool) -> bool:
        with self.lock:
            c = self._get(n)
            if c.door != "open" or c.item_present == present:
                return False
            c.item_present = present
            self.store.keep_contents(n, present)
            self.emit("item_present_changed", compartment=n, present=present)
            self.publish_state()
            return True

    def person_closes(self, n: int) -> bool:
        with self.lock:
            c = self._get(n)
            if c.door != "open":
                return False
            c.cancel_timers()
            c.door = "closed"
            c.opened_at = None
            c.command_id = None
            self.emit("door_closed", compartment=n)
            if c.lock == "jammed":
                self.publish_state()
            else:
                self._start_locking(c)
            return True

    # --- faults -----------------------------------------------------------------------------

    def force_open(self, n: int) -> bool:
        """Someone pries a closed door open: no command, so `forced_open`."""
        with self.lock:
            c = self._get(n)
            if c.door == "open":
                return False
            c.command_id = None
            self._door_opens(c)
            self.emit("forced_open", compartment=n)
            self.publish_state()
            return True

    def leave_door_open(self, n: int) -> bool:
        """Open the door (forced if it was locked) and raise `door_left_open` now."""
        with self.lock:
            c = self._get(n)
            if c.door == "closed" and not (self.person_opens(n) or self.force_open(n)):
                return False
            self._left_open(c)
            return True

    def jam(self, n: int) -> bool:
        with self.lock:
            c = self._get(n)
            if c.lock == "jammed":
                return False
            c.cancel_timers()
            c.lock = "jammed"
            self.emit("jammed", compartment=n, command_id=None)
            self.publish_state()
            return True

    def unjam(self, n: int) -> bool:
        """A technician frees the bolt: it locks again."""
        with self.lock:
            c = self._get(n)
            if c.lock != "jammed":
                return False
            c.lock = "locked" if c.door == "closed" else "open"
            self.publish_state()
            return True

    def after_power_loss(self) -> None:
        # Bolts are spring-loaded: without power a moving bolt falls back to locked.
        for c in self.compartments:
            c.timers.clear()
            if c.lock in ("unlocking", "unlocked", "locking") and c.door == "closed":
                c.lock = "locked"
                c.command_id = None
