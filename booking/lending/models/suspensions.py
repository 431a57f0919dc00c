"""A resident's lending suspension after too many overdue loans, and its early lifting."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base
from booking.core.models.suspensions import SuspensionPeriod


class LendingSuspension(SuspensionPeriod, Base):
    """A resident may not borrow at a site from ``starts_at`` until ``ends_at``
    (separate from seat-booking suspensions: a late drill should not cost a study seat)."""

    __tablename__ = "lending_suspensions"

    reason: Mapped[str] = mapped_column(String(100), default="overdue_loans")
