"""A resident of one centre at another centre's kiosk, in the demo district: the same phone
and PIN, the visited centre's seats under its rules, and its staff seeing a visitor."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from booking.demo import district as demo_district
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.conftest import StaffActions
from tests.kiosk.booking_helpers import TODAY, bookings, post, seat_at, site_id
from tests.kiosk.conftest import KioskActions, alert_of

LI = ("13800000002", "386204")  # 李建国, enrolled at Xinhua only
VISITED = "hongqiao"


@pytest.fixture
def district(app: Flask, clock: FrozenClock) -> Flask:
    """The demo district seeded, the app serving Hongqiao's kiosk."""
    with app.app_context(), database().write() as session:
        demo_district.seed(session, now=clock.now())
    app.config["SITE"] = VISITED
    return app


def memberships(app: Flask, phone: str) -> list[tuple[str, bool]]:
    with app.app_context(), database().read() as session:
        rows = session.execute(
            select(Site.slug, ResidentMembership.visitor)
            .join(ResidentMembership, ResidentMembership.site_id == Site.id)
            .join(Resident, Resident.id == ResidentMembership.resident_id)
            .where(Resident.phone == phone)
        ).all()
        return sorted((slug, visitor) for slug, visitor in rows)


def test_a_resident_of_xinhua_signs_in_at_hongqiaos_kiosk_with_the_same_phone_and_pin(
    district: Flask, client: FlaskClient
) -> None:
    kiosk = KioskActions(client)
    assert kiosk.sign_in(*LI).status_code == 302
    assert "您好，李*国" in kiosk.home()
    assert memberships(district, LI[0]) == [("hongqiao", True), ("xinhua", False)]


def test_the_visitor_books_a_hongqiao_seat_at_its_kiosk(
    district: Flask, client: FlaskClient
) -> None:
    kiosk = KioskActions(client)
    kiosk.sign_in(*LI)
    response = post(kiosk, "/kiosk/seats/book", seat_id=seat_at(district, VISITED, 3),
                    day=TODAY, start="10:00", minutes=120, return_to="/kiosk/seats")  # fmt: skip
    assert response.status_code == 302, alert_of(response.get_data(as_text=True))
    [booking] = bookings(district)
    assert booking.site_id == site_id(district, VISITED)


def test_the_kiosk_does_not_book_another_centres_seat_for_the_visitor(
    district: Flask, client: FlaskClient
) -> None:
    kiosk = KioskActions(client)
    kiosk.sign_in(*LI)
    response = post(kiosk, "/kiosk/seats/book", seat_id=seat_at(district, "xinhua", 3),
                    day=TODAY, start="10:00", minutes=120, return_to="/kiosk/seats")  # fmt: skip
    assert response.status_code == 404
    assert bookings(district) == []


def test_a_seat_at_one_centre_keeps_the_resident_from_a_second_at_another_at_that_time(
    district: Flask, client: FlaskClient
) -> None:
    # One person sits in one place: a seat held at Hongqiao from 10:00 to 12:00 leaves none
    # for Xinhua's 11:00, which another student could use. Each centre's cap stays its own.
    kiosk = KioskActions(client)
    kiosk.sign_in(*LI)
    booked = post(kiosk, "/kiosk/seats/book", seat_id=seat_at(district, VISITED, 3),
                  day=TODAY, start="10:00", minutes=120, return_to="/kiosk/seats")  # fmt: skip
    assert booked.status_code == 302
    kiosk.sign_out()
    district.config["SITE"] = "xinhua"
    kiosk.sign_in(*LI)
    refused = post(kiosk, "/kiosk/seats/book", seat_id=seat_at(district, "xinhua", 3),
                   day=TODAY, start="11:00", minutes=60, return_to="/kiosk/seats")  # fmt: skip
    assert refused.status_code == 409
    assert "您在这个时间已经有座位了" in alert_of(refused.get_data(as_text=True))
    assert [b.site_id for b in bookings(district)] == [site_id(district, VISITED)]
    later = post(kiosk, "/kiosk/seats/book", seat_id=seat_at(district, "xinhua", 3),
                 day=TODAY, start="12:00", minutes=60, return_to="/kiosk/seats")  # fmt: skip
    assert later.status_code == 302


def test_hongqiaos_staff_see_the_visitor_from_xinhua_and_xinhua_as_home(
    district: Flask, client: FlaskClient
) -> None:
    KioskActions(client).sign_in(*LI)
    KioskActions(client).sign_out()
    staff = StaffActions(client)
    _, _, password, _ = demo_district.CENTRES[1].staff[0]
    assert staff.sign_in("hongqiao-staff", password).status_code == 302
    listing = client.get("/staff/residents?q=李建国").get_data(as_text=True)
    [flag] = re.findall(r'<span class="flag flag-visitor">([^<]*)</span>', listing)
    assert "新华社区邻里中心" in flag
    with district.app_context(), database().read() as session:
        li = session.scalars(select(Resident.id).where(Resident.phone == LI[0])).one()
    record = client.get(f"/staff/residents/{li}").get_data(as_text=True)
    assert 'id="home-centre">新华社区邻里中心 <span class="flag flag-visitor">' in record


def test_a_wrong_pin_at_the_visited_kiosk_signs_nobody_in_and_makes_no_visitor(
    district: Flask, client: FlaskClient
) -> None:
    kiosk = KioskActions(client)
    kiosk.sign_in(LI[0], "000000")
    assert not kiosk.is_signed_in()
    assert memberships(district, LI[0]) == [("xinhua", False)]
