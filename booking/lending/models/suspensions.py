"""A resident's lending suspension after too many overdue loans, and its early lifting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class LendingSuspension(Base):
    """A resident may not borrow at a site from ``starts_at`` until ``ends_at``
    (separate from seat-booking suspensions: a late drill should not cost a study seat)."""

    __tablename__ = "lending_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(100), default="overdue_loans")
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    lift_reason: Mapped[str] = mapped_column(String(300), default="")
