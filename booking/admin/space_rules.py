"""A space's booking rules as its admins set them: each rule within its bounds, or left empty
to follow the default of the space's kind (``booking.spaces.rules``). Audited like every admin
change, with old and new values."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy.orm import Session

from booking.admin import checks
from booking.admin.centre import space_of
from booking.core.errors import InvalidInput
from booking.people.models.staff import StaffAccount
from booking.spaces.models.space_rules import SpaceRules
from booking.spaces.models.spaces import SpaceKind
from booking.spaces.rules import ACTIVITY_DEFAULTS, STUDY_DEFAULTS, Rules


@dataclass(frozen=True)
class Bound:
    low: int
    high: int


# What a rule may be set to. The grid is one of a few steps because every start, end and
# length is a multiple of it, and the kiosk shows its time picker in those steps.
BOUNDS = {
    "bookable_days": Bound(1, 90),
    "grid_minutes": Bound(15, 60),
    "max_booking_minutes": Bound(15, 24 * 60),
    "max_minutes_per_day": Bound(15, 24 * 60),
    "check_in_early_minutes": Bound(0, 120),
    "check_in_late_minutes": Bound(5, 120),
    "max_leave_minutes": Bound(0, 240),
    "strikes_to_suspend": Bound(1, 20),
    "strike_window_days": Bound(1, 365),
    "suspension_days": Bound(1, 365),
    "offer_minutes": Bound(5, 24 * 60),
}
GRID_STEPS = (15, 30, 60)
RULE_NAMES = tuple(f.name for f in fields(Rules))


def defaults_for(kind: SpaceKind) -> Rules:
    return STUDY_DEFAULTS if kind is SpaceKind.STUDY else ACTIVITY_DEFAULTS


def own_rules(session: Session, staff: StaffAccount, space_id: int) -> dict[str, int | None]:
    """The rules this space sets itself (None where it follows the default)."""
    space = space_of(session, staff, space_id)
    row = session.get(SpaceRules, space.id)
    return {name: getattr(row, name) if row else None for name in RULE_NAMES}


def set_space_rules(
    session: Session,
    staff: StaffAccount,
    space_id: int,
    rules: dict[str, int | None],
    *,
    now: datetime,
) -> SpaceRules:
    """Set every rule of the space at once: a value of None follows the default again."""
    space = space_of(session, staff, space_id)
    unknown = set(rules) - set(RULE_NAMES)
    if unknown:
        raise InvalidInput(f"unknown rule {sorted(unknown)[0]!r}", field="rules")
    values: dict[str, int | None] = {}
    for name in RULE_NAMES:
        value = rules.get(name)
        if value is not None:
            bound = BOUNDS[name]
            value = checks.whole(value, name, bound.low, bound.high)
        values[name] = value
    effective = replace(
        defaults_for(space.kind), **{name: v for name, v in values.items() if v is not None}
    )
    grid = effective.grid_minutes
    if grid not in GRID_STEPS:
        raise InvalidInput(
            "the time grid is 15, 30 or 60 minutes", field="grid_minutes", reason="grid"
        )
    if effective.max_booking_minutes % grid:
        raise InvalidInput(
            f"the longest booking must be a multiple of the {grid}-minute grid",
            field="max_booking_minutes",
            reason="longest_off_grid",
            grid=grid,
        )
    daily = effective.max_minutes_per_day
    if daily is not None and daily < effective.max_booking_minutes:
        raise InvalidInput(
            "the daily quota must allow at least one longest booking",
            field="max_minutes_per_day",
            reason="daily_below_longest",
        )
    row = session.get(SpaceRules, space.id)
    if row is None:
        row = SpaceRules(space_id=space.id)
        session.add(row)
    changed = row.override(values)
    checks.audit_changes(
        session, staff, "admin.space_rules_changed", f"space:{space.id}", changed, now
    )
    return row
