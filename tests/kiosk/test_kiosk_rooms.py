"""Activity rooms at the kiosk: the day's timeline, booking for a group, approval, the queue."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from booking.core.clock import FrozenClock
from booking.people.models.staff import StaffAccount
from booking.spaces import closures, rooms
from booking.spaces.models.bookings import BookingStatus
from kiosk.extensions import database
from tests.booking.booking_centre import at
from tests.kiosk.booking_helpers import TODAY, bookings, page, post, room_id
from tests.kiosk.conftest import KioskActions, alert_of


def slot_state(text: str, room: int, start: str) -> str:
    match = re.search(rf'data-room="{room}" data-start="{start}" data-state="(\w+)"', text)
    assert match, f"no {start} slot for room {room}"
    return match.group(1)


def book_room(
    kiosk: KioskActions,
    room: int,
    start: str = "14:00",
    minutes: int = 60,
    headcount: int | str = 6,
    day: str = TODAY,
    **extra: str,
) -> TestResponse:
    return post(
        kiosk,
        f"/kiosk/rooms/{room}/book",
        day=day,
        start=start,
        minutes=minutes,
        headcount=headcount,
        **extra,
    )


def staff_id(app: Flask) -> int:
    from sqlalchemy import select

    with app.app_context(), database().read() as session:
        found = session.scalar(select(StaffAccount.id).where(StaffAccount.username == "zhao"))
        assert found is not None
        return found


def test_the_rooms_tile_leads_to_the_timeline(kiosk: KioskActions) -> None:
    response = kiosk.client.get("/kiosk/services/rooms")
    assert response.headers["Location"].endswith("/kiosk/rooms")


def test_the_timeline_shows_every_room_with_capacity_and_approval(
    kiosk: KioskActions, app: Flask
) -> None:
    text = page(kiosk, "/kiosk/rooms")
    for name in ("舞蹈室", "乒乓球室", "书画室", "协商议事室"):
        assert name in text
    assert "最多 20 人" in text
    assert text.count("需审批") == 1
    dance = room_id(app, "dance")
    assert slot_state(text, dance, "09:00") == "past"
    assert slot_state(text, dance, "09:30") == "free"
    assert slot_state(text, dance, "20:30") == "free"


def test_the_timeline_offers_two_weeks_of_days(kiosk: KioskActions) -> None:
    text = page(kiosk, "/kiosk/rooms")
    assert "day=2026-12-07" in text
    assert "day=2026-12-08" not in text


def test_a_booked_time_shows_as_taken(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    dance = room_id(app, "dance")
    book_room(kiosk, dance, start="14:00", minutes=90)
    text = page(kiosk, f"/kiosk/rooms?day={TODAY}")
    assert [slot_state(text, dance, t) for t in ("13:30", "14:00", "15:00", "15:30")] == [
        "free",
        "taken",
        "taken",
        "free",
    ]


def test_a_closure_shows_on_the_timeline_as_closed(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    dance = room_id(app, "dance")
    with app.app_context(), database().write() as session:
        closures.declare_closure(
            session,
            staff_id=staff_id(app),
            site_id=1,
            space_id=dance,
            starts_at=at(12),
            ends_at=at(14),
            reason="地板打蜡",
            now=clock.now(),
        )
    text = page(kiosk, f"/kiosk/rooms?day={TODAY}")
    assert slot_state(text, dance, "12:00") == "closed"
    assert slot_state(text, dance, "14:00") == "free"
    assert "关闭" in text


def test_booking_a_room_for_a_group_shows_the_slip(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    dance = room_id(app, "dance")
    form = page(kiosk, f"/kiosk/rooms/{dance}/book?day={TODAY}&start=14:00")
    assert "预约这个房间" in form
    response = book_room(kiosk, dance, headcount=12, purpose="exercise", details="广场舞排练")
    [booking] = bookings(app)
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.headcount == 12
    assert booking.purpose == "跳舞或锻炼: 广场舞排练"
    slip = page(kiosk, response.headers["Location"])
    assert "房间已预约好了" in slip
    assert "12 人" in slip


def test_the_meeting_room_waits_for_approval_and_then_shows_approved(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    kiosk.sign_in()
    meeting = room_id(app, "meeting")
    form = page(kiosk, f"/kiosk/rooms/{meeting}/book?day={TODAY}&start=14:00")
    assert "提交预约申请" in form
    book_room(kiosk, meeting, headcount=8, purpose="meeting")
    [booking] = bookings(app)
    assert booking.status is BookingStatus.PENDING
    assert "等待工作人员审批" in page(kiosk, "/kiosk/bookings")

    with app.app_context(), database().write() as session:
        rooms.approve(session, staff_id=staff_id(app), site_id=booking.site_id,
                      booking_id=booking.id, now=clock.now())  # fmt: skip
    mine = page(kiosk, "/kiosk/bookings")
    assert "已批准：您预约的协商议事室" in mine
    assert "已预约" in mine


def test_a_rejected_request_shows_the_staffs_reason(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    kiosk.sign_in()
    meeting = room_id(app, "meeting")
    book_room(kiosk, meeting, headcount=8, purpose="meeting")
    [booking] = bookings(app)
    with app.app_context(), database().write() as session:
        rooms.reject(
            session,
            staff_id=staff_id(app),
            site_id=booking.site_id,
            booking_id=booking.id,
            reason="那天有街道会议",
            now=clock.now(),
        )
    mine = page(kiosk, "/kiosk/bookings")
    assert "未获批准" in mine
    assert "那天有街道会议" in mine


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"headcount": "21"}, 422, "最多容纳 20 人"),
        ({"headcount": "0"}, 422, "请点选会来几个人"),
        ({"headcount": ""}, 422, "请点选会来几个人"),
        ({"headcount": "many"}, 422, "请点选会来几个人"),
        ({"start": "20:30", "minutes": "60"}, 422, "不开放"),
        ({"purpose": "party"}, 422, "请检查"),
        ({"details": "字" * 300}, 422, "请检查"),
        ({"day": "2026-12-31"}, 422, "还不能预约"),
    ],
)
def test_a_refused_room_booking_says_why_keeps_the_form_and_books_nothing(
    kiosk: KioskActions, app: Flask, fields: dict[str, str], status: int, words: str
) -> None:
    kiosk.sign_in()
    values = {"day": TODAY, "start": "14:00", "minutes": "60", "headcount": "6"} | fields
    response = post(kiosk, f"/kiosk/rooms/{room_id(app, 'dance')}/book", **values)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert words in alert_of(text)
    assert bookings(app) == []


def test_the_refused_form_keeps_what_was_chosen(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    response = book_room(
        kiosk, room_id(app, "dance"), headcount=25, purpose="family", details="寿宴"
    )
    text = response.get_data(as_text=True)
    assert 'value="family" checked' in text
    assert 'value="寿宴"' in text
    assert 'name="minutes" value="60" checked' in text


def test_a_taken_time_offers_the_waiting_list_and_an_offer_can_be_accepted(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    dance = room_id(app, "dance")
    kiosk.sign_in("13800000002", "386204")
    book_room(kiosk, dance)
    kiosk.sign_out()

    kiosk.sign_in()
    form = page(kiosk, f"/kiosk/rooms/{dance}/book?day={TODAY}&start=14:00")
    assert "这个时间已被预约" in form
    assert "加入候补名单" in form
    queued = post(
        kiosk,
        f"/kiosk/rooms/{dance}/waitlist",
        day=TODAY,
        start="14:00",
        minutes=60,
        headcount=4,
    )
    assert queued.headers["Location"].endswith("/kiosk/bookings")
    kiosk.sign_out()

    # The first group cancels: the time is offered to the one waiting.
    kiosk.sign_in("13800000002", "386204")
    [first] = bookings(app)
    post(kiosk, f"/kiosk/bookings/{first.id}/cancel", confirm="yes")
    kiosk.sign_out()

    response = kiosk.sign_in()
    assert response.headers["Location"] == "/kiosk/bookings"  # news first
    mine = page(kiosk, "/kiosk/bookings")
    assert "好消息：您候补的时间空出来了" in mine
    offer = [b for b in bookings(app) if b.status is BookingStatus.HELD][0]
    post(kiosk, f"/kiosk/bookings/{offer.id}/accept")
    accepted = [b for b in bookings(app) if b.id == offer.id][0]
    assert accepted.status is BookingStatus.CONFIRMED
    assert accepted.headcount == 4


def test_a_slot_taken_meanwhile_offers_the_waiting_list(kiosk: KioskActions, app: Flask) -> None:
    dance = room_id(app, "dance")
    kiosk.sign_in("13800000002", "386204")
    book_room(kiosk, dance, start="15:00")
    kiosk.sign_out()
    kiosk.sign_in()
    response = book_room(kiosk, dance, start="14:00", minutes=120)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "别人刚刚约走了这个时间" in alert_of(text)
    assert "加入候补名单" in text


def test_booking_a_room_while_signed_out_asks_to_sign_in(kiosk: KioskActions, app: Flask) -> None:
    dance = room_id(app, "dance")
    response = kiosk.client.get(f"/kiosk/rooms/{dance}/book?day={TODAY}&start=14:00")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/kiosk/sign-in?next=/kiosk/rooms/")


def test_an_unknown_room_is_not_found(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    assert kiosk.client.get(f"/kiosk/rooms/99999/book?day={TODAY}").status_code == 404
    # The study room is not an activity room.
    study = room_id(app, "study")
    assert book_room(kiosk, study).status_code == 404
