"""A seat of a study room: its number, where it is on the room's map, and what it offers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base

if TYPE_CHECKING:
    from booking.spaces.models.spaces import Space


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
