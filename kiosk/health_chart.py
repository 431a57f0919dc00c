"""The blood-pressure trend chart, drawn on the server as SVG geometry (no script, no remote
asset): the kiosk's history page and the console's resident page render the same chart.

Systolic and diastolic are told apart by line style and marker shape as well as colour, and
the chart always sits beside a table of the same readings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from booking.health.classification import Ruleset, high_thresholds
from booking.health.models.readings import BpReading

WIDTH = 960
HEIGHT = 420
# A phone's chart: drawn narrower, so that shrunk to a 360-pixel screen its 22-unit labels
# are still about 18 pixels tall (at 960 wide they were 7: phone walk).
PHONE_WIDTH, PHONE_HEIGHT = 420, 360
LEFT, RIGHT, TOP, BOTTOM = 80, 24, 24, 56
# Room a date under the chart takes ("12/10" at 22 units), to space them apart.
LABEL_ROOM = 80


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Reference:
    """A dashed "high from here" line across the readings classified by one ruleset."""

    x1: float
    x2: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    systolic: list[Point]
    diastolic: list[Point]
    y_ticks: list[Tick]
    references: list[Reference]
    thresholds: list[tuple[int, int]]  # systolic, diastolic: one pair per ruleset drawn
    x_labels: list[tuple[float, str, str]]  # x, text, SVG text-anchor
    plot: tuple[int, int, int, int]  # left, top, right, bottom

    @staticmethod
    def polyline(points: Sequence[Point]) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


def trend_chart(
    readings: Sequence[BpReading], timezone: str, *, width: int = WIDTH, height: int = HEIGHT
) -> Chart | None:
    """The chart of ``readings`` (any order; drawn oldest to newest), or None if empty."""
    if not readings:
        return None
    ordered = sorted(readings, key=lambda r: (r.measured_at, r.id))
    low = min(50.0, min(r.diastolic for r in ordered) - 10)
    high = max(200.0, max(r.systolic for r in ordered) + 10)
    low, high = 10 * (low // 10), 10 * -(-high // 10)
    left, top, right, bottom = LEFT, TOP, width - RIGHT, height - BOTTOM

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    step = (right - left) / max(len(ordered) - 1, 1)

    def x_of(index: int) -> float:
        return left + (index * step if len(ordered) > 1 else (right - left) / 2)

    zone = ZoneInfo(timezone)
    systolic = [Point(x_of(i), y_of(r.systolic), r.systolic) for i, r in enumerate(ordered)]
    diastolic = [Point(x_of(i), y_of(r.diastolic), r.diastolic) for i, r in enumerate(ordered)]
    ticks = [Tick(y_of(v), str(int(v))) for v in range(int(low), int(high) + 1, 20)]
    references, thresholds = _references(ordered, left, right, x_of, y_of)
    # A date under the first, the last and every fifth reading (more apart on a narrow chart,
    # so that no two dates overlap): enough to read the trend.
    last = len(ordered) - 1
    every = max(5, math.ceil(LABEL_ROOM / step))
    # The first and last dates hug the plot's edges so that neither is cut off.
    labels = [
        (x_of(i), _day(r.measured_at, zone), _anchor(i, last))
        for i, r in enumerate(ordered)
        if i in (0, last) or (i % every == 0 and (last - i) * step >= LABEL_ROOM)
    ]
    return Chart(
        width, height, systolic, diastolic, ticks, references, thresholds, labels,
        (left, top, right, bottom),
    )  # fmt: skip


def _references(
    ordered: Sequence[BpReading],
    left: float,
    right: float,
    x_of: Callable[[int], float],
    y_of: Callable[[float], float],
) -> tuple[list[Reference], list[tuple[int, int]]]:
    """The thresholds of the ruleset each reading was classified with, over that reading's
    stretch of the chart: a site that moved from the Chinese guideline to AHA 2017 shows 140/90
    under its older readings and 130/80 under its newer ones, as each was labelled then."""
    runs: list[tuple[int, int, tuple[int, int]]] = []  # first index, last index, thresholds
    for index, reading in enumerate(ordered):
        pair = high_thresholds(Ruleset(reading.ruleset))
        if runs and runs[-1][2] == pair:
            runs[-1] = (runs[-1][0], index, pair)
        else:
            runs.append((index, index, pair))
    references = []
    for number, (first, last, pair) in enumerate(runs):
        # A run reaches halfway to its neighbours' readings, the outer runs to the plot's edges.
        x1 = left if number == 0 else (x_of(first - 1) + x_of(first)) / 2
        x2 = right if number == len(runs) - 1 else (x_of(last) + x_of(last + 1)) / 2
        references += [Reference(x1, x2, y_of(value), str(value)) for value in pair]
    thresholds = list(dict.fromkeys(pair for _first, _last, pair in runs))
    return references, thresholds


def _anchor(index: int, last: int) -> str:
    if last == 0:
        return "middle"
    return "start" if index == 0 else "end" if index == last else "middle"


def _day(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.month}/{local.day}"
