"""A weekly series of room bookings (a class, a standing meeting), made booking by booking."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base, UTCDateTime

if TYPE_CHECKING:
    from booking.spaces.models.series_exceptions import SeriesException


class BookingSeries(Base):
    """A weekly staff booking of an activity room (tai-chi every Tuesday 09:00–10:00).

    Times are the site's wall-clock times, so the class stays at 09:00 whatever UTC says.
    Occurrences become ordinary bookings ahead of time (``series.materialise``).
    """

    __tablename__ = "booking_series"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_valid"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"))
    title: Mapped[str] = mapped_column(String(100))
    weekday: Mapped[int]  # Monday = 0, as date.weekday()
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    headcount: Mapped[int] = mapped_column(default=1)
    created_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    exceptions: Mapped[list[SeriesException]] = relationship(
        back_populates="series", cascade="all, delete-orphan", order_by="SeriesException.on_date"
    )

    @property
    def skipped_dates(self) -> set[date]:
        return {exception.on_date for exception in self.exceptions}
