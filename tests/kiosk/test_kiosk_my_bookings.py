"""My bookings at the kiosk: the buttons of a booking, notices, the slip, and the calendar
file's folding (the phone's feed writes it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from flask import Flask
from sqlalchemy import select

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core.clock import FrozenClock
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces import closures
from booking.spaces import jobs as booking_jobs
from booking.spaces.models.bookings import BookingStatus
from booking.spaces.models.suspensions import BookingSuspension
from kiosk import calendar_events
from kiosk.extensions import database
from tests.booking.booking_centre import keep_alive
from tests.kiosk.booking_helpers import book_seat, bookings, page, post, seat_id
from tests.kiosk.conftest import KioskActions, alert_of


def later(kiosk: KioskActions, clock: FrozenClock, minutes: int) -> None:
    """Move the clock on; the resident comes back to the kiosk and signs in again (a
    minute without a tap ends a kiosk session)."""
    clock.advance(timedelta(minutes=minutes))
    kiosk.sign_in()


def only_booking(app: Flask) -> int:
    [booking] = bookings(app)
    return booking.id


def status_of(app: Flask, booking_id: int) -> BookingStatus:
    return next(b.status for b in bookings(app) if b.id == booking_id)


@pytest.fixture
def booked(kiosk: KioskActions, app: Flask) -> int:
    """王秀英 signed in with seat 5 booked today 10:00–12:00 (the clock says 09:30)."""
    kiosk.sign_in()
    book_seat(kiosk, app, 5, start="10:00", minutes=120)
    return only_booking(app)


def test_my_bookings_needs_a_sign_in_and_comes_back_to_it(kiosk: KioskActions) -> None:
    response = kiosk.client.get("/kiosk/bookings")
    assert response.headers["Location"] == "/kiosk/sign-in?next=/kiosk/bookings"


def test_my_bookings_lists_a_booking_with_its_status_in_words(
    kiosk: KioskActions, booked: int
) -> None:
    text = page(kiosk, "/kiosk/bookings")
    assert f'data-booking="{booked}" data-status="confirmed"' in text
    assert "自习室，5号座" in text
    assert "已预约" in text
    assert "请在 09:45 到 10:15 之间到这里签到" in text
    assert "action-cancel" in text
    assert "action-check-in" not in text  # not yet: check-in opens at 09:45


def test_checking_in_within_the_window_is_confirmed(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    later(kiosk, clock, 20)  # 09:50
    assert "action-check-in" in page(kiosk, "/kiosk/bookings")
    response = post(kiosk, f"/kiosk/bookings/{booked}/check-in")
    assert response.headers["Location"] == "/kiosk/bookings"
    assert status_of(app, booked) is BookingStatus.CHECKED_IN
    assert "签到成功" in page(kiosk, "/kiosk/bookings")


def test_checking_in_too_early_says_from_when_and_changes_nothing(
    kiosk: KioskActions, app: Flask, booked: int
) -> None:
    response = post(kiosk, f"/kiosk/bookings/{booked}/check-in")
    assert response.status_code == 409
    assert "09:45 起可以签到" in alert_of(response.get_data(as_text=True))
    assert status_of(app, booked) is BookingStatus.CONFIRMED


def test_checking_in_too_late_says_until_when(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    later(kiosk, clock, 50)  # 10:20
    kiosk.sign_in()
    response = post(kiosk, f"/kiosk/bookings/{booked}/check-in")
    assert response.status_code == 409
    assert "签到时间到 10:15 为止" in alert_of(response.get_data(as_text=True))


def test_checking_in_from_the_slip_comes_back_to_the_slip(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    later(kiosk, clock, 20)
    response = post(kiosk, f"/kiosk/bookings/{booked}/check-in", **{"from": "slip"})
    assert response.headers["Location"] == f"/kiosk/bookings/{booked}"
    assert "已签到" in page(kiosk, response.headers["Location"])


def test_stepping_out_keeps_the_seat_and_coming_back_resumes_it(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    later(kiosk, clock, 40)  # 10:10
    post(kiosk, f"/kiosk/bookings/{booked}/check-in")
    post(kiosk, f"/kiosk/bookings/{booked}/step-out")
    assert status_of(app, booked) is BookingStatus.ON_LEAVE
    text = page(kiosk, "/kiosk/bookings")
    assert "座位为您保留到 10:40" in text
    assert "action-come-back" in text
    later(kiosk, clock, 10)
    post(kiosk, f"/kiosk/bookings/{booked}/come-back")
    assert status_of(app, booked) is BookingStatus.CHECKED_IN


def test_coming_back_too_late_says_the_seat_was_given_back(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    later(kiosk, clock, 40)
    post(kiosk, f"/kiosk/bookings/{booked}/check-in")
    post(kiosk, f"/kiosk/bookings/{booked}/step-out")
    later(kiosk, clock, 31)
    kiosk.sign_in()
    response = post(kiosk, f"/kiosk/bookings/{booked}/come-back")
    assert response.status_code == 409
    assert "您离开的时间太长" in alert_of(response.get_data(as_text=True))


def test_leaving_early_releases_the_rest_of_the_seat(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    later(kiosk, clock, 40)
    post(kiosk, f"/kiosk/bookings/{booked}/check-in")
    later(kiosk, clock, 20)  # 10:30
    post(kiosk, f"/kiosk/bookings/{booked}/leave")
    [booking] = bookings(app)
    assert booking.status is BookingStatus.COMPLETED
    assert booking.ends_at == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
    text = page(kiosk, "/kiosk/seats?day=2026-11-24&start=10:30&minutes=60")
    assert 'data-seat="5" data-state="free"' in text


def test_cancelling_before_the_start_frees_the_seat(
    kiosk: KioskActions, app: Flask, booked: int
) -> None:
    response = post(kiosk, f"/kiosk/bookings/{booked}/cancel", confirm="yes")
    assert response.headers["Location"] == "/kiosk/bookings"
    assert status_of(app, booked) is BookingStatus.CANCELLED
    assert "预约已取消" in page(kiosk, "/kiosk/bookings")


def test_cancelling_after_the_start_is_refused_plainly(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    later(kiosk, clock, 35)
    response = post(kiosk, f"/kiosk/bookings/{booked}/cancel", confirm="yes")
    assert response.status_code == 409
    assert "不能再取消" in alert_of(response.get_data(as_text=True))
    assert status_of(app, booked) is BookingStatus.CONFIRMED


def test_someone_elses_booking_is_not_found(kiosk: KioskActions, app: Flask, booked: int) -> None:
    kiosk.sign_out()
    kiosk.sign_in("13800000002", "386204")
    assert post(kiosk, f"/kiosk/bookings/{booked}/cancel", confirm="yes").status_code == 404
    assert kiosk.client.get(f"/kiosk/bookings/{booked}").status_code == 404
    assert status_of(app, booked) is BookingStatus.CONFIRMED


def test_an_unknown_button_is_not_found(kiosk: KioskActions, booked: int) -> None:
    assert post(kiosk, f"/kiosk/bookings/{booked}/delete").status_code == 404


def test_a_button_pressed_after_the_session_ran_out_asks_to_sign_in_again(
    kiosk: KioskActions, app: Flask, booked: int
) -> None:
    token = kiosk.csrf_token()
    kiosk.sign_out()
    response = kiosk.client.post(
        f"/kiosk/bookings/{booked}/cancel",
        data={"csrf_token": token, "return_to": "/kiosk/bookings"},
    )
    assert response.headers["Location"] == "/kiosk/sign-in?next=/kiosk/bookings"
    assert status_of(app, booked) is BookingStatus.CONFIRMED


def test_the_slip_shows_the_reference_and_a_qr_code(kiosk: KioskActions, booked: int) -> None:
    text = page(kiosk, f"/kiosk/bookings/{booked}")
    reference = f"XINHUA-{booked:06d}"
    assert f'<strong id="slip-reference">{reference}</strong>' in text
    assert f'<svg role="img" aria-label="预约 {reference} 的二维码"' in text
    assert 'class="qr-code"' in text
    # A kiosk is a shared screen: a calendar file downloaded there stayed on it for the next
    # person. The phone's page gives residents their calendar.
    assert "加到我的日历" not in text and ".ics" not in text
    assert "用手机拍下这个二维码" in text


def test_calendar_lines_are_folded_at_75_octets_without_splitting_a_character() -> None:
    event = calendar_events.Event(
        uid="booking-1@x.linli",
        starts_at=datetime(2026, 11, 24, 2, tzinfo=UTC),
        ends_at=datetime(2026, 11, 24, 4, tzinfo=UTC),
        summary="书画室；" * 30,
        location="a,b;c\\d\ne",
    )
    data = calendar_events.calendar(event, stamp=datetime(2026, 11, 24, 1, tzinfo=UTC))
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    [parsed] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(parsed["SUMMARY"]) == "书画室；" * 30
    assert str(parsed["LOCATION"]) == "a,b;c\\d\ne"


def test_a_no_show_is_told_at_the_next_sign_in_and_can_be_marked_read(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    kiosk.sign_out()
    clock.advance(timedelta(minutes=50))  # 10:20: check-in closed at 10:15
    with app.app_context():
        # The kiosk was up all along, so the missed check-in is the resident's (a strike).
        keep_alive(database(), 1, clock.now() - timedelta(hours=1), clock.now())
        with database().write() as session:
            booking_jobs.release_no_show(session, booking_id=booked, now=clock.now())
    assert status_of(app, booked) is BookingStatus.NO_SHOW

    response = kiosk.sign_in()
    assert response.headers["Location"] == "/kiosk/bookings"
    text = page(kiosk, "/kiosk/bookings")
    assert "您没有为自习室，5号座" in text
    assert "爽约（未签到）" in text
    notice = text.split('data-notice="')[1].split('"')[0]
    post(kiosk, f"/kiosk/notifications/{notice}/read")
    text = page(kiosk, "/kiosk/bookings")
    assert "您有新消息" not in text
    assert "已读的消息" in text
    # Read: the next sign-in goes home as usual.
    kiosk.sign_out()
    assert kiosk.sign_in().headers["Location"] == "/kiosk/"


def test_someone_elses_notice_cannot_be_marked_read(kiosk: KioskActions) -> None:
    kiosk.sign_in()
    assert post(kiosk, "/kiosk/notifications/99999/read").status_code == 404


def test_a_suspended_resident_is_told_until_when_and_cannot_book_a_seat(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    until = clock.now() + timedelta(days=7)
    with app.app_context(), database().write() as session:
        resident = session.scalar(select(Resident).where(Resident.phone == "13800000001"))
        assert resident is not None
        session.add(
            BookingSuspension(
                resident_id=resident.id, site_id=1, starts_at=clock.now(), ends_at=until
            )
        )
        notifications.notify(
            session,
            resident_id=resident.id,
            site_id=1,
            kind=NotificationKind.SUSPENDED,
            now=clock.now(),
            detail=until.isoformat(),
        )
    kiosk.sign_in()
    assert "12月1日周二 09:30 之前不能预约自习座位" in page(kiosk, "/kiosk/bookings")
    response = book_seat(kiosk, app, 5)
    assert response.status_code == 403
    assert "12月1日周二 09:30 之前您不能预约自习座位" in alert_of(response.get_data(as_text=True))
    assert bookings(app) == []


def test_a_closure_that_cancels_a_booking_is_told_with_its_reason(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, booked: int
) -> None:
    with app.app_context(), database().write() as session:
        staff = session.scalar(select(StaffAccount.id).where(StaffAccount.username == "zhao"))
        assert staff is not None
        closures.declare_closure(
            session,
            staff_id=staff,
            site_id=1,
            space_id=None,
            starts_at=clock.now() + timedelta(minutes=30),  # from 10:00, as the booking
            ends_at=clock.now() + timedelta(hours=3),
            reason="停电检修",
            now=clock.now(),
        )
    assert status_of(app, booked) is BookingStatus.CANCELLED
    text = page(kiosk, "/kiosk/bookings")
    assert "因场地关闭，您的预约已取消或缩短：自习室，5号座" in text
    assert "停电检修" in text


def test_the_home_page_leads_to_my_bookings_before_and_after_signing_in(
    kiosk: KioskActions,
) -> None:
    # Signed out, the page asks for sign-in first and then opens (test_kiosk_journeys).
    assert 'button-my-bookings" href="/kiosk/bookings"' in kiosk.home()
    kiosk.sign_in()
    assert (
        'class="button button-secondary button-wide button-my-bookings" href="/kiosk/bookings"'
        in (kiosk.home())
    )


def test_leaving_a_waiting_list_takes_the_resident_off_it(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in("13800000002", "386204")
    book_seat(kiosk, app, 5)
    kiosk.sign_out()
    kiosk.sign_in()
    post(
        kiosk,
        "/kiosk/seats/waitlist",
        seat_id=seat_id(app, 5),
        day="2026-11-24",
        start="10:00",
        minutes=120,
    )
    text = page(kiosk, "/kiosk/bookings")
    entry = text.split('data-queue="')[1].split('"')[0]
    post(kiosk, f"/kiosk/waitlist/{entry}/leave")
    text = page(kiosk, "/kiosk/bookings")
    assert "您已退出候补" in text
    assert "data-queue=" not in text


def test_a_declined_offer_is_gone_from_the_list(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in("13800000002", "386204")
    book_seat(kiosk, app, 5)
    kiosk.sign_out()
    kiosk.sign_in()
    post(
        kiosk,
        "/kiosk/seats/waitlist",
        seat_id=seat_id(app, 5),
        day="2026-11-24",
        start="10:00",
        minutes=120,
    )
    kiosk.sign_out()
    kiosk.sign_in("13800000002", "386204")
    [first] = bookings(app)
    post(kiosk, f"/kiosk/bookings/{first.id}/cancel", confirm="yes")
    kiosk.sign_out()
    kiosk.sign_in()
    offer = next(b for b in bookings(app) if b.status is BookingStatus.HELD)
    text = page(kiosk, "/kiosk/bookings")
    assert "为您保留到 10:00" in text  # 30 minutes from 09:30
    post(kiosk, f"/kiosk/bookings/{offer.id}/decline")
    assert status_of(app, offer.id) is BookingStatus.EXPIRED
    assert "您已放弃为您保留的时间" in page(kiosk, "/kiosk/bookings")


@pytest.mark.parametrize(
    "path", ["/kiosk/seats", "/kiosk/rooms", "/kiosk/bookings", "/kiosk/seats/{seat}", "/slip"]
)
def test_the_booking_pages_have_no_inline_script_or_style(
    kiosk: KioskActions, app: Flask, booked: int, path: str
) -> None:
    path = path.replace("{seat}", str(seat_id(app, 3)))
    if path == "/slip":
        path = f"/kiosk/bookings/{booked}"
    response = kiosk.client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    for forbidden in ("<script>", "<style", " style=", " onclick=", "http://", "https://"):
        assert forbidden not in text
