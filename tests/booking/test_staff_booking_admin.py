"""What staff do to bookings beyond approving them: lift a suspension, end a series, and
the read models behind the calendar and the availability API."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from booking_centre import Centre, at, book_room, declare_closure

from booking.core.db import Database
from booking.core.errors import InvalidInput, NotFound, ResidentSuspended, SuspensionNotActive
from booking.spaces import availability, schedule, seats, series, strikes
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension


def suspend(db: Database, c: Centre, who: int = 0, days: int = 7) -> int:
    with db.write() as session:
        row = BookingSuspension(
            site_id=c.site_id,
            resident_id=c.residents[who],
            starts_at=at(9),
            ends_at=at(9, days=days),
        )
        session.add(row)
        session.flush()
        return row.id


def book_seat(db: Database, c: Centre, start_hour: int, seat: int = 0, who: int = 0) -> int:
    with db.write() as session:
        return seats.book_seat(
            session,
            resident_id=c.residents[who],
            seat_id=c.seats[seat],
            starts_at=at(start_hour),
            ends_at=at(start_hour + 1),
            now=at(9, 30),
        ).id


def lift(db: Database, c: Centre, suspension_id: int, reason: str = "kiosk was broken") -> None:
    with db.write() as session:
        strikes.lift_suspension(
            session, staff_id=c.staff_id, site_id=c.site_id, suspension_id=suspension_id,
            reason=reason, now=at(9, 30),
        )  # fmt: skip


def test_lifting_a_suspension_lets_the_resident_book_seats_again(
    any_database: Database, centre: Centre
) -> None:
    suspension_id = suspend(any_database, centre)
    with pytest.raises(ResidentSuspended):
        book_seat(any_database, centre, 10)
    lift(any_database, centre, suspension_id)
    book_seat(any_database, centre, 10)
    with any_database.read() as session:
        row = session.get_one(BookingSuspension, suspension_id)
        assert (row.lifted_at, row.lifted_by_staff_id) == (at(9, 30), centre.staff_id)
        assert row.lift_reason == "kiosk was broken"
        assert row.ends_at == at(9, days=7)  # the end it would have had is kept


@pytest.mark.parametrize("reason", ["", "   ", "x" * 301])
def test_lifting_a_suspension_needs_a_reason(
    any_database: Database, centre: Centre, reason: str
) -> None:
    suspension_id = suspend(any_database, centre)
    with pytest.raises(InvalidInput):
        lift(any_database, centre, suspension_id, reason=reason)
    with any_database.read() as session:
        assert session.get_one(BookingSuspension, suspension_id).lifted_at is None


def test_a_suspension_lifted_or_over_cannot_be_lifted_again(
    any_database: Database, centre: Centre
) -> None:
    suspension_id = suspend(any_database, centre)
    lift(any_database, centre, suspension_id)
    with pytest.raises(SuspensionNotActive):
        lift(any_database, centre, suspension_id)
    over = suspend(any_database, centre, who=1, days=0)  # ended as it began
    with pytest.raises(SuspensionNotActive):
        lift(any_database, centre, over)


def test_staff_of_another_centre_cannot_lift_a_suspension_here(
    any_database: Database, centre: Centre, clock: object
) -> None:
    from booking_centre import build_centre

    other = build_centre(any_database, clock, slug="other", phones_from=50, staff_name="qian")  # type: ignore[arg-type]
    suspension_id = suspend(any_database, centre)
    with any_database.write() as session, pytest.raises(NotFound):
        strikes.lift_suspension(
            session, staff_id=other.staff_id, site_id=other.site_id,
            suspension_id=suspension_id, reason="x", now=at(10),
        )  # fmt: skip


def test_a_worker_of_both_centres_lifts_a_suspension_only_while_working_at_its_centre(
    any_database: Database, centre: Centre, clock: object
) -> None:
    from booking_centre import build_centre

    from booking.people import staff_sites

    other = build_centre(any_database, clock, slug="other", phones_from=50, staff_name="qian")  # type: ignore[arg-type]
    with any_database.write() as session:
        staff_sites.grant_site(
            session, by=None, staff_id=other.staff_id, site_id=centre.site_id, now=at(9)
        )
    suspension_id = suspend(any_database, centre)
    with any_database.write() as session, pytest.raises(NotFound):
        strikes.lift_suspension(
            session, staff_id=other.staff_id, site_id=other.site_id,
            suspension_id=suspension_id, reason="x", now=at(10),
        )  # fmt: skip
    with any_database.write() as session:
        lifted = strikes.lift_suspension(
            session, staff_id=other.staff_id, site_id=centre.site_id,
            suspension_id=suspension_id, reason="kiosk was broken", now=at(10),
        )  # fmt: skip
        assert lifted.lifted_by_staff_id == other.staff_id


def test_current_suspensions_list_only_those_in_force_with_their_residents(
    any_database: Database, centre: Centre
) -> None:
    in_force = suspend(any_database, centre, who=0)
    lifted = suspend(any_database, centre, who=1)
    lift(any_database, centre, lifted)
    with any_database.read() as session:
        listed = strikes.current_suspensions(session, site_id=centre.site_id, now=at(9, 30))
        assert [(s.id, r.name) for s, r in listed] == [(in_force, "王秀英")]


def test_recent_strikes_list_newest_first_with_resident_and_booking(
    any_database: Database, centre: Centre
) -> None:
    first = book_seat(any_database, centre, 10, seat=0, who=0)
    second = book_seat(any_database, centre, 11, seat=1, who=1)
    with any_database.write() as session:
        for booking_id, minute in ((first, 15), (second, 20)):
            session.add(
                NoShowStrike(
                    site_id=centre.site_id,
                    resident_id=session.get_one(Booking, booking_id).resident_id,
                    booking_id=booking_id,
                    given_at=at(11, minute),
                )
            )
    with any_database.read() as session:
        listed = strikes.recent_strikes(session, site_id=centre.site_id, since=at(0))
        assert [(r.name, b.id) for _, r, b in listed] == [("李建国", second), ("王秀英", first)]
        assert strikes.recent_strikes(session, site_id=centre.site_id, since=at(12)) == []


def make_tai_chi(db: Database, c: Centre, starts_on: date = date(2026, 11, 24)) -> int:
    with db.write() as session:
        made, _ = series.create_series(
            session,
            staff_id=c.staff_id,
            site_id=c.site_id,
            space_id=c.dance_id,
            title="太极拳",
            weekday=1,
            start_time=time(10),
            end_time=time(11),
            starts_on=starts_on,
            ends_on=date(2026, 12, 22),
            now=at(9),
        )
        return made.id


def series_statuses(db: Database, series_id: int) -> dict[date, BookingStatus]:
    with db.read() as session:
        found = session.query(Booking).filter(Booking.series_id == series_id).all()
        return {b.occurs_on: b.status for b in found if b.occurs_on is not None}


def test_ending_a_series_cancels_its_later_meetings_and_frees_the_room(
    any_database: Database, centre: Centre
) -> None:
    series_id = make_tai_chi(any_database, centre)
    with any_database.write() as session:
        ended = series.end_series(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            series_id=series_id,
            last_date=date(2026, 11, 24),
            now=at(9, 30),
        )
        assert ended.ends_on == date(2026, 11, 24)
    statuses = series_statuses(any_database, series_id)
    assert statuses[date(2026, 11, 24)] is BookingStatus.CONFIRMED
    assert statuses[date(2026, 12, 1)] is BookingStatus.CANCELLED
    assert statuses[date(2026, 12, 8)] is BookingStatus.CANCELLED
    book_room(any_database, centre, centre.dance_id, at(10, days=7), at(11, days=7), headcount=3)


def test_ending_a_series_before_it_begins_leaves_it_never_meeting(
    any_database: Database, centre: Centre
) -> None:
    series_id = make_tai_chi(any_database, centre, starts_on=date(2026, 12, 1))
    with any_database.write() as session:
        series.end_series(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            series_id=series_id,
            last_date=date(2026, 11, 24),
            now=at(9, 30),
        )
        series.materialise(session, series_id=series_id, now=at(9, 31))
    statuses = series_statuses(any_database, series_id)
    assert set(statuses.values()) == {BookingStatus.CANCELLED}


def test_ending_a_series_on_or_after_its_last_date_is_refused(
    any_database: Database, centre: Centre
) -> None:
    series_id = make_tai_chi(any_database, centre)
    with any_database.write() as session, pytest.raises(InvalidInput):
        series.end_series(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            series_id=series_id,
            last_date=date(2026, 12, 22),
            now=at(9, 30),
        )


def test_the_schedule_shows_bookings_with_residents_series_and_closures(
    any_database: Database, centre: Centre
) -> None:
    series_id = make_tai_chi(any_database, centre)
    book_room(any_database, centre, centre.dance_id, at(14), at(15), who=1, headcount=4)
    declare_closure(
        any_database, centre, at(8, days=1), at(21, days=1), "打蜡", space=centre.dance_id
    )
    with any_database.read() as session:
        shown = schedule.space_schedule(
            session,
            site_id=centre.site_id,
            space_id=centre.dance_id,
            first_day=date(2026, 11, 24),
            days=7,
        )
        today = shown.entries_on(date(2026, 11, 24))
        assert [
            (e.series.id if e.series else None, e.resident.name if e.resident else None)
            for e in today
        ] == [(series_id, None), (None, "李建国")]
        assert [c.reason for c in shown.closures_on(date(2026, 11, 25))] == ["打蜡"]
        assert shown.closures_on(date(2026, 11, 24)) == []


def test_the_schedule_of_another_centres_space_is_not_found(
    any_database: Database, centre: Centre
) -> None:
    with any_database.read() as session, pytest.raises(NotFound):
        schedule.space_schedule(
            session, site_id=centre.site_id + 1, space_id=centre.dance_id, first_day=date.today()
        )


def test_seat_states_say_which_seats_are_free_for_the_whole_period(
    any_database: Database, centre: Centre
) -> None:
    book_seat(any_database, centre, 10, seat=1)
    with any_database.read() as session:
        states = availability.seat_states(
            session,
            site_id=centre.site_id,
            space_id=centre.study_id,
            starts_at=at(10, 30),
            ends_at=at(12),
        )
        assert [(s.number, s.free) for s in states] == [
            (1, True),
            (2, False),
            (3, True),
            (4, True),
        ]
        later = availability.seat_states(
            session,
            site_id=centre.site_id,
            space_id=centre.study_id,
            starts_at=at(11),
            ends_at=at(12),
        )
        assert all(s.free for s in later)  # half-open: 10–11 and 11–12 do not overlap


@pytest.mark.parametrize(
    ("start", "end"),
    [(at(12), at(11)), (at(11), at(11)), (at(8), at(8) + timedelta(days=1, minutes=1))],
)
def test_seat_states_refuse_an_empty_backwards_or_too_long_period(
    any_database: Database, centre: Centre, start: object, end: object
) -> None:
    with any_database.read() as session, pytest.raises(InvalidInput):
        availability.seat_states(
            session,
            site_id=centre.site_id,
            space_id=centre.study_id,
            starts_at=start,  # type: ignore[arg-type]
            ends_at=end,  # type: ignore[arg-type]
        )


def test_a_room_day_lists_its_busy_periods_and_opening_hours(
    any_database: Database, centre: Centre
) -> None:
    book_room(any_database, centre, centre.meeting_id, at(14), at(16), headcount=4)
    declare_closure(any_database, centre, at(18), at(12, days=1), "停电检修")  # the whole centre
    with any_database.read() as session:
        day = availability.room_day(
            session, site_id=centre.site_id, space_id=centre.meeting_id, day=date(2026, 11, 24)
        )
        assert (day.opens_at, day.closes_at) == (at(8), at(21))
        assert [(p.starts_at, p.ends_at, p.kind, p.status) for p in day.busy] == [
            (at(14), at(16), "booking", "pending"),
            (at(18), at(0, days=1), "closure", None),
        ]


def test_a_study_room_has_no_room_day_and_a_room_no_seat_states(
    any_database: Database, centre: Centre
) -> None:
    with any_database.read() as session:
        with pytest.raises(NotFound):
            availability.room_day(
                session, site_id=centre.site_id, space_id=centre.study_id, day=date(2026, 11, 24)
            )
        with pytest.raises(NotFound):
            availability.seat_states(
                session,
                site_id=centre.site_id,
                space_id=centre.dance_id,
                starts_at=at(10),
                ends_at=at(11),
            )
