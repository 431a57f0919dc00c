from __future__ import annotations

from datetime import date, datetime, time

import pytest
from booking_centre import Centre, at, book_room
from sqlalchemy import select

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import (
    InvalidInput,
    NotFound,
    OfferExpired,
    OverCapacity,
    SlotFree,
    SlotTaken,
    SpaceClosed,
)
from booking.spaces import closures, releases, rooms, seats, series, waitlist
from booking.spaces import jobs as booking_jobs
from booking.spaces.models.bookings import Booking, BookingStatus


def kinds(db: Database, resident_id: int, site_id: int) -> list[NotificationKind]:
    with db.read() as session:
        return [
            n.kind
            for n in notifications.notifications_of(
                session, resident_id=resident_id, site_id=site_id
            )
        ]


def test_a_group_books_an_activity_room_up_to_its_capacity(
    any_database: Database, centre: Centre
) -> None:
    booking = book_room(any_database, centre, centre.dance_id, at(14), at(16), headcount=20)
    assert booking.status is BookingStatus.CONFIRMED


def test_a_group_larger_than_the_room_is_refused(any_database: Database, centre: Centre) -> None:
    with pytest.raises(OverCapacity):
        book_room(any_database, centre, centre.dance_id, at(14), at(16), headcount=21)


def test_a_room_cannot_be_booked_twice_for_overlapping_time(
    any_database: Database, centre: Centre
) -> None:
    book_room(any_database, centre, centre.dance_id, at(14), at(16))
    with pytest.raises(SlotTaken):
        book_room(any_database, centre, centre.dance_id, at(15), at(17), who=1)
    book_room(any_database, centre, centre.dance_id, at(16), at(17), who=1)


def test_an_approval_room_booking_waits_as_pending_until_staff_approve(
    any_database: Database, centre: Centre
) -> None:
    booking = book_room(any_database, centre, centre.meeting_id, at(14), at(16))
    assert booking.status is BookingStatus.PENDING
    with any_database.write() as session:
        rooms.approve(session, staff_id=centre.staff_id, site_id=centre.site_id,
                      booking_id=booking.id, now=at(10))  # fmt: skip
    assert kinds(any_database, centre.residents[0], centre.site_id) == [
        NotificationKind.BOOKING_APPROVED
    ]


def test_a_rejected_booking_shows_the_resident_the_reason_and_frees_the_room(
    any_database: Database, centre: Centre
) -> None:
    booking = book_room(any_database, centre, centre.meeting_id, at(14), at(16))
    with any_database.write() as session:
        rooms.reject(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            booking_id=booking.id,
            reason="会议室维修",
            now=at(10),
        )
    with any_database.read() as session:
        mine = seats.bookings_of(
            session, resident_id=centre.residents[0], site_id=centre.site_id, now=at(10)
        )
        assert [(b.status, b.reason) for b in mine] == [(BookingStatus.REJECTED, "会议室维修")]
    book_room(any_database, centre, centre.meeting_id, at(14), at(16), who=1)


def test_a_rejection_without_a_reason_is_refused(any_database: Database, centre: Centre) -> None:
    booking = book_room(any_database, centre, centre.meeting_id, at(14), at(16))
    with pytest.raises(InvalidInput), any_database.write() as session:
        rooms.reject(
            session, staff_id=centre.staff_id, site_id=centre.site_id, booking_id=booking.id,
            reason=" ", now=at(10),
        )  # fmt: skip


def test_queueing_for_a_free_slot_is_refused(any_database: Database, centre: Centre) -> None:
    with pytest.raises(SlotFree), any_database.write() as session:
        waitlist.join(
            session,
            resident_id=centre.residents[1],
            space_id=centre.dance_id,
            starts_at=at(14),
            ends_at=at(16),
            now=at(9, 30),
        )


def queue(db: Database, c: Centre, who: int) -> int:
    with db.write() as session:
        return waitlist.join(
            session,
            resident_id=c.residents[who],
            space_id=c.dance_id,
            starts_at=at(14),
            ends_at=at(16),
            headcount=4,
            now=at(9, 30),
        ).id


def offered(db: Database, resident_id: int) -> tuple[int, datetime | None] | None:
    """The resident's open waitlist offer: its booking id and when it runs out."""
    with db.read() as session:
        hold = (
            session.query(Booking)
            .filter_by(resident_id=resident_id, status=BookingStatus.HELD)
            .one_or_none()
        )
        return None if hold is None else (hold.id, hold.hold_expires_at)


def test_when_a_slot_frees_the_first_in_line_is_offered_it_for_30_minutes_then_the_next(
    any_database: Database, centre: Centre
) -> None:
    taken = book_room(any_database, centre, centre.dance_id, at(14), at(16))
    queue(any_database, centre, 1)
    queue(any_database, centre, 2)
    with any_database.write() as session:
        releases.cancel(session, resident_id=centre.residents[0], booking_id=taken.id, now=at(10))
    first = offered(any_database, centre.residents[1])
    assert first is not None and first[1] == at(10, 30)
    assert offered(any_database, centre.residents[2]) is None
    booking_jobs.run_due(any_database, now=at(10, 30))
    second = offered(any_database, centre.residents[2])
    assert second is not None and second[1] == at(11)
    with pytest.raises(OfferExpired), any_database.write() as session:
        waitlist.accept(
            session, resident_id=centre.residents[1], booking_id=first[0], now=at(10, 31)
        )
    with any_database.write() as session:
        accepted = waitlist.accept(
            session, resident_id=centre.residents[2], booking_id=second[0], now=at(10, 45)
        )
        assert accepted.status is BookingStatus.CONFIRMED
    with any_database.read() as session:
        assert [
            e.status
            for e in waitlist.queue_of(
                session, resident_id=centre.residents[1], site_id=centre.site_id
            )
        ] == []
    assert NotificationKind.WAITLIST_OFFER in kinds(
        any_database, centre.residents[2], centre.site_id
    )


def test_a_weekly_series_books_every_tuesday_until_its_last_date_except_the_exceptions(
    any_database: Database, centre: Centre
) -> None:
    with any_database.write() as session:
        tai_chi, made = series.create_series(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            space_id=centre.dance_id,
            title="太极拳",
            weekday=1,
            start_time=time(9, 30),
            end_time=time(10, 30),
            starts_on=date(2026, 11, 24),
            ends_on=date(2026, 12, 15),
            skip_dates=(date(2026, 12, 8),),
            now=at(9),
        )
    assert made.created == [date(2026, 11, 24), date(2026, 12, 1), date(2026, 12, 15)]
    with any_database.write() as session:
        again = series.materialise(session, series_id=tai_chi.id, now=at(9, 5))
    assert again.created == []
    with pytest.raises(SlotTaken):
        book_room(any_database, centre, centre.dance_id, at(10), at(11))


def test_an_exception_added_later_cancels_that_occurrence(
    any_database: Database, centre: Centre
) -> None:
    with any_database.write() as session:
        friday, _ = series.create_series(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            space_id=centre.dance_id,
            title="周五服务日",
            weekday=4,
            start_time=time(9),
            end_time=time(17),
            starts_on=date(2026, 11, 27),
            ends_on=date(2026, 12, 25),
            now=at(9),
        )
        series.add_exception(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            series_id=friday.id,
            on_date=date(2026, 11, 27),
            now=at(9),
        )
    with any_database.read() as session:
        that_friday = session.scalars(
            select(Booking.status).where(
                Booking.series_id == friday.id, Booking.occurs_on == date(2026, 11, 27)
            )
        ).one()
    assert that_friday is BookingStatus.CANCELLED
    # The room is free that day again: a resident can book it.
    booking = book_room(any_database, centre, centre.dance_id, at(10, days=3), at(11, days=3))
    assert booking.status is BookingStatus.CONFIRMED


def test_a_closure_blocks_new_bookings_and_tells_each_affected_resident_once(
    any_database: Database, centre: Centre
) -> None:
    book_room(any_database, centre, centre.dance_id, at(14), at(15))
    book_room(any_database, centre, centre.dance_id, at(15), at(16))
    with any_database.write() as session:
        closure = closures.declare_closure(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            space_id=centre.dance_id,
            starts_at=at(12),
            ends_at=at(21),
            reason="地板维修",
            now=at(10),
        )
    assert kinds(any_database, centre.residents[0], centre.site_id) == [NotificationKind.CLOSURE]
    with any_database.read() as session:
        statuses = {b.status for b in session.query(Booking).all()}
        assert statuses == {BookingStatus.CANCELLED}
    with pytest.raises(SpaceClosed) as closed:
        book_room(any_database, centre, centre.dance_id, at(17), at(18), who=1)
    assert closed.value.details["closure_id"] == closure.id


def test_staff_of_another_centre_cannot_approve_a_booking_here(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    from booking_centre import build_centre

    booking = book_room(any_database, centre, centre.meeting_id, at(14), at(16))
    other = build_centre(any_database, clock, slug="second", phones_from=10, staff_name="qian")
    with pytest.raises(NotFound), any_database.write() as session:
        rooms.approve(session, staff_id=other.staff_id, site_id=other.site_id,
                      booking_id=booking.id, now=at(10))  # fmt: skip


def test_a_worker_of_two_centres_decides_a_booking_only_at_its_own_centre(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    """Granted this centre too, a worker of another still decides its bookings only while
    working here: from the other centre's console the booking is not found, nor its series."""
    from booking_centre import build_centre

    from booking.people import staff_sites

    booking = book_room(any_database, centre, centre.meeting_id, at(14), at(16))
    other = build_centre(any_database, clock, slug="second", phones_from=10, staff_name="qian")
    with any_database.write() as session:
        staff_sites.grant_site(
            session, by=None, staff_id=other.staff_id, site_id=centre.site_id, now=at(9)
        )
        weekly, _ = series.create_series(
            session, staff_id=centre.staff_id, site_id=centre.site_id, space_id=centre.dance_id,
            title="太极拳",
            weekday=4, start_time=time(9), end_time=time(10), starts_on=date(2026, 11, 25),
            ends_on=date(2026, 12, 31), now=at(9),
        )  # fmt: skip
    for refused in (
        lambda session: rooms.approve(session, staff_id=other.staff_id, site_id=other.site_id,
                                      booking_id=booking.id, now=at(10)),
        lambda session: rooms.reject(session, staff_id=other.staff_id, site_id=other.site_id,
                                     booking_id=booking.id, reason="满了", now=at(10)),
        lambda session: series.add_exception(session, staff_id=other.staff_id,
                                             site_id=other.site_id, series_id=weekly.id,
                                             on_date=date(2026, 11, 27), now=at(10)),
        lambda session: series.end_series(session, staff_id=other.staff_id,
                                          site_id=other.site_id, series_id=weekly.id,
                                          last_date=date(2026, 12, 4), now=at(10)),
        lambda session: series.create_series(session, staff_id=other.staff_id,
                                             site_id=other.site_id, space_id=centre.dance_id,
                                             title="广场舞", weekday=2, start_time=time(19),
                                             end_time=time(20), starts_on=date(2026, 11, 25),
                                             ends_on=date(2026, 12, 31), now=at(10)),
    ):  # fmt: skip
        with pytest.raises(NotFound), any_database.write() as session:
            refused(session)
    with any_database.write() as session:
        approved = rooms.approve(session, staff_id=other.staff_id, site_id=centre.site_id,
                                 booking_id=booking.id, now=at(10))  # fmt: skip
        assert approved.status is BookingStatus.CONFIRMED
