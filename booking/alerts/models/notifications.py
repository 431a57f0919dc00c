from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class NotificationKind(enum.StrEnum):
    BOOKING_APPROVED = "booking_approved"
    BOOKING_REJECTED = "booking_rejected"
    CLOSURE = "closure"  # a booking was cancelled because the space closes
    WAITLIST_OFFER = "waitlist_offer"
    NO_SHOW = "no_show"
    SUSPENDED = "suspended"
    # The space queued for was retired; ``detail`` holds its names, "中文\nEnglish".
    WAITLIST_ENDED = "waitlist_ended"
    # Sent once before a booking starts; for a seat, ``detail`` holds the check-in window
    # as two ISO times, "opens\ncloses", as the rules stated it when the reminder went out.
    BOOKING_REMINDER = "booking_reminder"
    # A tool reserved for a window, or queued for, is held at the lockers; ``detail`` holds
    # its names and the end of the hold, "中文\nEnglish\nISO time".
    TOOL_RESERVATION_READY = "tool_reservation_ready"
    TOOL_QUEUE_READY = "tool_queue_ready"
    # A held tool nobody collected; ``detail`` holds its names, "中文\nEnglish".
    TOOL_NO_SHOW = "tool_no_show"


class Notification(Base):
    """Something a resident should read at the kiosk (and, later, by SMS).

    The kiosk renders the text from ``kind`` in the resident's language; ``detail`` carries
    free text written by staff (a rejection or closure reason).
    """

    __tablename__ = "notifications"
    # One closure notice per resident, however many of their bookings it cancels.
    __table_args__ = (UniqueConstraint("resident_id", "closure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    closure_id: Mapped[int | None] = mapped_column(ForeignKey("closures.id"))
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
