"""Spaces a centre books out: study rooms (by the seat) and activity rooms (whole)."""

from __future__ import annotations

import enum
from datetime import datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base, UTCDateTime, str_enum

if TYPE_CHECKING:
    from booking.spaces.models.seats import Seat


class SpaceKind(enum.StrEnum):
    STUDY = "study"
    ACTIVITY = "activity"


class Space(Base):
    """A bookable place: a study room (booked by the seat) or an activity room (booked whole)."""

    __tablename__ = "spaces"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[SpaceKind] = mapped_column(str_enum(SpaceKind))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int]
    needs_approval: Mapped[bool] = mapped_column(default=False)
    # None means the site's own opening hours.
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)
    # Retired by an admin: takes no new bookings and is no longer offered; its history stays.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    seats: Mapped[list[Seat]] = relationship(
        back_populates="space", order_by="Seat.number", cascade="all, delete-orphan"
    )
