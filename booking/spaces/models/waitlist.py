from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import WrongBookingState


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # a held booking waits for the resident's answer
    ACCEPTED = "accepted"
    EXPIRED = "expired"  # offered, not taken in time
    CANCELLED = "cancelled"


# Where each status may go: an entry waits, is offered a slot, and ends once.
WAITLIST_TRANSITIONS: dict[WaitlistStatus, frozenset[WaitlistStatus]] = {
    WaitlistStatus.WAITING: frozenset(
        {WaitlistStatus.OFFERED, WaitlistStatus.EXPIRED, WaitlistStatus.CANCELLED}
    ),
    WaitlistStatus.OFFERED: frozenset(
        {WaitlistStatus.ACCEPTED, WaitlistStatus.EXPIRED, WaitlistStatus.CANCELLED}
    ),
}


class WaitlistEntry(Base):
    """A resident queueing for a taken seat or room slot; first come, first offered."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_entries_queue", "space_id", "seat_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"))
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("seats.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    headcount: Mapped[int] = mapped_column(default=1)
    status: Mapped[WaitlistStatus] = mapped_column(str_enum(WaitlistStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # --- state changes: the only writers of ``status`` (WAITLIST_TRANSITIONS) --------------

    def _become(self, status: WaitlistStatus) -> None:
        if status not in WAITLIST_TRANSITIONS.get(self.status, frozenset()):
            raise WrongBookingState(
                f"a waitlist entry cannot go from {self.status.value} to {status.value}",
                status=self.status.value,
            )
        self.status = status

    def offer(self, now: datetime) -> None:
        """The slot freed: the first in line is offered it (a held booking)."""
        self._become(WaitlistStatus.OFFERED)
        self.offered_at = now

    def settle(self, outcome: WaitlistStatus) -> None:
        """The entry ends: accepted, expired (its slot began, or nobody took the offer) or
        cancelled (the resident left the queue, a closure, staff)."""
        self._become(outcome)
