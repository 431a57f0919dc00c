from __future__ import annotations

import enum
from datetime import datetime, time

from sqlalchemy import ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base, UTCDateTime, str_enum


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


class Seat(Base):
    __tablename__ = "seats"
    __table_args__ = (UniqueConstraint("space_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    has_power: Mapped[bool] = mapped_column(default=False)
    by_window: Mapped[bool] = mapped_column(default=False)
    quiet_zone: Mapped[bool] = mapped_column(default=False)
    # Position on the seat map, in grid cells.
    map_row: Mapped[int] = mapped_column(default=0)
    map_col: Mapped[int] = mapped_column(default=0)

    space: Mapped[Space] = relationship(back_populates="seats")
