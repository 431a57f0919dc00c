"""Strikes, suspensions, check-ins and the waitlist hold when many callers act at the same
moment, on SQLite and PostgreSQL.

Each race starts its calls together (one barrier), each in its own transaction as a kiosk
request or a scheduler run would, a few times over on a fresh centre. Every call succeeds or
is refused with a domain error, and the records obey the rule afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from booking_centre import Centre, at, build_centre, keep_alive
from simultaneous import OK, REPEATS, all_at_once, refusals_only
from sqlalchemy import Row, select

from booking.alerts.models.notifications import Notification, NotificationKind
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.due_jobs import DueJob
from booking.spaces import jobs as booking_jobs
from booking.spaces import rooms, seats, strikes, waitlist
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension

CENTRES = itertools.count()


def fresh_centre(database: Database, clock: FrozenClock) -> Centre:
    n = next(CENTRES)
    return build_centre(
        database, clock, slug=f"race{n}", phones_from=100 + 3 * n, staff_name=f"staff{n}"
    )


def book(database: Database, centre: Centre, who: int, seat: int, start: datetime,
         end: datetime, now: datetime) -> Callable[[], object]:  # fmt: skip
    def call() -> object:
        with database.write() as session:
            return seats.book_seat(session, resident_id=centre.residents[who],
                                   seat_id=centre.seats[seat], starts_at=start, ends_at=end,
                                   now=now).id  # fmt: skip

    return call


def job(database: Database, name: str, target_id: int, now: datetime) -> Callable[[], object]:
    """One scheduler's run of a due job, as the worker runs it."""

    def call() -> object:
        with database.write() as session:
            return booking_jobs.run(session, DueJob(name, target_id), now=now)

    return call


def active_bookings_of(database: Database, resident_id: int) -> list[Row[Any]]:
    """The resident's bookings holding a slot: (id, status, resident_id, hold_expires_at)."""
    with database.read() as session:
        return list(
            session.execute(
                select(
                    Booking.id, Booking.status, Booking.resident_id, Booking.hold_expires_at
                ).where(Booking.resident_id == resident_id, Booking.status.in_(ACTIVE_STATUSES))
            )
        )


# --- strikes and suspensions ------------------------------------------------------------------


def test_sixteen_no_show_strikes_for_one_resident_at_once_make_five_suspensions(
    any_database: Database, clock: FrozenClock
) -> None:
    """Three strikes suspend: sixteen at once make five suspensions of three strikes each,
    and the sixteenth strike waits for the next two."""
    now = at(21)
    for _ in range(REPEATS):
        centre = fresh_centre(any_database, clock)
        resident = centre.residents[0]
        with any_database.write() as session:
            missed = [
                Booking(site_id=centre.site_id, space_id=centre.study_id,
                        seat_id=centre.seats[0], resident_id=resident,
                        status=BookingStatus.NO_SHOW, starts_at=at(8, days=-day),
                        ends_at=at(9, days=-day), created_at=at(8, days=-day - 1))
                for day in range(1, 17)
            ]  # fmt: skip
            session.add_all(missed)
            session.flush()
            booking_ids = [b.id for b in missed]

        def strike(booking_id: int) -> Callable[[], object]:
            def call() -> object:
                with any_database.write() as session:
                    booking = session.get_one(Booking, booking_id)
                    return strikes.give_strike(session, booking, now=now, strikes_to_suspend=3,
                                               window=timedelta(days=30),
                                               suspension=timedelta(days=7))  # fmt: skip

            return call

        outcomes = all_at_once([strike(b) for b in booking_ids])
        refusals_only(outcomes)
        with any_database.read() as session:
            suspensions = session.scalars(
                select(BookingSuspension.id).where(BookingSuspension.resident_id == resident)
            ).all()
            counted = session.scalars(
                select(NoShowStrike.suspension_id).where(NoShowStrike.resident_id == resident)
            ).all()
        assert len(suspensions) == 5
        assert sorted(counted, key=lambda s: s or 0) == [None] + sorted(suspensions * 3)


def test_staff_lifting_one_suspension_at_once_lift_it_once(
    any_database: Database, clock: FrozenClock
) -> None:
    centre = fresh_centre(any_database, clock)
    with any_database.write() as session:
        suspension = BookingSuspension(site_id=centre.site_id, resident_id=centre.residents[0],
                                       starts_at=at(9), ends_at=at(9, days=7))  # fmt: skip
        session.add(suspension)
        session.flush()
        suspension_id = suspension.id

    def lift(desk: int) -> Callable[[], object]:
        def call() -> object:
            with any_database.write() as session:
                return strikes.lift_suspension(session, staff_id=centre.staff_id,
                                               site_id=centre.site_id,
                                               suspension_id=suspension_id,
                                               reason=f"desk {desk}: kiosk fault",
                                               now=clock.now())  # fmt: skip

        return call

    outcomes = all_at_once([lift(desk) for desk in range(8)])
    refusals_only(outcomes, "suspension_not_active")
    assert outcomes.count(OK) == 1
    with any_database.read() as session:
        lifted = session.get_one(BookingSuspension, suspension_id)
        assert lifted.lift_reason == f"desk {outcomes.index(OK)}: kiosk fault"


# --- the no-show job against the resident ------------------------------------------------------


def test_the_no_show_job_and_the_resident_booking_the_same_seat_again_never_deadlock(
    any_database: Database, clock: FrozenClock
) -> None:
    """The job releases the seat (locking it) and strikes the resident; the resident books
    the same seat for later (locking themself, then the seat). Both go through."""
    now = at(10, 15)
    for _ in range(REPEATS):
        centre = fresh_centre(any_database, clock)
        missed = book(any_database, centre, 0, 0, at(10), at(11), clock.now())()
        assert isinstance(missed, int)
        # Someone waits for the seat, so the release offers it on (and locks the seat).
        with any_database.write() as session:
            waitlist.join(session, resident_id=centre.residents[1], space_id=centre.study_id,
                          seat_id=centre.seats[0], starts_at=at(10, 30), ends_at=at(11),
                          now=clock.now())  # fmt: skip
        keep_alive(any_database, centre.site_id, at(9, 30), now)
        later = [(at(11 + n), at(12 + n)) for n in range(4)]
        outcomes = all_at_once(
            [job(any_database, "release_no_show", missed, now)] * 4
            + [book(any_database, centre, 0, 0, start, end, now) for start, end in later]
        )
        refusals_only(outcomes)
        with any_database.read() as session:
            assert session.get_one(Booking, missed).status is BookingStatus.NO_SHOW
            struck = session.scalars(
                select(NoShowStrike.booking_id).where(NoShowStrike.site_id == centre.site_id)
            ).all()
        assert struck == [missed]


def test_checking_in_as_the_no_show_job_runs_ends_checked_in_or_no_show_never_both(
    any_database: Database, clock: FrozenClock
) -> None:
    check_in_at = at(10, 15) - timedelta(seconds=1)  # the kiosk's last moment
    job_at = at(10, 15)  # the scheduler's first
    for _ in range(REPEATS):
        centre = fresh_centre(any_database, clock)
        booking_id = book(any_database, centre, 0, 0, at(10), at(11), clock.now())()
        assert isinstance(booking_id, int)
        with any_database.write() as session:
            waitlist.join(session, resident_id=centre.residents[1], space_id=centre.study_id,
                          seat_id=centre.seats[0], starts_at=at(10, 30), ends_at=at(11),
                          now=clock.now())  # fmt: skip
        keep_alive(any_database, centre.site_id, at(9, 30), job_at)

        def check_in(booking_id: int = booking_id, resident: int = centre.residents[0]) -> object:
            with any_database.write() as session:
                return seats.check_in(session, resident_id=resident, booking_id=booking_id,
                                      now=check_in_at)  # fmt: skip

        outcomes = all_at_once(
            [check_in] * 4 + [job(any_database, "release_no_show", booking_id, job_at)] * 4
        )
        refusals_only(outcomes, "wrong_booking_state")
        with any_database.read() as session:
            status = session.get_one(Booking, booking_id).status
            struck = session.scalars(
                select(NoShowStrike.booking_id).where(NoShowStrike.site_id == centre.site_id)
            ).all()
        if status is BookingStatus.CHECKED_IN:
            assert (outcomes[:4].count(OK), struck) == (1, [])
            assert active_bookings_of(any_database, centre.residents[1]) == []
        else:
            assert status is BookingStatus.NO_SHOW
            assert (outcomes[:4].count(OK), struck) == (0, [booking_id])


# --- the waitlist -----------------------------------------------------------------------------


def offered(database: Database, centre: Centre, clock: FrozenClock) -> int:
    """Resident 0's seat 11:00-12:00 is cancelled and offered to resident 1 (resident 2 is
    next in line); the offer's booking id."""
    taken = book(database, centre, 0, 0, at(11), at(12), clock.now())()
    assert isinstance(taken, int)
    with database.write() as session:
        for who in (1, 2):
            waitlist.join(session, resident_id=centre.residents[who], space_id=centre.study_id,
                          seat_id=centre.seats[0], starts_at=at(11), ends_at=at(12),
                          now=clock.now())  # fmt: skip
    with database.write() as session:
        seats.cancel(session, resident_id=centre.residents[0], booking_id=taken, now=clock.now())
    (offer,) = active_bookings_of(database, centre.residents[1])
    assert offer.status is BookingStatus.HELD and offer.hold_expires_at is not None
    return offer.id


def test_accepting_an_offer_as_it_expires_gives_the_slot_to_one_resident(
    any_database: Database, clock: FrozenClock
) -> None:
    for _ in range(REPEATS):
        centre = fresh_centre(any_database, clock)
        offer_id = offered(any_database, centre, clock)
        with any_database.read() as session:
            expiry = session.get_one(Booking, offer_id).hold_expires_at
        assert expiry is not None

        def accept(
            offer_id: int = offer_id, resident: int = centre.residents[1], expiry: datetime = expiry
        ) -> object:
            with any_database.write() as session:
                return waitlist.accept(session, resident_id=resident, booking_id=offer_id,
                                       now=expiry - timedelta(seconds=1))  # fmt: skip

        outcomes = all_at_once(
            [accept] * 4 + [job(any_database, "expire_offer", offer_id, expiry)] * 4
        )
        refusals_only(outcomes, "offer_expired", "wrong_booking_state")
        holders = active_bookings_of(any_database, centre.residents[1]) + active_bookings_of(
            any_database, centre.residents[2]
        )
        assert len(holders) == 1
        assert outcomes[:4].count(OK) == (holders[0].resident_id == centre.residents[1])


def test_an_offer_made_while_the_resident_books_another_seat_never_seats_them_twice(
    any_database: Database, clock: FrozenClock
) -> None:
    for _ in range(REPEATS):
        centre = fresh_centre(any_database, clock)
        taken = book(any_database, centre, 0, 0, at(11), at(12), clock.now())()
        assert isinstance(taken, int)
        with any_database.write() as session:
            waitlist.join(session, resident_id=centre.residents[1], space_id=centre.study_id,
                          seat_id=centre.seats[0], starts_at=at(11), ends_at=at(12),
                          now=clock.now())  # fmt: skip

        def cancel(taken: int = taken, resident: int = centre.residents[0]) -> object:
            with any_database.write() as session:
                return seats.cancel(session, resident_id=resident, booking_id=taken,
                                    now=clock.now())  # fmt: skip

        outcomes = all_at_once(
            [cancel] + [book(any_database, centre, 1, n, at(11), at(12), clock.now())
                        for n in (1, 2, 3)]
        )  # fmt: skip
        refusals_only(outcomes, "resident_busy")
        assert len(active_bookings_of(any_database, centre.residents[1])) == 1


def test_a_resident_joining_one_queue_many_times_at_once_queues_once(
    any_database: Database, clock: FrozenClock
) -> None:
    for _ in range(REPEATS):
        centre = fresh_centre(any_database, clock)
        book(any_database, centre, 0, 0, at(11), at(12), clock.now())()

        def join(resident: int = centre.residents[1], centre: Centre = centre) -> object:
            with any_database.write() as session:
                return waitlist.join(session, resident_id=resident, space_id=centre.study_id,
                                     seat_id=centre.seats[0], starts_at=at(11), ends_at=at(12),
                                     now=clock.now())  # fmt: skip

        outcomes = all_at_once([join] * 8)
        refusals_only(outcomes, "already_queued")
        assert outcomes.count(OK) == 1


# --- staff decisions ----------------------------------------------------------------------------


def test_two_staff_deciding_one_room_request_at_once_decide_it_once(
    any_database: Database, clock: FrozenClock
) -> None:
    for _ in range(REPEATS):
        centre = fresh_centre(any_database, clock)
        with any_database.write() as session:
            request = rooms.book_room(session, resident_id=centre.residents[0],
                                      space_id=centre.meeting_id, starts_at=at(14),
                                      ends_at=at(15), headcount=6, now=clock.now()).id  # fmt: skip

        def approve(
            request: int = request, staff: int = centre.staff_id, site: int = centre.site_id
        ) -> object:
            with any_database.write() as session:
                return rooms.approve(session, staff_id=staff, site_id=site,
                                     booking_id=request, now=clock.now())  # fmt: skip

        def reject(
            request: int = request, staff: int = centre.staff_id, site: int = centre.site_id
        ) -> object:
            with any_database.write() as session:
                return rooms.reject(session, staff_id=staff, site_id=site,
                                    booking_id=request, reason="the room is being painted",
                                    now=clock.now())  # fmt: skip

        outcomes = all_at_once([approve, reject] * 4)
        refusals_only(outcomes, "wrong_booking_state")
        assert outcomes.count(OK) == 1
        with any_database.read() as session:
            status = session.get_one(Booking, request).status
            told = session.scalars(
                select(Notification.kind).where(Notification.booking_id == request)
            ).all()
        decided = outcomes.index(OK) % 2
        assert status is (BookingStatus.CONFIRMED, BookingStatus.REJECTED)[decided]
        assert told == [
            (NotificationKind.BOOKING_APPROVED, NotificationKind.BOOKING_REJECTED)[decided]
        ]
