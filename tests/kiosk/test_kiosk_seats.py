"""Study seats at the kiosk: the map, booking a tapped seat, the waiting list, sitting down now."""

from __future__ import annotations

import pytest
from flask import Flask

from booking.spaces.models.bookings import BookingStatus
from tests.kiosk.booking_helpers import (
    TODAY,
    TOMORROW,
    book_seat,
    bookings,
    page,
    post,
    seat_id,
    seat_state,
)
from tests.kiosk.conftest import KioskActions, alert_of


def test_the_study_tile_leads_to_the_seat_map(kiosk: KioskActions) -> None:
    response = kiosk.client.get("/kiosk/services/study")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/kiosk/seats")


def test_the_seat_map_shows_all_24_seats_free_with_their_features_in_words(
    kiosk: KioskActions,
) -> None:
    text = page(kiosk, "/kiosk/seats")
    assert text.count('class="seat seat-free"') == 24
    assert "24 个座位空闲" in text
    for word in ("电源", "靠窗", "安静区"):
        assert word in text
    assert 'class="seat-cell row-0 col-0"' in text  # seat 1 at the top left of the room


def test_the_seat_map_offers_today_and_tomorrow_and_half_hours_from_now(
    kiosk: KioskActions,
) -> None:
    text = page(kiosk, "/kiosk/seats")
    assert f"day={TODAY}" in text and f"day={TOMORROW}" in text
    assert "day=2026-11-26" not in text
    assert "start=09:30" in text  # the slot under way may still be booked
    assert "start=09:00" not in text
    assert "start=20:30" in text and "start=21:00" not in text


def test_a_booked_seat_shows_as_taken_in_words_on_the_map(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    assert book_seat(kiosk, app, 5).status_code == 302
    kiosk.sign_out()
    text = page(kiosk, f"/kiosk/seats?day={TODAY}&start=10:00&minutes=60")
    assert seat_state(text, 5) == "taken"
    assert "已约" in text
    assert seat_state(text, 6) == "free"
    # Outside the booking's time the seat is free again.
    assert seat_state(page(kiosk, f"/kiosk/seats?day={TODAY}&start=12:00&minutes=60"), 5) == "free"


def test_your_own_seat_shows_as_yours(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    book_seat(kiosk, app, 5)
    assert seat_state(page(kiosk, f"/kiosk/seats?day={TODAY}&start=10:00&minutes=60"), 5) == "mine"


def test_tapping_a_seat_while_signed_out_asks_to_sign_in_and_comes_back(
    kiosk: KioskActions, app: Flask
) -> None:
    seat_page = f"/kiosk/seats/{seat_id(app, 5)}?day={TODAY}&start=10:00&minutes=120"
    response = kiosk.client.get(seat_page)
    assert response.status_code == 302
    assert "/kiosk/sign-in?next=" in response.headers["Location"]
    form = kiosk.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/kiosk/seats/' in form
    signed_in = kiosk.client.post(
        "/kiosk/sign-in",
        data={
            "phone": "13800000001",
            "pin": "275139",
            "next": seat_page,
            "csrf_token": kiosk.csrf_token(),
        },
    )
    assert signed_in.headers["Location"] == seat_page
    assert "预约这个座位" in page(kiosk, seat_page)


def test_booking_a_seat_while_signed_out_books_nothing_and_asks_to_sign_in(
    kiosk: KioskActions, app: Flask
) -> None:
    response = book_seat(kiosk, app, 5)
    assert response.status_code == 302
    assert response.headers["Location"] == "/kiosk/sign-in?next=/kiosk/seats"
    assert bookings(app) == []


def test_booking_a_free_seat_shows_the_slip(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    response = book_seat(kiosk, app, 5, start="10:00", minutes=120)
    [booking] = bookings(app)
    assert booking.status is BookingStatus.CONFIRMED
    assert response.headers["Location"] == f"/kiosk/bookings/{booking.id}"
    slip = page(kiosk, response.headers["Location"])
    assert "座位已预约" in slip
    assert "自习室，5号座" in slip
    assert "10:00–12:00" in slip


def test_a_seat_taken_meanwhile_is_refused_plainly_and_the_form_stays(
    kiosk: KioskActions, app: Flask
) -> None:
    kiosk.sign_in("13800000002", "386204")
    book_seat(kiosk, app, 5)
    kiosk.sign_out()
    kiosk.sign_in()
    response = book_seat(kiosk, app, 5, start="11:00", minutes=60)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "别人刚刚约走了这个时间" in alert_of(text)
    assert 'name="start" value="11:00"' in text
    assert 'name="minutes" value="60"' in text
    assert len(bookings(app)) == 1


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"day": "2026-11-26", "start": "10:00", "minutes": "60"}, 422, "还不能预约"),
        ({"day": TODAY, "start": "08:00", "minutes": "60"}, 422, "还不能预约"),
        ({"day": TODAY, "start": "10:15", "minutes": "60"}, 422, "整点或半点"),
        ({"day": TODAY, "start": "10:00", "minutes": "300"}, 422, "超过了一次预约"),
        ({"day": TODAY, "start": "20:00", "minutes": "120"}, 422, "不开放"),
        ({"day": "tomorrow", "start": "10:00", "minutes": "60"}, 422, "请检查"),
        ({"day": TODAY, "start": "ten", "minutes": "60"}, 422, "请检查"),
        ({"day": TODAY, "start": "10:00", "minutes": "-30"}, 422, "请检查"),
    ],
)
def test_a_refused_seat_booking_says_why_and_books_nothing(
    kiosk: KioskActions, app: Flask, fields: dict[str, str], status: int, words: str
) -> None:
    kiosk.sign_in()
    response = post(kiosk, "/kiosk/seats/book", seat_id=seat_id(app, 5), **fields)
    assert response.status_code == status
    assert words in alert_of(response.get_data(as_text=True))
    assert bookings(app) == []


def test_a_second_seat_at_the_same_time_is_refused(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    book_seat(kiosk, app, 5)
    response = book_seat(kiosk, app, 6)
    assert response.status_code == 409
    assert "您在这个时间已经有座位了" in alert_of(response.get_data(as_text=True))


def test_more_than_the_daily_seat_time_is_refused_with_the_minutes_left(
    kiosk: KioskActions, app: Flask
) -> None:
    kiosk.sign_in()
    book_seat(kiosk, app, 5, start="10:00", minutes=240)
    book_seat(kiosk, app, 5, start="14:00", minutes=210)
    response = book_seat(kiosk, app, 5, start="18:00", minutes=60)
    assert response.status_code == 409
    assert "还剩 30 分钟" in alert_of(response.get_data(as_text=True))


def test_an_unknown_seat_is_not_found(kiosk: KioskActions) -> None:
    kiosk.sign_in()
    response = post(
        kiosk, "/kiosk/seats/book", seat_id=999999, day=TODAY, start="10:00", minutes=60
    )
    assert response.status_code == 404


def test_a_missing_seat_is_bad_input_shown_on_the_map(kiosk: KioskActions) -> None:
    kiosk.sign_in()
    response = post(kiosk, "/kiosk/seats/book", seat_id="five", day=TODAY, start="10:00")
    assert response.status_code == 422
    assert "请检查" in alert_of(response.get_data(as_text=True))


def test_a_taken_seat_offers_the_waiting_list_and_joining_it_is_confirmed(
    kiosk: KioskActions, app: Flask
) -> None:
    kiosk.sign_in("13800000002", "386204")
    book_seat(kiosk, app, 5)
    kiosk.sign_out()
    kiosk.sign_in()
    seat_page = page(kiosk, f"/kiosk/seats/{seat_id(app, 5)}?day={TODAY}&start=10:00&minutes=120")
    assert "这个时间已被预约" in seat_page
    assert "加入候补名单" in seat_page
    response = post(
        kiosk,
        "/kiosk/seats/waitlist",
        seat_id=seat_id(app, 5),
        day=TODAY,
        start="10:00",
        minutes=120,
    )
    assert response.headers["Location"].endswith("/kiosk/bookings")
    mine = page(kiosk, "/kiosk/bookings")
    assert "您已在候补名单上" in mine
    assert "等待空出" in mine


def test_queueing_for_a_free_seat_says_to_book_it_instead(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    response = post(
        kiosk,
        "/kiosk/seats/waitlist",
        seat_id=seat_id(app, 5),
        day=TODAY,
        start="10:00",
        minutes=60,
    )
    assert response.status_code == 409
    assert "不用排队" in alert_of(response.get_data(as_text=True))


def test_sit_down_now_takes_a_free_seat_checked_in(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    response = post(kiosk, "/kiosk/seats/sit-now")
    [booking] = bookings(app)
    assert booking.status is BookingStatus.CHECKED_IN
    assert booking.walk_in
    assert response.headers["Location"] == f"/kiosk/bookings/{booking.id}"
    assert "已签到" in page(kiosk, response.headers["Location"])


def test_sit_down_now_on_a_chosen_seat_takes_that_seat(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    post(kiosk, "/kiosk/seats/sit-now", seat_id=seat_id(app, 7))
    [booking] = bookings(app)
    assert booking.seat_id == seat_id(app, 7)


def test_sit_down_now_after_closing_says_the_room_is_shut(
    kiosk: KioskActions, app: Flask, clock: object
) -> None:
    from datetime import timedelta

    from booking.core.clock import FrozenClock

    assert isinstance(clock, FrozenClock)
    kiosk.sign_in()
    clock.advance(timedelta(hours=12))  # 21:30 in Shanghai
    kiosk.sign_in()
    response = post(kiosk, "/kiosk/seats/sit-now")
    assert response.status_code == 422
    assert "不开放" in alert_of(response.get_data(as_text=True))
    assert bookings(app) == []


def test_the_seat_pages_are_sent_with_no_store(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    for path in ("/kiosk/seats", f"/kiosk/seats/{seat_id(app, 1)}"):
        assert kiosk.client.get(path).headers["Cache-Control"] == "no-store"


def test_the_seat_pages_speak_english_when_asked(kiosk: KioskActions, app: Flask) -> None:
    kiosk.client.post(
        "/kiosk/language",
        data={"locale": "en", "next": "/kiosk/seats", "csrf_token": kiosk.csrf_token()},
    )
    kiosk.sign_in()
    text = page(kiosk, "/kiosk/seats")
    assert "24 seats free" in text
    assert "Today, Tue, Nov 24" in text
    assert "Quiet zone" in text
    response = book_seat(kiosk, app, 5)
    slip = page(kiosk, response.headers["Location"])
    assert "Study room, seat 5" in slip
    assert "Your seat is booked." in slip


def test_a_seat_free_now_can_be_sat_on_from_its_page(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    now_page = page(kiosk, f"/kiosk/seats/{seat_id(app, 7)}?day={TODAY}&start=09:30")
    assert "现在就坐这里" in now_page
    later_page = page(kiosk, f"/kiosk/seats/{seat_id(app, 7)}?day={TODAY}&start=11:00")
    assert "现在就坐这里" not in later_page
