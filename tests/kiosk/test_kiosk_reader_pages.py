"""The kiosk screen's side of the reader, through the test client: pairing by the staff's
code, the poll that takes each read once, the card's sign-in that still asks the PIN, and
what a read leads to; bad input anywhere answers in words and changes nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from booking.lending.models.door_sessions import DoorSession
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces import seats
from booking.spaces import slip_tokens as booking_slips
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from devices.kiosk_reader import pairing, scans
from devices.models.device import Device, DeviceKind
from devices.models.reader_scans import ScanFinding
from kiosk.extensions import database
from tests.kiosk.conftest import DEMO_PHONE, DEMO_PIN, KioskActions, alert_of

READER = "reader-1"


@pytest.fixture
def site_id(app: Flask, demo: None, clock: FrozenClock) -> int:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site)).one()
        session.add(Device(
            site_id=site.id, device_id=READER, kind=DeviceKind.KIOSK_READER, name="reader",
            mqtt_password_hash="$7$unused", capabilities={}, online=True, created_at=clock.now(),
        ))  # fmt: skip
        return site.id


def offer(app: Flask, site_id: int, clock: FrozenClock) -> str:
    with app.app_context(), database().write() as session:
        staff = session.scalars(select(StaffAccount.id)).first()
        assert staff is not None
        return pairing.offer_code(session, site_id=site_id, device_id=READER, staff_id=staff,
                                  now=clock.now())  # fmt: skip


def pair(kiosk: KioskActions, code: str) -> int:
    return kiosk.client.post(
        "/kiosk/reader/setup", data={"code": code, "csrf_token": kiosk.csrf_token()}
    ).status_code


def read(app: Flask, site_id: int, clock: FrozenClock, finding: ScanFinding, target: int | None) -> None:  # fmt: skip
    """A read arrived through the ingest (devices.kiosk_reader.events, tested on its own)."""
    with app.app_context(), database().write() as session:
        scans.record(session, site_id=site_id, device_id=READER, finding=finding,
                     target_id=target, now=clock.now())  # fmt: skip


def poll(kiosk: KioskActions) -> tuple[int, dict[str, object]]:
    response = kiosk.client.post("/reader/next", headers={"X-CSRFToken": kiosk.csrf_token()})
    return response.status_code, response.get_json()


def wang(app: Flask) -> int:
    with app.app_context(), database().read() as session:
        return session.scalars(select(Resident.id).where(Resident.phone == DEMO_PHONE)).one()


@pytest.fixture
def paired(app: Flask, kiosk: KioskActions, site_id: int, clock: FrozenClock) -> KioskActions:
    assert pair(kiosk, offer(app, site_id, clock)) == 200
    return kiosk


@pytest.mark.parametrize("code", ["", "1234", "abcdefgh", "123456789", "12345678"])
def test_a_wrong_pairing_code_is_refused_in_words_and_pairs_nothing(
    app: Flask, kiosk: KioskActions, site_id: int, clock: FrozenClock, code: str
) -> None:
    offer(app, site_id, clock)
    response = kiosk.client.post(
        "/kiosk/reader/setup", data={"code": code, "csrf_token": kiosk.csrf_token()}
    )
    assert response.status_code == 422
    assert "配对码" in alert_of(response.get_data(as_text=True))
    assert kiosk.client.get_cookie("linli_reader") is None


def test_a_pairing_code_pairs_one_screen_once_and_not_after_ten_minutes(
    app: Flask, client: FlaskClient, site_id: int, clock: FrozenClock
) -> None:
    first, second = KioskActions(client), KioskActions(app.test_client())
    code = offer(app, site_id, clock)
    assert pair(first, code) == 200
    assert first.client.get_cookie("linli_reader") is not None
    assert pair(second, code) == 422
    late = offer(app, site_id, clock)
    clock.advance(pairing.CODE_LIFE)
    assert pair(second, late) == 422
    assert second.client.get_cookie("linli_reader") is None


def test_an_unpaired_or_forged_screen_gets_no_reads(
    app: Flask, kiosk: KioskActions, site_id: int, clock: FrozenClock
) -> None:
    read(app, site_id, clock, ScanFinding.RESIDENT, wang(app))
    assert poll(kiosk) == (404, {"paired": False})
    kiosk.client.set_cookie("linli_reader", f'"{READER}".forged', path="/")
    assert poll(kiosk) == (404, {"paired": False})


def test_a_tapped_card_asks_the_pin_showing_only_the_masked_name_and_last_digits(
    app: Flask, paired: KioskActions, site_id: int, clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    read(app, site_id, clock, ScanFinding.RESIDENT, wang(app))
    assert poll(paired) == (200, {"go": "/kiosk/sign-in/card"})
    assert poll(paired) == (200, {})  # taken once
    page = paired.client.get("/kiosk/sign-in/card").get_data(as_text=True)
    assert "王*英" in page and "尾号 0001" in page
    assert DEMO_PHONE not in page and "王秀英" not in page
    assert not paired.is_signed_in()
    wrong = paired.client.post(
        "/kiosk/sign-in/card", data={"pin": "12", "csrf_token": paired.csrf_token()}
    )
    assert wrong.status_code == 422 and not paired.is_signed_in()
    right = paired.client.post(
        "/kiosk/sign-in/card", data={"pin": DEMO_PIN, "csrf_token": paired.csrf_token()}
    )
    assert right.status_code == 302 and paired.is_signed_in()
    assert DEMO_PHONE not in caplog.text


def test_the_card_page_without_a_fresh_tap_asks_to_tap_again(
    app: Flask, paired: KioskActions, site_id: int, clock: FrozenClock
) -> None:
    response = paired.client.get("/kiosk/sign-in/card", follow_redirects=True)
    assert "请再刷一次卡" in response.get_data(as_text=True)
    read(app, site_id, clock, ScanFinding.RESIDENT, wang(app))
    assert poll(paired)[1] == {"go": "/kiosk/sign-in/card"}
    clock.advance(timedelta(minutes=3))
    posted = paired.client.post(
        "/kiosk/sign-in/card", data={"pin": DEMO_PIN, "csrf_token": paired.csrf_token()},
        follow_redirects=True,
    )  # fmt: skip
    assert "请再刷一次卡" in posted.get_data(as_text=True)
    assert not paired.is_signed_in()


def test_a_read_left_for_a_minute_is_not_acted_on(
    app: Flask, paired: KioskActions, site_id: int, clock: FrozenClock
) -> None:
    read(app, site_id, clock, ScanFinding.RESIDENT, wang(app))
    clock.advance(scans.SCAN_LIFE)
    assert poll(paired) == (200, {})


def test_a_scanned_booking_slip_checks_in_and_says_so_in_both_languages(
    app: Flask, paired: KioskActions, site_id: int, clock: FrozenClock
) -> None:
    now = clock.now()
    with app.app_context(), database().write() as session:
        seat = session.scalars(select(Seat.id).order_by(Seat.id)).first()
        assert seat is not None
        booking = seats.book_seat(session, resident_id=wang(app), seat_id=seat, starts_at=now,
                                  ends_at=now + timedelta(hours=1), now=now)  # fmt: skip
        booking_slips.slip_code(session, booking)
        booking_id = booking.id
    read(app, site_id, clock, ScanFinding.BOOKING, booking_id)
    assert poll(paired) == (200, {"go": "/kiosk/reader/result"})
    page = paired.client.get("/kiosk/reader/result").get_data(as_text=True)
    assert "签到成功" in page and "You are checked in" in page
    with app.app_context(), database().read() as session:
        assert session.get_one(Booking, booking_id).status is BookingStatus.CHECKED_IN
    # Shown once: reloaded, the page goes home.
    assert paired.client.get("/kiosk/reader/result").status_code == 302


def test_a_loan_slip_scanned_while_the_lockers_are_unreachable_opens_nothing(
    app: Flask, paired: KioskActions, site_id: int, clock: FrozenClock
) -> None:
    from booking.lending import operations as lending
    from booking.lending.models.tools import Item, ItemStatus

    with app.app_context(), database().write() as session:
        staff = session.scalars(select(StaffAccount)).first()
        item = session.scalars(select(Item).where(Item.status == ItemStatus.AVAILABLE)).first()
        assert staff is not None and item is not None
        loan_id = lending.lend_at_counter(session, staff=staff, item_id=item.id,
                                          resident_id=wang(app), now=clock.now()).id  # fmt: skip
    read(app, site_id, clock, ScanFinding.LOAN, loan_id)
    assert poll(paired) == (200, {"go": "/kiosk/reader/result"})
    page = paired.client.get("/kiosk/reader/result").get_data(as_text=True)
    assert 'class="reader-said-zh"' in page and "notice-error" in page
    with app.app_context(), database().read() as session:
        assert session.scalar(select(func.count()).select_from(DoorSession)) == 0


def test_an_unknown_code_says_so_and_another_screens_return_page_is_not_found(
    app: Flask, paired: KioskActions, site_id: int, clock: FrozenClock
) -> None:
    read(app, site_id, clock, ScanFinding.UNKNOWN_CODE, None)
    assert poll(paired)[1] == {"go": "/kiosk/reader/result"}
    page = paired.client.get("/kiosk/reader/result").get_data(as_text=True)
    assert "不是本中心的凭条" in page and "not a slip of this centre" in page
    assert paired.client.get("/kiosk/reader/return/1").status_code == 404
    assert paired.client.get("/kiosk/reader/return/1/status").status_code == 404
