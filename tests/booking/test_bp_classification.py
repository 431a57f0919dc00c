"""Blood-pressure categories at every boundary of each guideline (mmHg, systolic/diastolic).

Each row sits exactly on a threshold or one below it; a category is decided by the higher
of the two values."""

from __future__ import annotations

import pytest

from booking.health.classification import Ruleset, categories, classify

CHINA, ESH_2023, AHA_2017 = Ruleset.CHINA, Ruleset.ESH_2023, Ruleset.AHA_2017

BOUNDARIES = [
    # ruleset, systolic, diastolic, category, level, isolated systolic
    (CHINA, 119, 79, "normal", 0, False),
    (CHINA, 120, 79, "high_normal", 1, False),
    (CHINA, 119, 80, "high_normal", 1, False),
    (CHINA, 139, 89, "high_normal", 1, False),
    (CHINA, 140, 89, "grade_1", 2, True),
    (CHINA, 139, 90, "grade_1", 2, False),
    (CHINA, 159, 99, "grade_1", 2, False),
    (CHINA, 160, 99, "grade_2", 3, False),
    (CHINA, 159, 100, "grade_2", 3, False),
    (CHINA, 179, 109, "grade_2", 3, False),
    (CHINA, 180, 109, "grade_3", 4, False),
    (CHINA, 179, 110, "grade_3", 4, False),
    (CHINA, 180, 89, "grade_3", 4, True),
    (CHINA, 165, 85, "grade_2", 3, True),
    (CHINA, 140, 90, "grade_1", 2, False),
    (ESH_2023, 119, 79, "optimal", 0, False),
    (ESH_2023, 120, 79, "normal", 1, False),
    (ESH_2023, 119, 80, "normal", 1, False),
    (ESH_2023, 129, 84, "normal", 1, False),
    (ESH_2023, 130, 84, "high_normal", 1, False),
    (ESH_2023, 129, 85, "high_normal", 1, False),
    (ESH_2023, 139, 89, "high_normal", 1, False),
    (ESH_2023, 140, 89, "grade_1", 2, True),
    (ESH_2023, 139, 90, "grade_1", 2, False),
    (ESH_2023, 159, 99, "grade_1", 2, False),
    (ESH_2023, 160, 99, "grade_2", 3, False),
    (ESH_2023, 159, 100, "grade_2", 3, False),
    (ESH_2023, 179, 109, "grade_2", 3, False),
    (ESH_2023, 180, 109, "grade_3", 4, False),
    (ESH_2023, 179, 110, "grade_3", 4, False),
    (AHA_2017, 119, 79, "normal", 0, False),
    (AHA_2017, 120, 79, "elevated", 1, False),
    (AHA_2017, 129, 79, "elevated", 1, False),
    (AHA_2017, 130, 79, "stage_1", 2, False),
    (AHA_2017, 119, 80, "stage_1", 2, False),
    (AHA_2017, 139, 89, "stage_1", 2, False),
    (AHA_2017, 140, 89, "stage_2", 3, False),
    (AHA_2017, 139, 90, "stage_2", 3, False),
    (AHA_2017, 180, 120, "stage_2", 3, False),
    (AHA_2017, 181, 120, "crisis", 4, False),
    (AHA_2017, 180, 121, "crisis", 4, False),
]


@pytest.mark.parametrize(
    ("ruleset", "systolic", "diastolic", "category", "level", "isolated"),
    [pytest.param(*row, id=f"{row[0]}-{row[1]}/{row[2]}") for row in BOUNDARIES],
)
def test_reading_is_classified_by_the_higher_of_its_two_values_at_every_boundary(
    ruleset: Ruleset, systolic: int, diastolic: int, category: str, level: int, isolated: bool
) -> None:
    found = classify(systolic, diastolic, ruleset)
    assert (found.ruleset, found.category, found.level, found.isolated_systolic) == (
        ruleset,
        category,
        level,
        isolated,
    )


def test_the_chinese_guideline_is_the_default_ruleset() -> None:
    assert classify(150, 95).ruleset is Ruleset.CHINA


def test_fractional_values_from_a_kpa_terminal_fall_below_a_threshold_they_do_not_reach() -> None:
    assert classify(139.9, 89.9).category == "high_normal"


@pytest.mark.parametrize("ruleset", list(Ruleset))
def test_grade_3_or_crisis_is_urgent_and_only_the_top_category_is(ruleset: Ruleset) -> None:
    top = categories(ruleset)[-1]
    assert classify(200, 125, ruleset).category == top
    assert classify(200, 125, ruleset).is_urgent
    assert not classify(170, 105, ruleset).is_urgent


@pytest.mark.parametrize("ruleset", list(Ruleset))
def test_every_category_a_ruleset_gives_is_listed_for_it(ruleset: Ruleset) -> None:
    given = {
        classify(s, d, ruleset).category
        for s in range(60, 260, 1)
        for d in (50, 79, 84, 89, 99, 109, 119, 125)
    }
    assert given == set(categories(ruleset))
