"""One reminder notice before a confirmed booking starts, sent by a scheduled job.

A seat's reminder comes shortly before its check-in window opens and states the window, since
missing it loses the seat (and may earn a strike); a room has no check-in, so its reminder
simply comes an hour ahead. The job is idempotent: the reminder itself, a notification of
kind ``BOOKING_REMINDER`` for the booking, is the record that it was sent, so a second run,
a late run or a run after a restart sends nothing more; and a unique row of
``booking.core.sends`` lets only one of two schedulers running at once send it. A reminder missed
during an outage is still sent on catch-up while the booking has not started; after the
start it would only confuse, so none is sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.orm import Session

from booking.alerts import notifications
from booking.alerts.models.notifications import Notification, NotificationKind
from booking.core import sends
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.space_rules import SpaceRules
from booking.spaces.models.spaces import Space

# Residents walk over from home: a quarter of an hour before the window opens leaves time to
# come without making them wait at the desk before they can check in.
SEAT_LEAD_BEFORE_CHECK_IN = timedelta(minutes=15)
# A group has to gather (and maybe bring things), and nothing is lost by coming a little
# late, so an hour ahead is enough and not so early that it is forgotten again.
ROOM_LEAD = timedelta(minutes=60)


def reminder_at(booking: Booking, rules: booking_rules.Rules) -> datetime:
    """The moment the booking's reminder is due."""
    if booking.seat_id is None:
        return booking.starts_at - ROOM_LEAD
    return booking_rules.check_in_window(booking, rules)[0] - SEAT_LEAD_BEFORE_CHECK_IN


def _reminded(booking_id: object) -> Exists:
    """Whether a reminder exists for the booking (an id, or ``Booking.id`` in a query)."""
    return exists().where(
        Notification.booking_id == booking_id,
        Notification.kind == NotificationKind.BOOKING_REMINDER,
    )


def send_reminder(session: Session, *, booking_id: int, now: datetime) -> bool:
    """Remind the resident of their booking once, between its reminder moment and its start.

    None for a booking that is not (or no longer, or not yet) confirmed, for a staff series'
    occurrence (nobody to tell), or for one booked after its reminder moment: the resident
    chose that time minutes ago at the kiosk and would only have one more message to tap away.
    """
    booking = session.get(Booking, booking_id)
    if (
        booking is None
        or booking.resident_id is None
        or booking.status is not BookingStatus.CONFIRMED
        or now >= booking.starts_at
    ):
        return False
    rules = booking_rules.rules_for(session, session.get_one(Space, booking.space_id))
    moment = reminder_at(booking, rules)
    if now < moment or booking.created_at >= moment:
        return False
    if session.scalar(select(_reminded(booking.id))):
        return False
    # Two schedulers at once (a worker that lost its lease and its successor): one sends.
    if not sends.claim(
        session,
        site_id=booking.site_id,
        kind=sends.BOOKING_REMINDER,
        key=f"booking:{booking.id}",
        now=now,
    ):
        return False
    detail = ""
    if booking.seat_id is not None:
        opens, closes = booking_rules.check_in_window(booking, rules)
        detail = f"{opens.isoformat()}\n{closes.isoformat()}"
    notifications.notify(
        session,
        resident_id=booking.resident_id,
        site_id=booking.site_id,
        kind=NotificationKind.BOOKING_REMINDER,
        now=now,
        booking_id=booking.id,
        detail=detail,
    )
    session.flush()
    return True


def _longest_lead(session: Session) -> timedelta:
    """The furthest ahead any reminder can be due, over every space's rules."""
    early = max(
        booking_rules.STUDY_DEFAULTS.check_in_early_minutes,
        booking_rules.ACTIVITY_DEFAULTS.check_in_early_minutes,
        session.scalar(select(func.max(SpaceRules.check_in_early_minutes))) or 0,
    )
    return max(ROOM_LEAD, timedelta(minutes=early) + SEAT_LEAD_BEFORE_CHECK_IN)


def due_booking_ids(session: Session, *, now: datetime) -> list[int]:
    """Bookings that may need their reminder now; :func:`send_reminder` checks each exactly.

    Found generously (the lead differs per space) but without the ones already reminded, so
    a reminded booking is not looked at again every minute until it starts.
    """
    return list(
        session.scalars(
            select(Booking.id).where(
                Booking.status == BookingStatus.CONFIRMED,
                Booking.resident_id.is_not(None),
                Booking.starts_at > now,
                Booking.starts_at <= now + _longest_lead(session),
                ~_reminded(Booking.id),
            )
        )
    )
