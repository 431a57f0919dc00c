"""A centre with several study rooms: the kiosk asks which room first, then shows its seat map,
and the chosen room rides along in every link and form until the seat is booked."""

from __future__ import annotations

import re
from datetime import time

import pytest
from flask import Flask
from sqlalchemy import select

from booking.core.models.sites import Site
from booking.spaces.models.bookings import BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.extensions import clock, database
from tests.kiosk.booking_helpers import TODAY, bookings, page, post, room_id, seat_state
from tests.kiosk.conftest import KioskActions, alert_of

SECOND_ROOM_SEATS = 4


def add_study_room(
    app: Flask, code: str, name_zh: str, name_en: str, site_id: int | None = None
) -> int:
    """A small study room of 4 seats at the demo centre (or at ``site_id``)."""
    with app.app_context(), database().write() as session:
        if site_id is None:
            site_id = session.scalars(select(Site.id).order_by(Site.id)).first()
            assert site_id is not None
        space = Space(
            site_id=site_id,
            code=code,
            kind=SpaceKind.STUDY,
            name_zh=name_zh,
            name_en=name_en,
            capacity=SECOND_ROOM_SEATS,
        )
        space.seats = [Seat(number=n, map_row=0, map_col=n - 1) for n in range(1, 5)]
        session.add(space)
        session.flush()
        return space.id


def other_site(app: Flask) -> int:
    with app.app_context(), database().write() as session:
        site = Site(
            slug="elsewhere",
            name_zh="别处中心",
            name_en="Elsewhere Centre",
            timezone="Asia/Shanghai",
            opens_at=time(8, 0),
            closes_at=time(21, 0),
        )
        session.add(site)
        session.flush()
        return site.id


def retire(app: Flask, space_id: int) -> None:
    with app.app_context(), database().write() as session:
        session.get_one(Space, space_id).retired_at = clock().now()


def seat_of(app: Flask, space_id: int, number: int) -> int:
    with app.app_context(), database().read() as session:
        found = session.scalar(
            select(Seat.id).where(Seat.space_id == space_id, Seat.number == number)
        )
        assert found is not None
        return found


@pytest.fixture
def second_room(app: Flask, demo: None) -> int:
    return add_study_room(app, "study-2", "自习室二", "Study room 2")


def test_one_study_room_goes_straight_to_its_seat_map(kiosk: KioskActions, app: Flask) -> None:
    text = page(kiosk, "/kiosk/seats")
    assert text.count('class="seat seat-free"') == 24
    assert 'class="room-choice"' not in text
    assert "换一个自习室" not in text  # nothing else to choose
    assert f"room={room_id(app, 'study')}" in text


def test_two_study_rooms_show_a_choice_of_rooms_first(
    kiosk: KioskActions, app: Flask, second_room: int
) -> None:
    text = page(kiosk, "/kiosk/seats")
    assert 'class="seat ' not in text  # no seat map yet
    assert "哪个自习室" in text
    cards = re.findall(r'class="room-choice" data-room="(\d+)"', text)
    assert cards == [str(room_id(app, "study")), str(second_room)]
    # Chinese first, English second, and each room's free seats in words.
    assert text.index("自习室二") < text.index("Study room 2")
    assert "24 个座位中 24 个空闲" in text
    assert "4 个座位中 4 个空闲" in text


def test_the_room_choice_counts_seats_taken_in_the_asked_period(
    kiosk: KioskActions, app: Flask, second_room: int
) -> None:
    kiosk.sign_in()
    booked = post(
        kiosk,
        "/kiosk/seats/book",
        seat_id=seat_of(app, second_room, 2),
        day=TODAY,
        start="10:00",
        minutes=60,
    )
    assert booked.status_code == 302
    text = page(kiosk, f"/kiosk/seats?day={TODAY}&start=10:00&minutes=60")
    assert "4 个座位中 3 个空闲" in text
    assert "24 个座位中 24 个空闲" in text
    # The period asked so far is kept on the way into a room.
    assert f"room={second_room}&amp;day={TODAY}&amp;start=10:00&amp;minutes=60" in text


def test_choosing_the_second_room_shows_its_seats_and_books_in_it(
    kiosk: KioskActions, app: Flask, second_room: int
) -> None:
    text = page(kiosk, f"/kiosk/seats?room={second_room}")
    assert text.count('class="seat seat-free"') == SECOND_ROOM_SEATS
    assert "自习室二" in text
    assert "换一个自习室" in text
    kiosk.sign_in()
    seat = seat_of(app, second_room, 3)
    seat_page = page(kiosk, f"/kiosk/seats/{seat}?day={TODAY}&start=10:00&minutes=60")
    assert f'name="room" value="{second_room}"' in seat_page
    assert f"/kiosk/seats?room={second_room}&amp;day={TODAY}" in seat_page  # back to this map
    response = post(
        kiosk,
        "/kiosk/seats/book",
        seat_id=seat,
        room=second_room,
        day=TODAY,
        start="10:00",
        minutes=60,
    )
    [booking] = bookings(app)
    assert booking.space_id == second_room and booking.seat_id == seat
    assert response.headers["Location"] == f"/kiosk/bookings/{booking.id}"
    assert "自习室二" in page(kiosk, response.headers["Location"])
    # The first room's seat with the same number stays free.
    first_map = page(kiosk, f"/kiosk/seats?room={room_id(app, 'study')}&day={TODAY}&start=10:00")
    assert seat_state(first_map, 3) == "free"


def test_the_chosen_room_survives_the_day_and_time_choice(
    kiosk: KioskActions, second_room: int
) -> None:
    text = page(kiosk, f"/kiosk/seats?room={second_room}&day={TODAY}&start=11:00&minutes=60")
    day_and_time_links = re.findall(r'class="choice[^"]*" href="(/kiosk/seats\?[^"]*)"', text)
    assert len(day_and_time_links) > 3  # the days, start times and lengths
    assert all(f"room={second_room}" in link for link in day_and_time_links)
    assert f'name="room" value="{second_room}"' in text  # sit down now, in this room


def test_sit_down_now_takes_a_seat_in_the_chosen_room(
    kiosk: KioskActions, app: Flask, second_room: int
) -> None:
    kiosk.sign_in()
    response = post(kiosk, "/kiosk/seats/sit-now", room=second_room)
    [booking] = bookings(app)
    assert booking.space_id == second_room
    assert booking.status is BookingStatus.CHECKED_IN
    assert response.headers["Location"] == f"/kiosk/bookings/{booking.id}"


def test_sit_down_now_with_two_rooms_and_none_chosen_asks_which_room(
    kiosk: KioskActions, app: Flask, second_room: int
) -> None:
    kiosk.sign_in()
    response = post(kiosk, "/kiosk/seats/sit-now")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "请先选择自习室" in alert_of(text)
    assert 'class="room-choice"' in text
    assert bookings(app) == []


def test_a_retired_room_is_not_offered_so_the_one_left_goes_straight_to_its_map(
    kiosk: KioskActions, app: Flask, second_room: int
) -> None:
    retire(app, room_id(app, "study"))
    text = page(kiosk, "/kiosk/seats")
    assert text.count('class="seat seat-free"') == SECOND_ROOM_SEATS
    assert 'class="room-choice"' not in text


@pytest.mark.parametrize("kind", ["not a number", "unknown", "retired", "activity", "other site"])
def test_a_bad_room_id_is_refused_plainly_and_changes_nothing(
    kiosk: KioskActions, app: Flask, second_room: int, kind: str
) -> None:
    if kind == "retired":
        bad = str(add_study_room(app, "old-study", "旧自习室", "Old study room"))
        retire(app, int(bad))
    elif kind == "other site":
        bad = str(add_study_room(app, "study", "别处自习室", "Elsewhere study", other_site(app)))
    else:
        bad = {
            "not a number": "two",
            "unknown": "999999",
            "activity": str(room_id(app, "dance")),
        }[kind]
    response = kiosk.client.get(f"/kiosk/seats?room={bad}")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "不能在这里预约" in alert_of(text)
    assert 'class="seat ' not in text
    assert f'data-room="{second_room}"' in text  # the rooms that can be chosen instead
    kiosk.sign_in()
    refused = post(kiosk, "/kiosk/seats/sit-now", room=bad)
    assert refused.status_code == 404
    assert "不能在这里预约" in alert_of(refused.get_data(as_text=True))
    assert bookings(app) == []


def test_a_seat_of_a_retired_room_is_not_found(
    kiosk: KioskActions, app: Flask, second_room: int
) -> None:
    seat = seat_of(app, second_room, 1)
    retire(app, second_room)
    kiosk.sign_in()
    assert kiosk.client.get(f"/kiosk/seats/{seat}?day={TODAY}").status_code == 404
    response = post(kiosk, "/kiosk/seats/book", seat_id=seat, day=TODAY, start="10:00", minutes=60)
    assert response.status_code == 404
    assert bookings(app) == []
