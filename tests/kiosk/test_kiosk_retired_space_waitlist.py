"""A resident waiting for a room that staff retire: "my bookings" no longer lists the wait and a
notice says, in the resident's language, which room and why."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from booking.admin import centre as centre_admin
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces.models.spaces import Space
from booking.spaces.models.waitlist import WaitlistEntry, WaitlistStatus
from kiosk.extensions import clock, database
from tests.kiosk.booking_helpers import page, room_id
from tests.kiosk.conftest import DEMO_PHONE, KioskActions


def wait_for_dance_room(app: Flask) -> None:
    """王秀英 waits for the dance room tomorrow; the booking she queued behind is gone."""
    dance = room_id(app, "dance")
    with app.app_context(), database().write() as session:
        resident = session.scalars(select(Resident).where(Resident.phone == DEMO_PHONE)).one()
        now = clock().now()
        session.add(
            WaitlistEntry(
                site_id=session.get_one(Space, dance).site_id,
                space_id=dance,
                resident_id=resident.id,
                starts_at=now + timedelta(days=1),
                ends_at=now + timedelta(days=1, hours=1),
                status=WaitlistStatus.WAITING,
                created_at=now,
            )
        )


def retire_dance_room(app: Flask) -> None:
    dance = room_id(app, "dance")
    with app.app_context(), database().write() as session:
        admin = session.scalars(select(StaffAccount).where(StaffAccount.username == "admin")).one()
        centre_admin.retire_space(session, admin, dance, now=clock().now())


def test_a_wait_for_a_room_staff_retire_ends_with_a_notice_naming_the_room(
    kiosk: KioskActions, app: Flask
) -> None:
    wait_for_dance_room(app)
    kiosk.sign_in()
    assert "data-queue=" in page(kiosk, "/kiosk/bookings")
    retire_dance_room(app)
    text = page(kiosk, "/kiosk/bookings")
    assert "data-queue=" not in text
    assert 'class="notice notice-message notice-waitlist_ended"' in text
    assert "舞蹈室已停用" in text


def test_the_notice_of_an_ended_wait_names_the_room_in_english_when_asked(
    kiosk: KioskActions, app: Flask
) -> None:
    wait_for_dance_room(app)
    retire_dance_room(app)
    kiosk.sign_in()
    kiosk.client.post(
        "/kiosk/language",
        data={"locale": "en", "next": "/kiosk/bookings", "csrf_token": kiosk.csrf_token()},
    )
    text = page(kiosk, "/kiosk/bookings")
    assert "Dance room is no longer in use, so you are off its waiting list." in text
