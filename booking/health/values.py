"""A reading's values as a terminal sends them, checked against what a body can produce:
anything else is refused with a reason, never stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.core.errors import (
    ImpossibleReading,
)

# Physiological limits (mmHg, bpm), as in docs/protocol.md §8.
SYSTOLIC_RANGE = (40.0, 300.0)
DIASTOLIC_RANGE = (20.0, 200.0)
PULSE_RANGE = (20, 250)
MMHG_PER_KPA = 7.50062
FLAG_NAMES = (
    "body_movement",
    "cuff_too_loose",
    "irregular_pulse",
    "pulse_out_of_range",
    "improper_position",
)


@dataclass(frozen=True)
class Values:
    """A measurement in mmHg, checked: what gets stored and classified."""

    systolic: float
    diastolic: float
    mean_arterial_pressure: float
    pulse: int | None
    device_unit: str
    flags: Mapping[str, bool]
    measured_at: datetime


def check_values(
    *,
    systolic: float,
    diastolic: float,
    mean_arterial_pressure: float,
    unit: str,
    pulse: int | None,
    flags: Mapping[str, Any],
    measured_at: datetime,
) -> Values:
    """Convert to mmHg and refuse what no body produces, with a reason code."""
    if unit == "kPa":
        factor = MMHG_PER_KPA
    elif unit == "mmHg":
        factor = 1.0
    else:
        raise ImpossibleReading("unknown unit", reason="unknown_unit")
    numbers = (systolic, diastolic, mean_arterial_pressure)
    if any(isinstance(n, bool) or not isinstance(n, int | float) for n in numbers):
        raise ImpossibleReading("not a number", reason="not_a_number")
    sys_mmhg = round(systolic * factor, 1)
    dia_mmhg = round(diastolic * factor, 1)
    map_mmhg = round(mean_arterial_pressure * factor, 1)
    if not SYSTOLIC_RANGE[0] <= sys_mmhg <= SYSTOLIC_RANGE[1]:
        raise ImpossibleReading("systolic outside 40–300 mmHg", reason="systolic_out_of_range")
    if not DIASTOLIC_RANGE[0] <= dia_mmhg <= DIASTOLIC_RANGE[1]:
        raise ImpossibleReading("diastolic outside 20–200 mmHg", reason="diastolic_out_of_range")
    if sys_mmhg <= dia_mmhg:
        raise ImpossibleReading(
            "systolic not above diastolic", reason="systolic_not_above_diastolic"
        )
    if not dia_mmhg <= map_mmhg <= sys_mmhg:
        raise ImpossibleReading(
            "mean pressure not between diastolic and systolic", reason="mean_pressure_impossible"
        )
    if pulse is not None and (
        isinstance(pulse, bool)
        or not isinstance(pulse, int)
        or not PULSE_RANGE[0] <= pulse <= PULSE_RANGE[1]
    ):
        raise ImpossibleReading("pulse outside 20–250 bpm", reason="pulse_out_of_range")
    if set(flags) != set(FLAG_NAMES) or not all(isinstance(v, bool) for v in flags.values()):
        raise ImpossibleReading("status flags incomplete", reason="flags_invalid")
    return Values(
        systolic=sys_mmhg,
        diastolic=dia_mmhg,
        mean_arterial_pressure=map_mmhg,
        pulse=pulse,
        device_unit=unit,
        flags={name: bool(flags[name]) for name in FLAG_NAMES},
        measured_at=measured_at,
    )
