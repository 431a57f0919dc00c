"""The phone page of one centre books at any centre of the district: the resident chooses
the centre, and its seats, rooms and rules are the chosen centre's."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.demo import district as demo_district
from booking.people.models.memberships import ResidentMembership
from kiosk.extensions import database
from tests.kiosk.booking_helpers import TOMORROW, bookings, seat_at, site_id
from tests.mobile.conftest import OTHER_PHONE, OTHER_PIN, PhoneActions, alert_of, resident_id


@pytest.fixture
def phone(app: Flask, client: FlaskClient, clock: FrozenClock) -> PhoneActions:
    """李建国 of Xinhua, signed in on Xinhua's phone page, in the demo district."""
    with app.app_context(), database().write() as session:
        demo_district.seed(session, now=clock.now())
    actions = PhoneActions(client)
    assert actions.sign_in(OTHER_PHONE, OTHER_PIN).status_code == 302
    return actions


def chosen_centre(page: str) -> str:
    [slug] = re.findall(r'<option value="([a-z]+)" selected>', page)
    return slug


def test_the_seat_page_offers_every_centre_of_the_district_with_its_own_chosen(
    phone: PhoneActions,
) -> None:
    page = phone.page("/m/seats")
    offered = re.findall(r'<option value="([a-z]+)"', page)
    assert sorted(offered) == ["hongqiao", "jiangning", "xinhua"]
    assert chosen_centre(page) == "xinhua"


def test_after_choosing_hongqiao_the_phone_books_a_hongqiao_seat_and_lists_it(
    phone: PhoneActions, app: Flask
) -> None:
    chosen = phone.post("/m/centre", centre="hongqiao", back="seats")
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith("/m/seats")
    assert chosen_centre(phone.page("/m/seats")) == "hongqiao"
    response = phone.post("/m/seats/book", day=TOMORROW, start="10:00", minutes=120,
                          seat_id=seat_at(app, "hongqiao", 7))  # fmt: skip
    assert response.status_code == 302, alert_of(response.get_data(as_text=True))
    [booking] = bookings(app)
    assert booking.site_id == site_id(app, "hongqiao")
    assert f'data-booking="{booking.id}"' in phone.page("/m/bookings")
    # Booking there made him Hongqiao's visitor; his home stays Xinhua.
    with app.app_context(), database().read() as session:
        rows = session.execute(
            select(ResidentMembership.site_id, ResidentMembership.visitor).where(
                ResidentMembership.resident_id == resident_id(app, OTHER_PHONE)
            )
        ).all()
    assert sorted(tuple(row) for row in rows) == sorted(
        [(site_id(app, "xinhua"), False), (site_id(app, "hongqiao"), True)]
    )


def test_a_seat_of_another_centre_than_the_chosen_one_is_not_booked(
    phone: PhoneActions, app: Flask
) -> None:
    phone.post("/m/centre", centre="hongqiao", back="seats")
    response = phone.post("/m/seats/book", day=TOMORROW, start="10:00", minutes=120,
                          seat_id=seat_at(app, "xinhua", 7))  # fmt: skip
    assert response.status_code == 404
    assert bookings(app) == []


def test_choosing_the_own_centre_again_goes_back_to_it(phone: PhoneActions) -> None:
    phone.post("/m/centre", centre="jiangning", back="rooms")
    assert chosen_centre(phone.page("/m/rooms")) == "jiangning"
    phone.post("/m/centre", centre="xinhua", back="bookings")
    assert chosen_centre(phone.page("/m/bookings")) == "xinhua"


@pytest.mark.parametrize("centre", ["", "nowhere", "x" * 300, "<script>"])
def test_an_unknown_centre_is_refused_in_words_and_changes_nothing(
    phone: PhoneActions, centre: str
) -> None:
    response = phone.post("/m/centre", centre=centre, back="seats")
    assert response.status_code == 302
    page = phone.client.get("/m/seats").get_data(as_text=True)
    assert "There is no such centre" in page or "没有这个中心" in page
    assert chosen_centre(page) == "xinhua"


def test_the_phone_page_of_a_single_centre_offers_no_choice(
    app: Flask, client: FlaskClient, demo: None
) -> None:
    actions = PhoneActions(client)
    actions.sign_in()
    assert 'id="centre-form"' not in actions.page("/m/seats")
