"""A resident's booking as the kiosk shows it: words, times, and the buttons that apply now.

Which buttons show follows the booking rules (check-in window, before the start, an open
offer), so a resident is offered only what the domain would accept at this moment; the
domain still decides when the button is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import NotFound
from booking.core.models.sites import Site
from booking.spaces import releases
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.space_rules import SpaceRules
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.touch.spaces import slip as booking_slip
from kiosk.touch.spaces import words as booking_words
from kiosk.touch.spaces.words import StatusWord

# The buttons of a booking, in the order they are shown; each maps to one domain call.
CHECK_IN = "check-in"
STEP_OUT = "step-out"
COME_BACK = "come-back"
LEAVE = "leave"
CANCEL = "cancel"
ACCEPT = "accept"
DECLINE = "decline"


@dataclass(frozen=True)
class SeatFeatures:
    power: bool
    window: bool
    quiet: bool


@dataclass(frozen=True)
class BookingView:
    id: int
    reference: str
    what: str
    where: str
    when: str
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    word: StatusWord
    is_seat: bool
    space_kind: SpaceKind
    features: SeatFeatures | None
    headcount: int
    purpose: str
    reason: str
    walk_in: bool
    actions: list[str] = field(default_factory=list)
    note: str = ""  # when check-in opens, until when a seat is kept, until when an offer holds

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def views_of(
    session: Session, bookings: list[Booking], site: Site, now: datetime
) -> list[BookingView]:
    """The views of a list of bookings at three queries in all, not three per booking: their
    spaces, seats and rules are loaded together (a space without a rules row would otherwise
    be looked up again for each of its bookings, as the identity map keeps no misses)."""
    space_ids = {booking.space_id for booking in bookings}
    seat_ids = {booking.seat_id for booking in bookings if booking.seat_id is not None}
    if not bookings:
        return []
    spaces = {s.id: s for s in session.scalars(select(Space).where(Space.id.in_(space_ids)))}
    rows = {
        row.space_id: row
        for row in session.scalars(select(SpaceRules).where(SpaceRules.space_id.in_(space_ids)))
    }
    seats_by_id = (
        {seat.id: seat for seat in session.scalars(select(Seat).where(Seat.id.in_(seat_ids)))}
        if seat_ids
        else {}
    )
    rules = {
        space_id: booking_rules.rules_from(space, rows.get(space_id))
        for space_id, space in spaces.items()
    }
    return [
        _view(
            booking,
            spaces[booking.space_id],
            seats_by_id[booking.seat_id] if booking.seat_id is not None else None,
            rules[booking.space_id],
            site,
            now,
        )
        for booking in bookings
    ]


def view_of(session: Session, booking: Booking, site: Site, now: datetime) -> BookingView:
    space = session.get_one(Space, booking.space_id)
    seat = session.get(Seat, booking.seat_id) if booking.seat_id is not None else None
    return _view(booking, space, seat, booking_rules.rules_for(session, space), site, now)


def own_view(
    session: Session, *, resident_id: int, booking_id: int, site: Site, now: datetime
) -> BookingView:
    """The resident's own booking at this centre, seen as they see it; 404 for any other.

    Another resident's booking and another centre's answer alike, so an id tells nothing.
    """
    try:
        booking = releases.own_booking(session, resident_id, booking_id)
    except NotFound:
        abort(404)
    if booking.site_id != site.id:
        abort(404)
    return view_of(session, booking, site, now)


def _view(
    booking: Booking,
    space: Space,
    seat: Seat | None,
    rules: booking_rules.Rules,
    site: Site,
    now: datetime,
) -> BookingView:
    actions, note = _actions(booking, rules, now, site.timezone)
    return BookingView(
        id=booking.id,
        reference=booking_slip.reference(site.slug, booking.id),
        what=booking_words.what(space, seat),
        where=booking_words.in_language(site.name_zh, site.name_en),
        when=booking_words.period_text(booking.starts_at, booking.ends_at, site.timezone),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        status=booking.status,
        word=booking_words.status_word(booking.status),
        is_seat=seat is not None,
        space_kind=space.kind,
        features=SeatFeatures(seat.has_power, seat.by_window, seat.quiet_zone) if seat else None,
        headcount=booking.headcount,
        purpose=booking.purpose,
        reason=booking.reason if booking.status is BookingStatus.REJECTED else "",
        walk_in=booking.walk_in,
        actions=actions,
        note=note,
    )


def _actions(
    booking: Booking, rules: booking_rules.Rules, now: datetime, timezone: str
) -> tuple[list[str], str]:
    status = booking.status
    at = booking_words.clock_time
    if status is BookingStatus.HELD:
        if booking.hold_expires_at is not None and now >= booking.hold_expires_at:
            return [], ""
        until = at(booking.hold_expires_at, timezone) if booking.hold_expires_at else ""
        return [ACCEPT, DECLINE], _note_offer(until)
    if status is BookingStatus.PENDING:
        return ([CANCEL] if now < booking.starts_at else []), ""
    if status is BookingStatus.CONFIRMED:
        actions: list[str] = []
        note = ""
        if booking.seat_id is not None:
            opens, closes = booking_rules.check_in_window(booking, rules)
            if opens <= now < closes:
                actions.append(CHECK_IN)
                note = _note_check_in_until(at(closes, timezone))
            elif now < opens:
                note = _note_check_in_from(at(opens, timezone), at(closes, timezone))
        if now < booking.starts_at:
            actions.append(CANCEL)
        return actions, note
    if status is BookingStatus.CHECKED_IN:
        return ([STEP_OUT] if now < booking.ends_at else []) + [LEAVE], ""
    if status is BookingStatus.ON_LEAVE and booking.leave_started_at is not None:
        kept = booking.leave_started_at + timedelta(minutes=rules.max_leave_minutes)
        return [COME_BACK, LEAVE], _note_kept(at(kept, timezone))
    return [], ""


def _note_offer(until: str) -> str:
    return str(_("Kept for you until %(time)s.", time=until))


def _note_check_in_until(until: str) -> str:
    return str(_("Please check in by %(time)s, or the seat goes to others.", time=until))


def _note_check_in_from(opens: str, closes: str) -> str:
    return str(_("Check in here between %(opens)s and %(closes)s.", opens=opens, closes=closes))


def _note_kept(until: str) -> str:
    return str(_("Your seat is kept until %(time)s. Tap “I am back” when you return.", time=until))
