"""The waitlist: queue for a taken slot; when it frees, the first in line is offered it.

An offer is a booking in status HELD, so the freed slot is kept for that resident by the
same constraint as any booking. It lasts ``offer_minutes`` (30); unanswered, it expires and
the next in line is offered the slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core import row_locks
from booking.core.errors import (
    AlreadyQueued,
    DomainError,
    InvalidInput,
    NotFound,
    OfferExpired,
    SlotFree,
    WrongBookingState,
)
from booking.core.models.sites import Site
from booking.spaces import occupancy, strikes
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from booking.spaces.models.waitlist import WaitlistEntry, WaitlistStatus


def join(
    session: Session,
    *,
    resident_id: int,
    space_id: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    seat_id: int | None = None,
    headcount: int = 1,
) -> WaitlistEntry:
    """Queue for a taken seat (``seat_id``) or a taken activity room slot."""
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound("no such space")
    site = session.get_one(Site, space.site_id)
    booking_rules.member(session, resident_id, site.id)
    rules = booking_rules.rules_for(session, space)
    if space.kind is SpaceKind.STUDY:
        seat = session.get(Seat, seat_id) if seat_id is not None else None
        if seat is None or seat.space_id != space.id:
            raise NotFound("no such seat")
        headcount = 1
    else:
        if seat_id is not None:
            raise InvalidInput("activity rooms are booked whole", field="seat_id")
        booking_rules.check_headcount(space, headcount)
    booking_rules.check_period(
        session, site=site, space=space, rules=rules, starts_at=starts_at, ends_at=ends_at, now=now
    )
    if seat_id is not None:
        booking_rules.check_seat_holder(
            session,
            site=site,
            rules=rules,
            resident_id=resident_id,
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
        )
    if occupancy.is_free(
        session, space_id=space.id, seat_id=seat_id, starts_at=starts_at, ends_at=ends_at
    ):
        raise SlotFree("that time is free: book it")
    # The resident's queue is read, then joined: a second tap at the same moment waits here
    # and then finds the first entry.
    row_locks.lock_resident(session, resident_id)
    queued = session.scalar(
        select(WaitlistEntry.id).where(
            WaitlistEntry.resident_id == resident_id,
            WaitlistEntry.space_id == space.id,
            _same_seat(seat_id),
            WaitlistEntry.status.in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)),
            WaitlistEntry.starts_at < ends_at,
            WaitlistEntry.ends_at > starts_at,
        )
    )
    if queued is not None:
        raise AlreadyQueued("you are already in the queue for that time", entry_id=queued)
    entry = WaitlistEntry(
        site_id=site.id,
        space_id=space.id,
        seat_id=seat_id,
        resident_id=resident_id,
        starts_at=starts_at,
        ends_at=ends_at,
        headcount=headcount,
        status=WaitlistStatus.WAITING,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def _same_seat(seat_id: int | None) -> ColumnElement[bool]:
    return WaitlistEntry.seat_id.is_(None) if seat_id is None else WaitlistEntry.seat_id == seat_id


def offer_freed(
    session: Session, *, space_id: int, seat_id: int | None, now: datetime
) -> list[Booking]:
    """Offer freed time on a seat or room to those queueing for it, first come first served.

    Idempotent: entries already offered are not offered again, and an entry whose slot is
    still (or again) taken simply keeps waiting.
    """
    space = session.get_one(Space, space_id)
    site = session.get_one(Site, space.site_id)
    rules = booking_rules.rules_for(session, space)
    if seat_id is not None:
        occupancy.lock_seat(session, seat_id)
    else:
        occupancy.lock_space(session, space_id)
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.space_id == space_id,
            _same_seat(seat_id),
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    offers: list[Booking] = []
    for entry in waiting:
        if entry.starts_at <= now:
            # The slot has begun: an offer now would be a booking already half over.
            entry.settle(WaitlistStatus.EXPIRED)
            continue
        if not occupancy.is_free(
            session,
            space_id=space_id,
            seat_id=seat_id,
            starts_at=entry.starts_at,
            ends_at=entry.ends_at,
        ):
            continue
        if booking_rules.closure_over(
            session,
            site_id=site.id,
            space_id=space_id,
            starts_at=entry.starts_at,
            ends_at=entry.ends_at,
        ):
            continue
        if seat_id is not None:
            # The rule below reads what the resident holds, so the resident is locked. The
            # seat is locked already, and a resident's own booking locks the resident before
            # a seat, so waiting here could deadlock: a resident booking at this very moment
            # keeps their place in the queue, and the next in line is offered this time.
            if not row_locks.lock_resident_if_free(session, entry.resident_id):
                continue
            try:
                booking_rules.check_seat_holder(
                    session,
                    site=site,
                    rules=rules,
                    resident_id=entry.resident_id,
                    starts_at=entry.starts_at,
                    ends_at=entry.ends_at,
                    now=now,
                )
            except DomainError:
                # Suspended or seated elsewhere since queueing: the next in line goes first.
                continue
        hold = occupancy.take(
            session,
            Booking(
                site_id=site.id,
                space_id=space_id,
                seat_id=seat_id,
                resident_id=entry.resident_id,
                status=BookingStatus.HELD,
                starts_at=entry.starts_at,
                ends_at=entry.ends_at,
                headcount=entry.headcount,
                created_at=now,
                hold_expires_at=now + timedelta(minutes=rules.offer_minutes),
                waitlist_entry_id=entry.id,
            ),
        )
        entry.offer(now)
        session.flush()
        notifications.notify(
            session,
            resident_id=entry.resident_id,
            site_id=site.id,
            kind=NotificationKind.WAITLIST_OFFER,
            now=now,
            booking_id=hold.id,
        )
        offers.append(hold)
    return offers


def _own_offer(session: Session, resident_id: int, booking_id: int) -> Booking:
    # Locked: accepting just as the expiry job hands the slot to the next in line must not
    # confirm an offer that has already gone.
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None or booking.resident_id != resident_id:
        raise NotFound("no such booking")
    if booking.status is BookingStatus.EXPIRED:
        raise OfferExpired("the offer has run out", expired_at=booking.hold_expires_at)
    if booking.status is not BookingStatus.HELD:
        raise WrongBookingState("this is not an open offer", status=booking.status.value)
    return booking


def accept(session: Session, *, resident_id: int, booking_id: int, now: datetime) -> Booking:
    """Take an offered slot: it becomes a booking (pending, for a room that needs approval)."""
    booking = _own_offer(session, resident_id, booking_id)
    if booking.hold_expires_at is not None and now >= booking.hold_expires_at:
        raise OfferExpired("the offer has run out", expired_at=booking.hold_expires_at)
    space = session.get_one(Space, booking.space_id)
    if booking.seat_id is not None:
        strikes.ensure_not_suspended(
            session, resident_id=resident_id, site_id=booking.site_id, now=now
        )
    booking.accept_offer(needs_approval=space.needs_approval)
    close_entry(session, booking, WaitlistStatus.ACCEPTED)
    session.flush()
    return booking


def decline(session: Session, *, resident_id: int, booking_id: int, now: datetime) -> None:
    """Turn an offer down; the next in line is offered the slot at once."""
    booking = _own_offer(session, resident_id, booking_id)
    _drop_offer(session, booking, now, WaitlistStatus.CANCELLED)


def expire_offer(session: Session, *, booking_id: int, now: datetime) -> bool:
    """Scheduled: end an unanswered offer and offer the slot to the next. Idempotent."""
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None or booking.status is not BookingStatus.HELD:
        return False
    if booking.hold_expires_at is not None and now < booking.hold_expires_at:
        return False
    _drop_offer(session, booking, now, WaitlistStatus.EXPIRED)
    return True


def _drop_offer(session: Session, booking: Booking, now: datetime, outcome: WaitlistStatus) -> None:
    booking.finish(BookingStatus.EXPIRED, now)
    close_entry(session, booking, outcome)
    session.flush()
    offer_freed(session, space_id=booking.space_id, seat_id=booking.seat_id, now=now)


def close_entry(session: Session, booking: Booking, outcome: WaitlistStatus) -> None:
    """Settle the queue entry an offer was made from (if the booking came from the queue)."""
    if booking.waitlist_entry_id is not None:
        entry = session.get(WaitlistEntry, booking.waitlist_entry_id)
        if entry is not None:
            entry.settle(outcome)


def leave_queue(session: Session, *, resident_id: int, entry_id: int) -> None:
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None or entry.resident_id != resident_id:
        raise NotFound("no such waitlist entry")
    if entry.status is WaitlistStatus.WAITING:
        entry.settle(WaitlistStatus.CANCELLED)


def end_queue_of_space(session: Session, space: Space, *, now: datetime) -> int:
    """End everyone's wait for a space that is being retired; return how many entries ended.

    Nobody would ever be offered a slot there again, so each resident waiting for a time still
    to come is told once (the notice names the room: it carries both names, as no booking
    does); a wait whose time has begun just expires, as :func:`offer_freed` would expire it.
    Offers already made are bookings, which retiring refuses while they are live.
    """
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.space_id == space.id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .order_by(WaitlistEntry.id)
    ).all()
    told: set[int] = set()
    for entry in waiting:
        if entry.starts_at <= now:
            entry.settle(WaitlistStatus.EXPIRED)
            continue
        entry.settle(WaitlistStatus.CANCELLED)
        if entry.resident_id not in told:
            told.add(entry.resident_id)
            notifications.notify(
                session,
                resident_id=entry.resident_id,
                site_id=entry.site_id,
                kind=NotificationKind.WAITLIST_ENDED,
                now=now,
                detail=f"{space.name_zh}\n{space.name_en}",
            )
    session.flush()
    return len(waiting)


def queue_of(session: Session, *, resident_id: int, site_id: int) -> list[WaitlistEntry]:
    return list(
        session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.resident_id == resident_id,
                WaitlistEntry.site_id == site_id,
                WaitlistEntry.status.in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)),
            )
            .order_by(WaitlistEntry.starts_at)
        )
    )
