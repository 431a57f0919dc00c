"""A booking and a waitlist entry change state only through their own methods, and every
(from, to) pair is either in the model's table and done, or refused and left as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.core.errors import WrongBookingState
from booking.spaces.models.bookings import (
    ACTIVE_STATUSES,
    BOOKING_TRANSITIONS,
    Booking,
    BookingStatus,
)
from booking.spaces.models.waitlist import WAITLIST_TRANSITIONS, WaitlistEntry, WaitlistStatus

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a fixed instant: only the fields' values matter
FINISHED = [s for s in BookingStatus if s not in ACTIVE_STATUSES]

# The method that moves a booking to each status, with what it must also record.
BOOKING_MOVES = {
    BookingStatus.CHECKED_IN: lambda b: b.check_in(NOW),
    BookingStatus.ON_LEAVE: lambda b: b.step_out(NOW),
    BookingStatus.CONFIRMED: lambda b: b.approve(staff_id=7, now=NOW),
    BookingStatus.PENDING: lambda b: b.accept_offer(needs_approval=True),
    **{s: (lambda status: lambda b: b.finish(status, NOW, "why"))(s) for s in FINISHED},
}


def test_every_active_status_has_its_row_and_finished_ones_none() -> None:
    assert set(BOOKING_TRANSITIONS) == set(ACTIVE_STATUSES)


@pytest.mark.parametrize(
    ("start", "target"), [(a, b) for a in BookingStatus for b in BOOKING_MOVES]
)
def test_a_booking_moves_only_along_its_table(start: BookingStatus, target: BookingStatus) -> None:
    booking = Booking(status=start, starts_at=NOW, ends_at=NOW)
    if target in BOOKING_TRANSITIONS.get(start, frozenset()):
        BOOKING_MOVES[target](booking)
        assert booking.status is target
    else:
        with pytest.raises(WrongBookingState):
            BOOKING_MOVES[target](booking)
        assert booking.status is start


def test_coming_back_from_leave_clears_the_leave() -> None:
    booking = Booking(status=BookingStatus.ON_LEAVE, leave_started_at=NOW)
    booking.come_back()
    assert (booking.status, booking.leave_started_at) == (BookingStatus.CHECKED_IN, None)


def test_finishing_records_when_and_why_and_refuses_an_active_status() -> None:
    booking = Booking(status=BookingStatus.CONFIRMED)
    with pytest.raises(ValueError):
        booking.finish(BookingStatus.CHECKED_IN, NOW)
    booking.finish(BookingStatus.CANCELLED, NOW, "plans changed")
    assert (booking.finished_at, booking.reason) == (NOW, "plans changed")


@pytest.mark.parametrize(
    ("start", "target"), [(a, b) for a in WaitlistStatus for b in WaitlistStatus]
)
def test_a_waitlist_entry_moves_only_along_its_table(
    start: WaitlistStatus, target: WaitlistStatus
) -> None:
    entry = WaitlistEntry(status=start)
    move = (
        (lambda: entry.offer(NOW))
        if target is WaitlistStatus.OFFERED
        else (lambda: entry.settle(target))
    )
    if target in WAITLIST_TRANSITIONS.get(start, frozenset()):
        move()
        assert entry.status is target
    else:
        with pytest.raises(WrongBookingState):
            move()
        assert entry.status is start
