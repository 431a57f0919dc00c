"""A date a weekly series skips (a holiday, a class called off); its booking that day is cancelled."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base

if TYPE_CHECKING:
    from booking.spaces.models.series import BookingSeries


class SeriesException(Base):
    """A date the series does not meet (a holiday, the teacher is away)."""

    __tablename__ = "series_exceptions"
    __table_args__ = (UniqueConstraint("series_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("booking_series.id", ondelete="CASCADE"))
    on_date: Mapped[date]

    series: Mapped[BookingSeries] = relationship(back_populates="exceptions")
