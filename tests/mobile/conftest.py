"""Helpers for the phone page's tests: a resident on their own phone through a test client."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.people import one_time_codes
from booking.people.models.resident_codes import CodePurpose
from booking.people.models.residents import Resident
from booking.people.residents import get_member
from kiosk.extensions import database

DEMO_PHONE = "13800000001"  # 王秀英 in booking.demo.centre, who agreed to keep her readings
DEMO_PIN = "275139"
OTHER_PHONE = "13800000002"  # 李建国, who did not
OTHER_PIN = "386204"


def csrf_token_of(page: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, "no CSRF meta tag on the page"
    return match.group(1)


def alert_of(page: str) -> str:
    match = re.search(r'role="alert"[^>]*>.*?<p>(.*?)</p>', page, re.S)
    assert match, "no error notice on the page"
    return match.group(1)


class PhoneActions:
    """Sign in, out and around /m the way a phone's browser does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self) -> str:
        page = self.client.get("/m/sign-in", follow_redirects=True)
        return csrf_token_of(page.get_data(as_text=True))

    def post(self, path: str, **fields: str | int) -> TestResponse:
        data = {key: str(value) for key, value in fields.items()}
        data["csrf_token"] = self.csrf_token()
        return self.client.post(path, data=data)

    def page(self, path: str) -> str:
        return self.client.get(path).get_data(as_text=True)

    def sign_in(self, phone: str = DEMO_PHONE, pin: str = DEMO_PIN) -> TestResponse:
        return self.post("/m/sign-in", phone=phone, pin=pin)

    def sign_in_with_code(self, code: str, phone: str = DEMO_PHONE) -> TestResponse:
        return self.post("/m/code", phone=phone, code=code)

    def token(self) -> str | None:
        cookie = self.client.get_cookie("linli_phone", path="/m")
        return cookie.value if cookie else None

    def is_signed_in(self) -> bool:
        return 'data-signed-in="true"' in self.page("/m/bookings")


@pytest.fixture
def phone(client: FlaskClient, demo: None) -> PhoneActions:
    return PhoneActions(client)


def issue_code(app: Flask, clock: FrozenClock, phone: str = DEMO_PHONE) -> str:
    """A code staff print for the resident with ``phone`` (a forgotten PIN), as of now."""
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        resident_id = _resident_id(session, site.id, phone)
        return one_time_codes.issue_code(
            session, resident_id=resident_id, site_id=site.id, purpose=CodePurpose.PIN_RESET,
            now=clock.now(), actor="staff:zhao",
        ).code  # fmt: skip


def _resident_id(session: Session, site_id: int, phone: str) -> int:
    found = session.scalar(select(Resident.id).where(Resident.phone == phone))
    assert found is not None
    return get_member(session, site_id=site_id, resident_id=found).id


def resident_id(app: Flask, phone: str = DEMO_PHONE) -> int:
    with app.app_context(), database().read() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        return _resident_id(session, site.id, phone)
