"""What a kiosk reader read: a card or a slip's code, as what it found, for the paired kiosk
screen to take once within a minute."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import Conflict


class ScanFinding(enum.StrEnum):
    """What the read named, found when it arrived (the kiosk acts on it, not on the raw read)."""

    RESIDENT = "resident"  # a card of an active member of the site
    BOOKING = "booking"  # a booking slip of the site
    LOAN = "loan"  # a loan slip of the site
    UNKNOWN_CARD = "unknown_card"
    UNKNOWN_CODE = "unknown_code"  # not a slip's code, or no slip of this site


class ScanGone(Conflict):
    """Taken already by the kiosk, or older than a kiosk may act on."""

    code = "scan_gone"


class ReaderScan(Base):
    """One read of a kiosk reader. Never the card number or the token: only what they named,
    so this table tells nobody how to make a card or a slip."""

    __tablename__ = "reader_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[str] = mapped_column(String(40), index=True)
    finding: Mapped[ScanFinding] = mapped_column(str_enum(ScanFinding))
    # The resident, booking or loan found (None for an unknown card or code).
    target_id: Mapped[int | None]
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def take(self, now: datetime) -> None:
        """The paired kiosk screen acts on this read: once, and only while it is fresh (a card
        tapped a minute ago belongs to someone who may have walked away)."""
        if self.taken_at is not None or now >= self.expires_at:
            raise ScanGone("this read was taken or is too old")
        self.taken_at = now
