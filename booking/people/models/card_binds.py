"""Staff waiting for a resident to tap a card on a terminal's reader, and how it ended."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class CardBindStatus(enum.StrEnum):
    WAITING = "waiting"  # the terminal's next card read binds the card
    BOUND = "bound"
    REFUSED = "refused"  # the card read could not be bound (``failure`` says why)
    EXPIRED = "expired"  # no card within the window
    CANCELLED = "cancelled"  # staff started another bind, or the account was deactivated

    @property
    def is_open(self) -> bool:
        return self is CardBindStatus.WAITING


class CardBind(Base):
    """ "Bind card" pressed on a resident's console page: while it waits, the next card read at
    ``device_id`` binds that card to the resident instead of pairing a measurement. The card
    number itself is kept only on the resident, never here."""

    __tablename__ = "card_binds"
    __table_args__ = (Index("ix_card_binds_device_status", "device_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    device_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[CardBindStatus] = mapped_column(
        str_enum(CardBindStatus), default=CardBindStatus.WAITING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "card_taken" (bound to someone else), "card_invalid" (too long for our records).
    failure: Mapped[str | None] = mapped_column(String(40))

    def finish(self, status: CardBindStatus, now: datetime, failure: str | None = None) -> None:
        """The bind ends; an ended one never reopens."""
        if status.is_open or not self.status.is_open:
            raise ValueError(f"a card bind cannot go from {self.status} to {status}")
        self.status = status
        self.finished_at = now
        self.failure = failure
