"""``availability.seat_states`` on the API's read connection, read as one JSON row: the same
answer as through an ORM session, plain bools, by number, and an empty room told from a
missing one."""

from __future__ import annotations

from booking_centre import Centre, at
from sqlalchemy import delete

from booking.core.db import Database
from booking.spaces import availability
from booking.spaces.models.seats import Seat


def test_seat_states_on_a_read_connection_match_those_through_a_session(
    any_database: Database, centre: Centre
) -> None:
    period = {"site_id": centre.site_id, "space_id": centre.study_id}
    with any_database.read() as session:
        through_session = availability.seat_states(
            session, **period, starts_at=at(10), ends_at=at(12)
        )
    with any_database.read_connection() as connection:
        on_connection = availability.seat_states(
            connection, **period, starts_at=at(10), ends_at=at(12)
        )

    assert on_connection == through_session
    assert [state.number for state in on_connection] == [1, 2, 3, 4]
    for state in on_connection:
        assert all(
            type(flag) is bool
            for flag in (state.has_power, state.by_window, state.quiet_zone, state.free)
        )


def test_a_study_room_without_seats_has_no_seat_states(
    any_database: Database, centre: Centre
) -> None:
    with any_database.write() as session:
        session.execute(delete(Seat).where(Seat.space_id == centre.study_id))

    with any_database.read_connection() as connection:
        states = availability.seat_states(
            connection,
            site_id=centre.site_id,
            space_id=centre.study_id,
            starts_at=at(10),
            ends_at=at(11),
        )

    assert states == []
