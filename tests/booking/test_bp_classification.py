"""Blood-pressure categories at every boundary of each guideline (mmHg, systolic/diastolic).

Each row sits exactly on a threshold or one below it; a category is decided by the higher
of the two values."""

from __future__ import annotations

import pytest

from booking.health.classification import Ruleset, categories, classify

CHINA = [
    # systolic, diastolic, category, level, isolated systolic
    (119, 79, "normal", 0, False),
    (120, 79, "high_normal", 1, False),
    (119, 80, "high_normal", 1, False),
    (139, 89, "high_normal", 1, False),
    (140, 89, "grade_1", 2, True),
    (139, 90, "grade_1", 2, False),
    (159, 99, "grade_1", 2, False),
    (160, 99, "grade_2", 3, False),
    (159, 100, "grade_2", 3, False),
    (179, 109, "grade_2", 3, False),
    (180, 109, "grade_3", 4, False),
    (179, 110, "grade_3", 4, False),
    (180, 89, "grade_3", 4, True),
    (165, 85, "grade_2", 3, True),
    (140, 90, "grade_1", 2, False),
]

ESH_2023 = [
    (119, 79, "optimal", 0, False),
    (120, 79, "normal", 1, False),
    (119, 80, "normal", 1, False),
    (129, 84, "normal", 1, False),
    (130, 84, "high_normal", 1, False),
    (129, 85, "high_normal", 1, False),
    (139, 89, "high_normal", 1, False),
    (140, 89, "grade_1", 2, True),
    (139, 90, "grade_1", 2, False),
    (159, 99, "grade_1", 2, False),
    (160, 99, "grade_2", 3, False),
    (159, 100, "grade_2", 3, False),
    (179, 109, "grade_2", 3, False),
    (180, 109, "grade_3", 4, False),
    (179, 110, "grade_3", 4, False),
]

AHA_2017 = [
    (119, 79, "normal", 0, False),
    (120, 79, "elevated", 1, False),
    (129, 79, "elevated", 1, False),
    (130, 79, "stage_1", 2, False),
    (119, 80, "stage_1", 2, False),
    (139, 89, "stage_1", 2, False),
    (140, 89, "stage_2", 3, False),
    (139, 90, "stage_2", 3, False),
    (180, 120, "stage_2", 3, False),
    (181, 120, "crisis", 4, False),
    (180, 121, "crisis", 4, False),
]


def table(ruleset: Ruleset, rows: list[tuple[int, int, str, int, bool]]) -> list[object]:
    return [pytest.param(ruleset, *row, id=f"{ruleset}-{row[0]}/{row[1]}") for row in rows]


@pytest.mark.parametrize(
    ("ruleset", "systolic", "diastolic", "category", "level", "isolated"),
    table(Ruleset.CHINA, CHINA)
    + table(Ruleset.ESH_2023, ESH_2023)
    + table(Ruleset.AHA_2017, AHA_2017),
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
