"""Staff acting for a resident at the counter or on the phone: booking a seat or a room and
cancelling, from the resident's page, under the kiosk's rules and with the kiosk's words for
a refusal; the booking and the audit log name the staff member and the resident."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.core import sites
from booking.core.models.audit import AuditEntry
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from booking.spaces.models.suspensions import BookingSuspension
from kiosk.extensions import database
from tests.conftest import StaffActions

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = "2026-11-24"  # the suite's clock: Tuesday 09:30 in Shanghai
STAFF_NAME = "赵敏 (社区工作者)"  # the demo's "zhao", who signs in


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def signed_in(demo: None, staff_auth: StaffActions) -> None:
    assert staff_auth.sign_in().status_code == 302


@pytest.fixture
def wang(app: Flask, demo: None) -> int:
    with app.app_context(), database().read() as session:
        found = session.scalar(select(Resident.id).where(Resident.name == "王秀英"))
        assert found is not None
        return found


def seat_id(app: Flask, number: int) -> int:
    with app.app_context(), database().read() as session:
        found = session.scalar(
            select(Seat.id).join(Space).where(Space.kind == SpaceKind.STUDY, Seat.number == number)
        )
        assert found is not None
        return found


def room_id(app: Flask, code: str) -> int:
    with app.app_context(), database().read() as session:
        found = session.scalar(select(Space.id).where(Space.code == code))
        assert found is not None
        return found


def csrf(client: FlaskClient) -> str:
    page = client.get("/staff/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def book_seat(client: FlaskClient, resident: int, seat: int, start: str, minutes: int) -> object:
    return client.post(
        f"/staff/residents/{resident}/book/seat",
        data={"csrf_token": csrf(client), "seat": seat, "day": TODAY, "start": start,
              "minutes": minutes},
    )  # fmt: skip


def bookings_of(app: Flask, resident: int) -> list[Booking]:
    with app.app_context(), database().read() as session:
        found = list(
            session.scalars(
                select(Booking).where(Booking.resident_id == resident).order_by(Booking.id)
            )
        )
        session.expunge_all()
        return found


def audit_of(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return found


def zhao_id(app: Flask) -> int:
    with app.app_context(), database().read() as session:
        found = session.scalar(select(StaffAccount.id).where(StaffAccount.username == "zhao"))
        assert found is not None
        return found


def form_error(page: str) -> str:
    match = re.search(r'<div class="errors errors-form" role="alert">\s*<p>(.*?)</p>', page, re.S)
    assert match, "no error above the form"
    return match.group(1)


# --- the way in ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("signed_in")
def test_the_residents_page_offers_to_book_a_seat_a_room_or_lend_a_tool_for_them(
    client: FlaskClient, wang: int
) -> None:
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    section = page.split('id="act-for"')[1].split("</section>")[0]
    assert "为该居民预约" in section
    for path in ("book/seat", "book/room", "lend"):
        assert f"/staff/residents/{wang}/{path}" in section


@pytest.mark.usefixtures("signed_in")
def test_the_seat_form_names_the_resident_and_offers_the_centres_seats_by_room(
    client: FlaskClient, wang: int
) -> None:
    page = client.get(f"/staff/residents/{wang}/book/seat").get_data(as_text=True)
    assert "为 王秀英 预约自习座位" in page
    assert '<optgroup label="自习室">' in page and "自习室 · 24号座" in page


# --- booking a seat -----------------------------------------------------------------------------


@pytest.mark.usefixtures("signed_in")
def test_staff_book_a_seat_for_a_resident_and_the_record_says_by_whom_for_whom(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    response = book_seat(client, wang, seat_id(app, 5), "10:00", 120)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/residents/{wang}#bookings")
    [booking] = bookings_of(app, wang)
    assert booking.status is BookingStatus.CONFIRMED
    assert (booking.starts_at, booking.ends_at) == (local(24, 10), local(24, 12))
    assert booking.staff_id == zhao_id(app)
    [entry] = audit_of(app, "booking.booked_for_resident")
    assert entry.staff_id == zhao_id(app) and entry.subject == f"booking:{booking.id}"
    assert entry.detail["resident_id"] == wang and entry.detail["staff_id"] == zhao_id(app)
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert "已为 王秀英 预约" in page
    row = re.search(rf'<tr data-booking="{booking.id}">(.*?)</tr>', page, re.S)
    assert row and f"由 工作人员 {STAFF_NAME} 代订" in row.group(1)


@pytest.mark.usefixtures("signed_in")
def test_a_booking_the_resident_made_at_the_kiosk_names_no_staff(
    app: Flask, client: FlaskClient, wang: int, clock: object
) -> None:
    from booking.spaces import seats

    with app.app_context(), database().write() as session:
        seats.book_seat(session, resident_id=wang, seat_id=seat_id(app, 6),
                        starts_at=local(24, 10), ends_at=local(24, 11),
                        now=local(24, 9))  # fmt: skip
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert "代订" not in page.split('id="bookings"')[1].split("</section>")[0]


@pytest.mark.usefixtures("signed_in")
def test_a_quota_breach_shows_the_kiosks_words_and_books_nothing(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    assert book_seat(client, wang, seat_id(app, 1), "10:00", 240).status_code == 303
    assert book_seat(client, wang, seat_id(app, 2), "14:00", 240).status_code == 303
    response = book_seat(client, wang, seat_id(app, 3), "18:00", 60)
    assert response.status_code == 409
    message = form_error(response.get_data(as_text=True))
    assert message == (
        "未能为 王秀英 预约。自助机的提示：这超过了一天允许使用自习座位的时间。那天您还剩 0 分钟。"
    )
    assert len(bookings_of(app, wang)) == 2
    assert len(audit_of(app, "booking.booked_for_resident")) == 2


@pytest.mark.usefixtures("signed_in")
def test_a_suspended_resident_is_refused_with_the_kiosks_words(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        session.add(BookingSuspension(site_id=site.id, resident_id=wang,
                                      starts_at=local(20, 10), ends_at=local(27, 10)))  # fmt: skip
    response = book_seat(client, wang, seat_id(app, 5), "10:00", 60)
    assert response.status_code in (403, 409)
    message = form_error(response.get_data(as_text=True))
    assert message.startswith("未能为 王秀英 预约。自助机的提示：因为多次预约未到，")
    assert "11月27日周五 10:00 之前您不能预约自习座位" in message
    assert bookings_of(app, wang) == []


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"day": "", "start": "10:00", "minutes": "60"}, "请填写日期。"),
        ({"day": TODAY, "start": "", "minutes": "60"}, "请填写开始时间，例如 09:00。"),
        ({"day": TODAY, "start": "10:00", "minutes": "45"}, "不是有效的选择。"),
        ({"day": "3026-01-01", "start": "10:00", "minutes": "60"}, "2000"),
    ],
)
def test_bad_input_in_the_seat_form_is_named_and_books_nothing(
    app: Flask, client: FlaskClient, wang: int, data: dict[str, str], error: str
) -> None:
    response = client.post(
        f"/staff/residents/{wang}/book/seat",
        data={"csrf_token": csrf(client), "seat": seat_id(app, 5), **data},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert error in page
    assert bookings_of(app, wang) == []


@pytest.mark.usefixtures("signed_in")
def test_a_seat_of_another_centre_is_not_a_choice(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    response = client.post(
        f"/staff/residents/{wang}/book/seat",
        data={"csrf_token": csrf(client), "seat": 999999, "day": TODAY, "start": "10:00",
              "minutes": "60"},
    )  # fmt: skip
    assert response.status_code == 400
    assert bookings_of(app, wang) == []


@pytest.mark.usefixtures("signed_in")
def test_a_resident_of_no_centre_of_the_staffs_is_not_found(client: FlaskClient) -> None:
    assert client.get("/staff/residents/999999/book/seat").status_code == 404
    assert client.get("/staff/residents/999999/lend").status_code == 404


# --- booking a room -----------------------------------------------------------------------------


def book_room(client: FlaskClient, resident: int, room: int, **extra: str) -> object:
    data = {"csrf_token": csrf(client), "room": room, "day": "2026-11-26", "start": "14:00",
            "minutes": "90", "headcount": "6", "purpose": "楼组议事"}  # fmt: skip
    data.update(extra)
    return client.post(f"/staff/residents/{resident}/book/room", data=data)


@pytest.mark.usefixtures("signed_in")
def test_a_room_that_needs_approval_waits_for_it_as_at_the_kiosk(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    response = book_room(client, wang, room_id(app, "meeting"))
    assert response.status_code == 303
    [booking] = bookings_of(app, wang)
    assert booking.status is BookingStatus.PENDING and booking.staff_id == zhao_id(app)
    assert (booking.headcount, booking.purpose) == (6, "楼组议事")
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert "与自助机一样需等待审批" in page
    row = re.search(rf'<tr data-booking="{booking.id}">(.*?)</tr>', page, re.S)
    assert row and "等待审批" in row.group(1) and f"由 工作人员 {STAFF_NAME} 代订" in row.group(1)


@pytest.mark.usefixtures("signed_in")
def test_a_room_for_more_people_than_it_holds_is_refused_with_the_kiosks_words(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    response = book_room(client, wang, room_id(app, "table-tennis"), headcount="9")
    assert response.status_code == 422
    assert "最多容纳 8 人" in form_error(response.get_data(as_text=True))
    assert bookings_of(app, wang) == []


# --- cancelling ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("signed_in")
def test_staff_cancel_a_booking_for_the_resident_and_it_is_audited(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    book_seat(client, wang, seat_id(app, 5), "11:00", 60)
    [booking] = bookings_of(app, wang)
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    cancel = f"/staff/residents/{wang}/bookings/{booking.id}/cancel"
    assert cancel in page
    response = client.post(cancel, data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    [after] = bookings_of(app, wang)
    assert after.status is BookingStatus.CANCELLED
    [entry] = audit_of(app, "booking.cancelled_for_resident")
    assert entry.staff_id == zhao_id(app) and entry.detail["resident_id"] == wang
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert "已为 王秀英 取消。" in page and cancel not in page


@pytest.mark.usefixtures("signed_in")
def test_a_booking_that_has_begun_cannot_be_cancelled_and_says_so_in_the_kiosks_words(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    from booking.spaces import seats

    with app.app_context(), database().write() as session:
        begun = seats.book_seat(session, resident_id=wang, seat_id=seat_id(app, 6),
                                starts_at=local(24, 9), ends_at=local(24, 11),
                                now=local(24, 8)).id  # fmt: skip
    response = client.post(
        f"/staff/residents/{wang}/bookings/{begun}/cancel",
        data={"csrf_token": csrf(client)},
        follow_redirects=True,
    )
    assert "未取消。自助机的提示：这个预约已经开始，不能再取消了。" in response.get_data(
        as_text=True
    )
    assert bookings_of(app, wang)[0].status is BookingStatus.CONFIRMED
    assert audit_of(app, "booking.cancelled_for_resident") == []


@pytest.mark.usefixtures("signed_in")
def test_cancelling_without_the_forms_token_changes_nothing(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    book_seat(client, wang, seat_id(app, 5), "11:00", 60)
    [booking] = bookings_of(app, wang)
    client.post(f"/staff/residents/{wang}/bookings/{booking.id}/cancel", data={})
    assert bookings_of(app, wang)[0].status is BookingStatus.CONFIRMED


@pytest.mark.usefixtures("signed_in")
def test_another_residents_booking_is_not_cancelled_through_this_resident(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    with app.app_context(), database().read() as session:
        other = session.scalar(
            select(Resident.id).where(Resident.id != wang).order_by(Resident.id).limit(1)
        )
        assert other is not None
    book_seat(client, other, seat_id(app, 5), "11:00", 60)
    [booking] = bookings_of(app, other)
    response = client.post(
        f"/staff/residents/{wang}/bookings/{booking.id}/cancel", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 404
    assert bookings_of(app, other)[0].status is BookingStatus.CONFIRMED
    with app.app_context(), database().read() as session:
        assert session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "booking.cancelled_for_resident")) == 0  # fmt: skip
