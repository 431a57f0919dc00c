"""A resident's consent to keep their readings, and how it was given or withdrawn."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class ConsentChannel(enum.StrEnum):
    KIOSK = "kiosk"  # the resident read the notice and tapped "I agree" while signed in
    PAPER = "paper"  # a signed form, recorded by staff
    # A withdrawal the resident phoned in, recorded by staff (never a consent: that needs a
    # signature or the resident's own tap). Plain text column, so no migration.
    PHONE = "phone"


class HealthConsent(Base):
    """A resident's separate consent (PIPL art. 29) to keep their readings.

    One row per consent given; withdrawing closes the row rather than deleting it, so the
    record of what was agreed, when, how and to which notice outlives the data itself.
    """

    __tablename__ = "health_consents"
    __table_args__ = (Index("ix_health_consents_resident", "resident_id", "withdrawn_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[ConsentChannel] = mapped_column(str_enum(ConsentChannel))
    notice_version: Mapped[str] = mapped_column(String(20))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_channel: Mapped[ConsentChannel | None] = mapped_column(str_enum(ConsentChannel))

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None

    def withdraw(self, *, channel: ConsentChannel, now: datetime) -> None:
        """Close the consent; the row stays as the record of what was agreed. A consent is
        withdrawn once: the first withdrawal's time and channel are what the law asks for."""
        if not self.in_force:
            raise ValueError("this consent was already withdrawn")
        self.withdrawn_at = now
        self.withdrawn_channel = channel
