"""A resident's membership of a centre: since when (a resident may belong to several)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base, UTCDateTime

if TYPE_CHECKING:
    from booking.people.models.residents import Resident


class ResidentMembership(Base):
    __tablename__ = "resident_memberships"
    __table_args__ = (UniqueConstraint("resident_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)

    resident: Mapped[Resident] = relationship(back_populates="memberships")
