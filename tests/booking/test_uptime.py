from __future__ import annotations

from datetime import datetime

from booking_centre import Centre, at, keep_alive
from sqlalchemy import event, func, select

from booking.core import uptime
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.outages import Outage
from booking.core.models.sites import Site
from booking.core.models.uptime import Heartbeat, ServicePart
from booking.spaces import jobs as booking_jobs
from booking.spaces import seats
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.strikes import NoShowStrike

WORKER = (ServicePart.WORKER,)
KIOSK = (ServicePart.KIOSK,)


def was_up(database: Database, centre: Centre, start: datetime, end: datetime) -> bool:
    with database.read() as session:
        return uptime.was_up(session, site_id=centre.site_id, starts_at=start, ends_at=end)


def book_seat_at_ten(database: Database, centre: Centre, clock: FrozenClock) -> int:
    with database.write() as session:
        return seats.book_seat(
            session,
            resident_id=centre.residents[0],
            seat_id=centre.seats[0],
            starts_at=at(10),
            ends_at=at(11),
            now=clock.now(),
        ).id


def strikes_and_status(database: Database, booking_id: int) -> tuple[int, BookingStatus]:
    with database.read() as session:
        return (
            len(session.query(NoShowStrike).all()),
            session.get_one(Booking, booking_id).status,
        )


def test_a_gap_between_heartbeats_longer_than_three_minutes_is_recorded_as_an_outage(
    any_database: Database, centre: Centre
) -> None:
    keep_alive(any_database, centre.site_id, at(9), at(9, 10), parts=WORKER)
    keep_alive(any_database, centre.site_id, at(10), at(10, 5), parts=WORKER)
    with any_database.read() as session:
        assert [(o.part, o.started_at, o.ended_at) for o in session.query(Outage).all()] == [
            (ServicePart.WORKER, at(9, 10), at(10))
        ]
        assert uptime.was_up(
            session, site_id=centre.site_id, starts_at=at(9), ends_at=at(9, 10), parts=WORKER
        )
        assert not uptime.was_up(
            session, site_id=centre.site_id, starts_at=at(9, 5), ends_at=at(9, 30), parts=WORKER
        )


def test_the_worker_beats_for_every_centre_at_once_in_as_many_statements_for_four_as_for_one(
    any_database: Database, centre: Centre
) -> None:
    """It beats for every centre of the deployment each minute: a read and a write a centre
    were two hundred statements a minute for a district of a hundred."""
    with any_database.write() as session:
        others = [Site(slug=f"beat-{n}", name_zh="另一站", name_en="Another") for n in range(3)]
        session.add_all(others)
        session.flush()
        every = [centre.site_id, *(other.id for other in others)]
        uptime.record_heartbeat(session, site_id=centre.site_id, now=at(9))
    sent: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.split()[0].upper() != "BEGIN":  # SQLite's, sent as a statement
            sent.append(statement.split()[0].upper())

    event.listen(any_database.engine, "before_cursor_execute", note)
    try:
        with any_database.write() as session:
            first = uptime.record_heartbeats(session, site_ids=every, now=at(10))
            beats = len(sent)
            again = uptime.record_heartbeats(session, site_ids=every, now=at(10, 1))
            beats_again = len(sent) - beats
    finally:
        event.remove(any_database.engine, "before_cursor_execute", note)
    # Only the centre that beat before had a gap: an outage of its own, from 9 to 10.
    assert [(o.site_id, o.started_at, o.ended_at) for o in first] == [
        (centre.site_id, at(9), at(10))
    ]
    assert again == []
    with any_database.read() as session:
        assert session.scalars(select(func.count()).select_from(Heartbeat)).one() == 4
    # Read, the three new beats, the one moved on, its outage; then read and move four on.
    assert beats <= 4 and beats_again == 2


def test_nothing_before_the_first_heartbeat_counts_as_up(
    any_database: Database, centre: Centre
) -> None:
    keep_alive(any_database, centre.site_id, at(10), at(10, 30))
    assert not was_up(any_database, centre, at(9, 45), at(10, 15))
    assert was_up(any_database, centre, at(10), at(10, 30))


def test_the_kiosk_was_down_while_its_screen_could_not_reach_the_server_though_the_worker_ran(
    any_database: Database, centre: Centre
) -> None:
    keep_alive(any_database, centre.site_id, at(9), at(11), parts=WORKER)
    # The web process stopped at 9:40 and was started again at 10:20.
    keep_alive(any_database, centre.site_id, at(9), at(9, 40), parts=KIOSK)
    keep_alive(any_database, centre.site_id, at(10, 20), at(11), parts=KIOSK)

    assert not was_up(any_database, centre, at(9, 45), at(10, 15))
    assert was_up(any_database, centre, at(9), at(9, 40))
    assert was_up(any_database, centre, at(10, 20), at(11))


def test_the_kiosk_was_down_while_the_worker_was_down_though_the_screen_reached_the_web(
    any_database: Database, centre: Centre
) -> None:
    keep_alive(any_database, centre.site_id, at(9), at(11), parts=KIOSK)
    keep_alive(any_database, centre.site_id, at(9), at(9, 40), parts=WORKER)
    keep_alive(any_database, centre.site_id, at(10, 20), at(11), parts=WORKER)

    assert not was_up(any_database, centre, at(9, 45), at(10, 15))


def test_a_screen_that_never_reached_the_server_means_the_kiosk_was_never_up(
    any_database: Database, centre: Centre
) -> None:
    keep_alive(any_database, centre.site_id, at(9), at(11), parts=WORKER)
    assert not was_up(any_database, centre, at(9, 45), at(10, 15))


def test_a_database_outage_the_web_saw_counts_even_when_shorter_than_the_heartbeat_gap(
    any_database: Database, centre: Centre
) -> None:
    keep_alive(any_database, centre.site_id, at(9), at(11))
    with any_database.write() as session:
        uptime.record_outage(
            session,
            site_id=centre.site_id,
            part=ServicePart.DATABASE,
            started_at=at(10),
            ended_at=at(10, 2),
        )
    assert not was_up(any_database, centre, at(9, 45), at(10, 15))
    assert was_up(any_database, centre, at(10, 2), at(10, 30))


def test_no_strike_when_the_kiosk_screen_could_not_reach_the_server_in_the_check_in_window(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_seat_at_ten(any_database, centre, clock)
    keep_alive(any_database, centre.site_id, at(9), at(10, 40), parts=WORKER)
    keep_alive(any_database, centre.site_id, at(9), at(9, 50), parts=KIOSK)
    # The kiosk's page reaches the server again at 10:30; the gap becomes a kiosk outage.
    keep_alive(any_database, centre.site_id, at(10, 30), at(10, 40), parts=KIOSK)

    booking_jobs.run_due(any_database, now=at(10, 40))

    assert strikes_and_status(any_database, booking_id) == (0, BookingStatus.NO_SHOW)


def test_a_strike_when_every_part_of_the_kiosk_was_up_through_the_check_in_window(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_seat_at_ten(any_database, centre, clock)
    keep_alive(any_database, centre.site_id, at(9), at(10, 40))

    booking_jobs.run_due(any_database, now=at(10, 40))

    assert strikes_and_status(any_database, booking_id) == (1, BookingStatus.NO_SHOW)
