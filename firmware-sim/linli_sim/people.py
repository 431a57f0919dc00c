"""Simulated people: residents who open a compartment after the server unlocked it, and the
blood pressure of an elderly population."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linli_sim.locker import LockerSim

FLAG_NAMES = (
    "body_movement",
    "cuff_too_loose",
    "irregular_pulse",
    "pulse_out_of_range",
    "improper_position",
)
# How often each Measurement Status bit is set among elderly users (irregular pulse is common:
# atrial fibrillation affects roughly one in ten people over 75).
FLAG_RATES = {
    "body_movement": 0.03,
    "cuff_too_loose": 0.02,
    "irregular_pulse": 0.08,
    "pulse_out_of_range": 0.01,
    "improper_position": 0.02,
}


def blood_pressure(rng: random.Random) -> dict[str, Any]:
    """One reading of someone over 60: many above 140/90, a few above 180/110."""
    band = rng.random()
    if band < 0.05:  # severe
        systolic, diastolic = rng.gauss(188, 8), rng.gauss(112, 5)
    elif band < 0.45:  # hypertensive
        systolic, diastolic = rng.gauss(152, 9), rng.gauss(88, 6)
    else:
        systolic, diastolic = rng.gauss(126, 10), rng.gauss(75, 7)
    systolic = round(min(max(systolic, 85), 240))
    diastolic = round(min(max(diastolic, 45), min(140, systolic - 20)))
    pulse: int | None = round(min(max(rng.gauss(74, 9), 55), 100))
    if rng.random() < 0.02:  # the cuff failed to count the pulse
        pulse = None
    return {
        "systolic": systolic,
        "diastolic": diastolic,
        "mean_arterial_pressure": mean_arterial_pressure(systolic, diastolic),
        "pulse": pulse,
        "flags": {name: rng.random() < FLAG_RATES[name] for name in FLAG_NAMES},
    }


def mean_arterial_pressure(systolic: float, diastolic: float) -> float:
    return round(diastolic + (systolic - diastolic) / 3, 1)


def card_id(rng: random.Random) -> str:
    return f"C{rng.randrange(10_000_000):07d}"


class AutoPerson:
    """The resident who asked for a compartment: comes to the locker, opens the door, takes
    the tool (or puts one back when it was empty: a return) and closes it. Only when asked
    (``no_show_rate``) does nobody come now and then, and the compartment relock by itself:
    someone trying a centre with one simulated locker must see every unlock answered, as its
    help and docs/operations.md promise, or their first loan fails for no reason they can see."""

    def __init__(self, locker: LockerSim, rng: random.Random, *, no_show_rate: float = 0.0) -> None:
        self.locker = locker
        self.rng = rng
        self.no_show_rate = no_show_rate

    def after_unlock(self, n: int) -> None:
        if self.rng.random() < self.no_show_rate:
            return
        self._later(self.rng.uniform(2, 6), lambda: self._open(n))

    def _later(self, nominal_s: float, action: Any) -> None:
        self.locker.timers.call_later(self.locker.seconds(nominal_s), action)

    def _open(self, n: int) -> None:
        if not self.locker.person_opens(n):
            return
        if self.locker.compartment(n)["item_present"]:
            self._later(self.rng.uniform(1, 3), lambda: self.locker.person_takes_item(n))
        else:
            self._later(self.rng.uniform(1, 3), lambda: self.locker.person_puts_item(n))
        self._later(self.rng.uniform(4, 7), lambda: self.locker.person_closes(n))
