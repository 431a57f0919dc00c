"""A resident's membership of a centre: since when, and whether as a visitor (a resident may
belong to several).

A district's centres share one deployment, and a resident uses any of them with the same
account and PIN. Where they were enrolled they are a member; a centre they merely use gets a
visitor membership the first time they sign in there or book there from their phone
(booking.people.visits), so that centre's own rules, lists and records find them like anyone
else, and its staff see where they come from. Their home centre is their first membership as
a member (booking.people.visits.home_site_id).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint, false
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
    # True when the resident came to this centre from their home centre: the centre's rules
    # apply to them as to a member, but it did not enrol them (and its roster leaves them out).
    visitor: Mapped[bool] = mapped_column(default=False, server_default=false())

    resident: Mapped[Resident] = relationship(back_populates="memberships")

    def enrol(self) -> None:
        """Staff of a centre the resident visited enrol them there: a member from now on."""
        self.visitor = False
