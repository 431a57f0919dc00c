"""What a blood-pressure reading is called and what the guideline advises at its level, in
plain words for the kiosk and the console. Words describe the reading, never the person:
one reading is not a diagnosis.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from booking.health.models.readings import BpReading

# (ruleset, category) → the name of the range the reading falls in.
CATEGORY_NAMES: dict[tuple[str, str], LazyString] = {
    ("china", "normal"): _l("Normal"),
    ("china", "high_normal"): _l("Normal, on the high side"),
    ("china", "grade_1"): _l("High (grade 1)"),
    ("china", "grade_2"): _l("High (grade 2)"),
    ("china", "grade_3"): _l("Very high (grade 3)"),
    ("esh_2023", "optimal"): _l("Optimal"),
    ("esh_2023", "normal"): _l("Normal"),
    ("esh_2023", "high_normal"): _l("Normal, on the high side"),
    ("esh_2023", "grade_1"): _l("High (grade 1)"),
    ("esh_2023", "grade_2"): _l("High (grade 2)"),
    ("esh_2023", "grade_3"): _l("Very high (grade 3)"),
    ("aha_2017", "normal"): _l("Normal"),
    ("aha_2017", "elevated"): _l("Elevated"),
    ("aha_2017", "stage_1"): _l("High (stage 1)"),
    ("aha_2017", "stage_2"): _l("High (stage 2)"),
    ("aha_2017", "crisis"): _l("Very high (crisis range)"),
}

RULESET_NAMES: dict[str, LazyString] = {
    "china": _l("Chinese hypertension guideline"),
    "aha_2017": _l("AHA/ACC 2017"),
    "esh_2023": _l("ESH 2023"),
}

# The guideline's advice for each level (0 … 4, see booking.health.classification).
ADVICE: dict[int, LazyString] = {
    0: _l(
        "This reading is in the normal range. Keep up your healthy habits and measure regularly."
    ),
    1: _l(
        "This reading is a little above the ideal range. Eat less salt, stay active, "
        "and measure again on another day."
    ),
    2: _l(
        "This reading is high. Rest for five minutes and measure again. If it is high on "
        "other days too, please see your doctor in the next few weeks."
    ),
    3: _l(
        "This reading is clearly high. Please see a doctor in the next few days. "
        "Keep taking any medicine your doctor gave you."
    ),
    4: _l(
        "This reading is very high. Please tell the staff now and see a doctor today. "
        "If you have chest pain, a bad headache, trouble speaking or seeing, or weakness "
        "on one side, call 120 at once."
    ),
}
NOT_A_DIAGNOSIS = _l(
    "One reading is not a diagnosis. Only a doctor can tell what it means for you."
)

# The terminal's Measurement Status flags, as advice about the measurement itself.
FLAG_NOTES: dict[str, LazyString] = {
    "body_movement": _l("You moved during the measurement. Sit still and measure again."),
    "cuff_too_loose": _l("The cuff was too loose. Ask the staff to help you put it on."),
    "irregular_pulse": _l(
        "The terminal noticed an irregular pulse. If this happens often, tell your doctor."
    ),
    "pulse_out_of_range": _l("The pulse was outside the range the terminal can measure."),
    "improper_position": _l(
        "Your arm was not in the right position. Rest it on the table and measure again."
    ),
}

# Why a "measure now" ended without a stored reading.
FAILURES: dict[str, LazyString] = {
    "cuff_error": _l("The cuff could not measure. Please check it sits well and try again."),
    "motion": _l("You moved during the measurement. Please sit still and try again."),
    "overpressure": _l("The cuff pressure went too high and was stopped. Please try again."),
    "low_battery": _l("The terminal's battery is low. Please ask the staff for help."),
    "timeout": _l("The measurement took too long. Please try again."),
    "impossible_reading": _l(
        "The terminal gave a reading that cannot be right. Please measure again."
    ),
    "other_card": _l(
        "Someone else's card was used at the terminal, so this measurement was not for you."
    ),
    "no_consent": _l("The reading was not kept, because you have not agreed to keep readings."),
}
FAILURE_FALLBACK = _l("The measurement did not work. Please try again.")
EXPIRED = _l("No measurement arrived within 3 minutes. Please press “Measure now” again.")
CANCELLED = _l("The measurement was cancelled.")

# Styling hooks by level: colour goes with an icon and the words above, never alone.
LEVEL_CLASSES = ("bp-level-0", "bp-level-1", "bp-level-2", "bp-level-3", "bp-level-4")


def category_name(reading: BpReading) -> str:
    return str(CATEGORY_NAMES.get((reading.ruleset, reading.category), reading.category))


def advice(reading: BpReading) -> str:
    return str(ADVICE.get(reading.level, ADVICE[0]))


def flag_notes(reading: BpReading) -> list[str]:
    return [str(text) for name, text in FLAG_NOTES.items() if reading.flags.get(name)]


def level_class(reading: BpReading) -> str:
    return LEVEL_CLASSES[max(0, min(reading.level, 4))]


def failure_text(code: str | None) -> str:
    return str(FAILURES.get(code or "", FAILURE_FALLBACK))


def format_value(value: float) -> str:
    """122.0 → "122"; a kPa terminal's 121.5 stays "121.5"."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
