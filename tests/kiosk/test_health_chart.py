"""The trend chart's "high from here" lines are those of the ruleset each reading was
classified with, not 140/90 whatever the site uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.health.classification import Ruleset, classify, high_thresholds
from booking.health.models.readings import BpReading
from kiosk.health_chart import (
    HEIGHT,
    LABEL_ROOM,
    PHONE_HEIGHT,
    PHONE_WIDTH,
    WIDTH,
    trend_chart,
)

START = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)


def reading(
    index: int, ruleset: Ruleset, systolic: float = 125, diastolic: float = 82
) -> BpReading:
    label = classify(systolic, diastolic, ruleset)
    return BpReading(
        id=index + 1, systolic=systolic, diastolic=diastolic, ruleset=ruleset.value,
        category=label.category, level=label.level, measured_at=START + timedelta(days=index),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("ruleset", "expected"),
    [(Ruleset.CHINA, (140, 90)), (Ruleset.ESH_2023, (140, 90)), (Ruleset.AHA_2017, (130, 80))],
)
def test_the_lines_are_where_the_rulesets_high_range_starts(
    ruleset: Ruleset, expected: tuple[int, int]
) -> None:
    assert high_thresholds(ruleset) == expected
    systolic, diastolic = expected
    # classify agrees: on the line is high, just under both is not.
    assert classify(systolic, 60, ruleset).is_high and classify(100, diastolic, ruleset).is_high
    assert not classify(systolic - 1, diastolic - 1, ruleset).is_high


def test_a_site_on_aha_2017_sees_130_and_80_across_the_whole_chart() -> None:
    chart = trend_chart([reading(i, Ruleset.AHA_2017) for i in range(4)], "Asia/Shanghai")
    assert chart is not None
    left, _top, right, _bottom = chart.plot
    assert sorted((r.label, r.x1, r.x2) for r in chart.references) == [
        ("130", left, right),
        ("80", left, right),
    ]
    assert chart.thresholds == [(130, 80)]


def test_after_a_change_of_ruleset_each_reading_keeps_the_lines_it_was_labelled_by() -> None:
    readings = [reading(i, Ruleset.CHINA) for i in range(3)]
    readings += [reading(i, Ruleset.AHA_2017) for i in range(3, 5)]
    chart = trend_chart(readings, "Asia/Shanghai")
    assert chart is not None
    left, _top, right, _bottom = chart.plot
    xs = [p.x for p in chart.systolic]
    boundary = (xs[2] + xs[3]) / 2
    by_label = {r.label: r for r in chart.references}
    assert set(by_label) == {"140", "90", "130", "80"}
    assert (by_label["140"].x1, by_label["140"].x2) == (left, boundary)
    assert (by_label["130"].x1, by_label["130"].x2) == (boundary, right)
    # The China lines cover the first three readings only, the AHA lines the last two.
    assert all(by_label["140"].x1 <= x <= by_label["140"].x2 for x in xs[:3])
    assert all(by_label["130"].x1 <= x <= by_label["130"].x2 for x in xs[3:])
    assert chart.thresholds == [(140, 90), (130, 80)]
    # The y of each line is the value's: 130 sits below 140 (SVG's y grows downwards).
    assert by_label["130"].y > by_label["140"].y


@pytest.mark.parametrize(("width", "height"), [(WIDTH, HEIGHT), (PHONE_WIDTH, PHONE_HEIGHT)])
@pytest.mark.parametrize("days", [1, 2, 7, 30, 90])
def test_the_dates_under_the_chart_never_overlap_wide_or_on_a_phone(
    width: int, height: int, days: int
) -> None:
    # The phone draws a narrower chart so its labels stay readable when shrunk (at 960 wide,
    # 7 pixels tall on a 390-pixel screen); its dates then stand further apart.
    chart = trend_chart([reading(i, Ruleset.CHINA) for i in range(days)], "Asia/Shanghai",
                        width=width, height=height)  # fmt: skip
    assert chart is not None and (chart.width, chart.height) == (width, height)
    xs = [x for x, _text, _anchor in chart.x_labels]
    assert xs and all(b - a >= LABEL_ROOM for a, b in zip(xs, xs[1:], strict=False))
    newest = START + timedelta(days=days - 1)  # 08:30 in Shanghai, the same day
    assert chart.x_labels[-1][1] == f"{newest.month}/{newest.day}"  # always there
