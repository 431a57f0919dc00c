"""Blood-pressure categories by guideline: the Chinese guideline by default, AHA 2017 and
ESH 2023 as alternatives. Pure functions on mmHg values; the ruleset used is stored with
every reading, so a later change of ruleset never re-labels what a resident was shown.

Every guideline puts a reading in the category of the HIGHER of its two values ("and/or").
Each category also has a ``level`` on one common scale, which the follow-up rules use so
that they read the same whichever ruleset a site chose:

====  ==========================  =================  =====================
level Chinese (2018, kept 2024)   AHA/ACC 2017       ESH 2023
====  ==========================  =================  =====================
0     normal <120/<80             normal <120/<80    optimal <120/<80
1     high-normal 120–139/80–89   elevated 120–129   normal 120–129/80–84
1                                                    high-normal 130–139/85–89
2     grade 1 140–159/90–99       stage 1 130–139/   grade 1 140–159/90–99
                                  80–89
3     grade 2 160–179/100–109     stage 2 ≥140/≥90   grade 2 160–179/100–109
4     grade 3 ≥180/≥110           crisis >180/>120   grade 3 ≥180/≥110
====  ==========================  =================  =====================

Level 2 and above is the guideline's hypertension range; level 4 needs someone to act now.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class Ruleset(enum.StrEnum):
    CHINA = "china"  # 中国高血压防治指南 (2018 revision; thresholds unchanged in 2024)
    AHA_2017 = "aha_2017"  # 2017 ACC/AHA High Blood Pressure Guideline
    ESH_2023 = "esh_2023"  # 2023 ESH Guidelines for the management of arterial hypertension


DEFAULT_RULESET = Ruleset.CHINA

HYPERTENSION_LEVEL = 2  # the guideline's "high blood pressure" range starts here
URGENT_LEVEL = 4  # grade 3 / hypertensive crisis: staff are alerted at once


@dataclass(frozen=True)
class Classification:
    ruleset: Ruleset
    category: str  # a stable code: "grade_2", "stage_1", "high_normal" …
    level: int  # 0 … 4, see the module docstring
    # Systolic in the hypertension range with a diastolic below it (Chinese and ESH).
    isolated_systolic: bool = False

    @property
    def is_high(self) -> bool:
        return self.level >= HYPERTENSION_LEVEL

    @property
    def is_urgent(self) -> bool:
        return self.level >= URGENT_LEVEL


def _graded(systolic: float, diastolic: float) -> tuple[str, int]:
    # The Chinese guideline and ESH 2023 share the grades from 140/90 upwards.
    if systolic >= 180 or diastolic >= 110:
        return "grade_3", 4
    if systolic >= 160 or diastolic >= 100:
        return "grade_2", 3
    if systolic >= 140 or diastolic >= 90:
        return "grade_1", 2
    return "", -1


def _china(systolic: float, diastolic: float) -> Classification:
    category, level = _graded(systolic, diastolic)
    if level >= 0:
        isolated = systolic >= 140 and diastolic < 90
        return Classification(Ruleset.CHINA, category, level, isolated_systolic=isolated)
    if systolic >= 120 or diastolic >= 80:
        return Classification(Ruleset.CHINA, "high_normal", 1)
    return Classification(Ruleset.CHINA, "normal", 0)


def _esh_2023(systolic: float, diastolic: float) -> Classification:
    category, level = _graded(systolic, diastolic)
    if level >= 0:
        isolated = systolic >= 140 and diastolic < 90
        return Classification(Ruleset.ESH_2023, category, level, isolated_systolic=isolated)
    if systolic >= 130 or diastolic >= 85:
        return Classification(Ruleset.ESH_2023, "high_normal", 1)
    if systolic >= 120 or diastolic >= 80:
        return Classification(Ruleset.ESH_2023, "normal", 1)
    return Classification(Ruleset.ESH_2023, "optimal", 0)


def _aha_2017(systolic: float, diastolic: float) -> Classification:
    # AHA's crisis is strictly above 180 and/or 120; elevated needs a diastolic below 80.
    if systolic > 180 or diastolic > 120:
        return Classification(Ruleset.AHA_2017, "crisis", 4)
    if systolic >= 140 or diastolic >= 90:
        return Classification(Ruleset.AHA_2017, "stage_2", 3)
    if systolic >= 130 or diastolic >= 80:
        return Classification(Ruleset.AHA_2017, "stage_1", 2)
    if systolic >= 120:
        return Classification(Ruleset.AHA_2017, "elevated", 1)
    return Classification(Ruleset.AHA_2017, "normal", 0)


_RULESETS: dict[Ruleset, Callable[[float, float], Classification]] = {
    Ruleset.CHINA: _china,
    Ruleset.AHA_2017: _aha_2017,
    Ruleset.ESH_2023: _esh_2023,
}


def classify(
    systolic: float, diastolic: float, ruleset: Ruleset = DEFAULT_RULESET
) -> Classification:
    """The category of a reading (mmHg) under ``ruleset``."""
    return _RULESETS[ruleset](systolic, diastolic)


# Where each guideline's hypertension range (level 2) starts, systolic and diastolic (mmHg):
# AHA 2017 calls 130/80 stage 1, the Chinese guideline and ESH 2023 call 140/90 grade 1.
_HIGH_FROM: dict[Ruleset, tuple[int, int]] = {
    Ruleset.CHINA: (140, 90),
    Ruleset.AHA_2017: (130, 80),
    Ruleset.ESH_2023: (140, 90),
}


def high_thresholds(ruleset: Ruleset) -> tuple[int, int]:
    """The systolic and diastolic values from which ``ruleset`` counts a reading as high
    (what a chart draws as its reference lines); ``classify`` agrees with them."""
    return _HIGH_FROM[ruleset]


def categories(ruleset: Ruleset) -> tuple[str, ...]:
    """Every category code a ruleset can give, lowest first (for legends and translations)."""
    return {
        Ruleset.CHINA: ("normal", "high_normal", "grade_1", "grade_2", "grade_3"),
        Ruleset.AHA_2017: ("normal", "elevated", "stage_1", "stage_2", "crisis"),
        Ruleset.ESH_2023: ("optimal", "normal", "high_normal", "grade_1", "grade_2", "grade_3"),
    }[ruleset]
