"""Bookings of study seats and activity rooms, and the rules each space books by."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    DDL,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    event,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import WrongBookingState


class BookingStatus(enum.StrEnum):
    # Holding the slot:
    HELD = "held"  # offered to the first resident on the waitlist, not yet accepted
    PENDING = "pending"  # waiting for staff approval (rooms that need it)
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    ON_LEAVE = "on_leave"  # a temporary leave: the seat is kept for a while
    # Finished, the slot is free again:
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    NO_SHOW = "no_show"
    RELEASED = "released"  # a temporary leave that ran too long
    EXPIRED = "expired"  # a waitlist offer nobody took in time


ACTIVE_STATUSES = frozenset(
    {
        BookingStatus.HELD,
        BookingStatus.PENDING,
        BookingStatus.CONFIRMED,
        BookingStatus.CHECKED_IN,
        BookingStatus.ON_LEAVE,
    }
)
FINISHED_STATUSES = frozenset(set(BookingStatus) - ACTIVE_STATUSES)
# Where each active status may go. A finished booking never changes again.
BOOKING_TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.HELD: frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})
    | FINISHED_STATUSES,
    BookingStatus.PENDING: frozenset({BookingStatus.CONFIRMED}) | FINISHED_STATUSES,
    BookingStatus.CONFIRMED: frozenset({BookingStatus.CHECKED_IN}) | FINISHED_STATUSES,
    BookingStatus.CHECKED_IN: frozenset({BookingStatus.ON_LEAVE}) | FINISHED_STATUSES,
    BookingStatus.ON_LEAVE: frozenset({BookingStatus.CHECKED_IN}) | FINISHED_STATUSES,
}
# The statuses that hold a slot, as SQL for the exclusion constraint's WHERE (sorted: stable DDL).
_ACTIVE_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(ACTIVE_STATUSES)) + ")"


def _period() -> object:
    # Half-open, so 10:00–11:00 and 11:00–12:00 do not overlap.
    return func.tstzrange(
        literal_column("starts_at"), literal_column("ends_at"), literal_column("'[)'")
    )


class Booking(Base):
    """One resident's (or one staff series') hold on a seat or a whole activity room.

    ``seat_id`` is set for study seats; a room booking has only ``space_id``. Two active
    bookings of the same seat, or of the same room, never overlap: on PostgreSQL an
    exclusion constraint refuses it; on every database the service locks the resource and
    checks inside the writing transaction (see ``booking/spaces/occupancy.py``).
    """

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period_not_empty"),
        CheckConstraint("headcount >= 1", name="headcount_positive"),
        UniqueConstraint("series_id", "occurs_on"),
        Index("ix_bookings_seat_period", "seat_id", "starts_at"),
        Index("ix_bookings_space_period", "space_id", "starts_at"),
        ExcludeConstraint(
            (literal_column("seat_id"), "="),
            (_period(), "&&"),  # type: ignore[arg-type]
            name="ex_bookings_seat_overlap",
            using="gist",
            where=literal_column(f"seat_id IS NOT NULL AND {_ACTIVE_SQL}"),
        ).ddl_if(dialect="postgresql"),
        ExcludeConstraint(
            (literal_column("space_id"), "="),
            (_period(), "&&"),  # type: ignore[arg-type]
            name="ex_bookings_room_overlap",
            using="gist",
            where=literal_column(f"seat_id IS NULL AND {_ACTIVE_SQL}"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"))
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("seats.id"))
    # None only for a staff series (the tai-chi class books the room, not a resident).
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    # Who made it when not the resident: the staff series' author, or staff booking for the
    # resident at the counter or on the phone (resident_id then names the resident).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    headcount: Mapped[int] = mapped_column(default=1)
    purpose: Mapped[str] = mapped_column(String(200), default="")
    walk_in: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leave_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it ended early or was refused, shown to the resident (a staff reason, "closure", …).
    reason: Mapped[str] = mapped_column(String(300), default="")
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlist_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("waitlist_entries.id", ondelete="SET NULL")
    )
    series_id: Mapped[int | None] = mapped_column(ForeignKey("booking_series.id"))
    occurs_on: Mapped[date | None]
    # What the slip's QR code carries (never the id): unguessable, so only the slip's holder
    # can check in by scanning it (booking/spaces/slip_tokens.py).
    slip_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_seat(self) -> bool:
        return self.seat_id is not None

    # --- state changes: the only writers of ``status`` (BOOKING_TRANSITIONS) ---------------

    def _become(self, status: BookingStatus) -> None:
        if status not in BOOKING_TRANSITIONS.get(self.status, frozenset()):
            raise WrongBookingState(
                f"a booking cannot go from {self.status.value} to {status.value}",
                status=self.status.value,
            )
        self.status = status

    def give_slip_token(self, token: str) -> str:
        """The slip's token, given once: a slip printed earlier keeps working."""
        if self.slip_token is None:
            self.slip_token = token
        return self.slip_token

    def made_by_staff(self, staff_id: int) -> None:
        """Staff made this booking for its resident (at the counter, on the phone); the
        resident's page says so."""
        self.staff_id = staff_id

    def check_in(self, now: datetime) -> None:
        """The resident sat down at their seat."""
        self._become(BookingStatus.CHECKED_IN)
        self.checked_in_at = now

    def step_out(self, now: datetime) -> None:
        """A temporary leave begins: the seat is kept for a while."""
        self._become(BookingStatus.ON_LEAVE)
        self.leave_started_at = now

    def come_back(self) -> None:
        """Back from a temporary leave (or the leave is forgiven: the kiosk was down)."""
        self._become(BookingStatus.CHECKED_IN)
        self.leave_started_at = None

    def approve(self, *, staff_id: int, now: datetime) -> None:
        """Staff approved a room booking that waited for them."""
        self._become(BookingStatus.CONFIRMED)
        self.record_decision(staff_id=staff_id, now=now)

    def record_decision(self, *, staff_id: int, now: datetime) -> None:
        """Who decided on a booking that waited for staff, and when: approving records it
        with the new status; refusing records it, then releases the booking as rejected."""
        self.decided_by_staff_id = staff_id
        self.decided_at = now

    def accept_offer(self, *, needs_approval: bool) -> None:
        """The resident took the slot the waitlist offered: it waits for staff where the room
        needs approval, and is confirmed elsewhere."""
        self._become(BookingStatus.PENDING if needs_approval else BookingStatus.CONFIRMED)
        self.hold_expires_at = None

    def finish(self, status: BookingStatus, now: datetime, reason: str | None = None) -> None:
        """The booking ends (completed, cancelled, no-show, rejected, released, expired) and
        gives its slot back."""
        if status in ACTIVE_STATUSES:
            raise ValueError(f"{status} is not a finished status")
        self._become(status)
        self.finished_at = now
        if reason:
            self.reason = reason


# The exclusion constraint compares integers with `=` inside a GiST index, which needs
# btree_gist. It goes into `public` so that every schema (and each test's own schema) sees
# the same extension; a schema-local copy would vanish with its schema.
event.listen(
    Booking.__table__,
    "before_create",
    DDL(  # type: ignore[no-untyped-call]
        "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public"
    ).execute_if(dialect="postgresql"),
)
