"""A space's booking rules where they differ from the site's: the grid, the longest booking,
how far ahead, the daily quota."""

from __future__ import annotations

from sqlalchemy import (
    ForeignKey,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base


class SpaceRules(Base):
    """A space's own booking rules; a space without a row books by the defaults in
    ``booking/spaces/rules.py``. Every column left NULL falls back to its default too."""

    __tablename__ = "space_rules"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True
    )
    bookable_days: Mapped[int | None]
    grid_minutes: Mapped[int | None]
    max_booking_minutes: Mapped[int | None]
    max_minutes_per_day: Mapped[int | None]
    check_in_early_minutes: Mapped[int | None]
    check_in_late_minutes: Mapped[int | None]
    max_leave_minutes: Mapped[int | None]
    strikes_to_suspend: Mapped[int | None]
    strike_window_days: Mapped[int | None]
    suspension_days: Mapped[int | None]
    offer_minutes: Mapped[int | None]

    def override(self, values: dict[str, int | None]) -> dict[str, list[int | None]]:
        """Set the rules in ``values`` (None: back to the default); return what changed as
        ``{rule: [old, new]}`` for the audit."""
        changed: dict[str, list[int | None]] = {}
        for name, new in values.items():
            old = getattr(self, name)
            if old != new:
                changed[name] = [old, new]
                setattr(self, name, new)
        return changed
