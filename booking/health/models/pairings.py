"""A terminal paired with the resident who is about to measure (by card, or "measure now" at
the kiosk), and how the pairing ended."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class PairingStatus(enum.StrEnum):
    WAITING = "waiting"  # paired; the resident has not started the cuff yet
    MEASURING = "measuring"  # the terminal said measurement_started
    DONE = "done"  # a reading was stored for the resident (``reading_id``)
    FAILED = "failed"  # the measurement failed or the reading was refused (``failure``)
    EXPIRED = "expired"  # no reading within the pairing window
    CANCELLED = "cancelled"  # the resident gave up, or someone else's card took the terminal

    @property
    def is_open(self) -> bool:
        return self in (PairingStatus.WAITING, PairingStatus.MEASURING)


class TerminalPairing(Base):
    """ "Measure now" at the kiosk: the signed-in resident owns the terminal's next reading,
    if it comes within the window. The kiosk's waiting screen polls this row."""

    __tablename__ = "bp_terminal_pairings"
    __table_args__ = (Index("ix_bp_pairings_device_status", "device_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    status: Mapped[PairingStatus] = mapped_column(
        str_enum(PairingStatus), default=PairingStatus.WAITING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    measuring_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reading_id: Mapped[int | None] = mapped_column(
        ForeignKey("bp_readings.id", ondelete="SET NULL")
    )
    # A measurement_error code ("cuff_error" …), "impossible_reading" or "other_card".
    failure: Mapped[str | None] = mapped_column(String(40))

    # --- state changes: the only writers of ``status`` (waiting -> measuring -> finished) ---

    def start_measuring(self, now: datetime) -> None:
        """The terminal said the cuff started; only a waiting pairing moves on."""
        if self.status is PairingStatus.WAITING:
            self.status = PairingStatus.MEASURING
            self.measuring_since = now

    def finish(self, status: PairingStatus, now: datetime, failure: str | None = None) -> None:
        """The pairing ends (done, failed, expired, cancelled); an ended one never reopens."""
        if status.is_open or not self.status.is_open:
            raise ValueError(f"a pairing cannot go from {self.status} to {status}")
        self.status = status
        self.finished_at = now
        self.failure = failure
