"""Helpers for kiosk tests: a resident using the touchscreen through a test client."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

DEMO_PHONE = "13800000001"  # 王秀英 in booking.demo.centre
DEMO_PIN = "275139"
UNKNOWN_PHONE = "13999999999"


def csrf_token_of(page: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, "no CSRF meta tag on the page"
    return match.group(1)


def alert_of(page: str) -> str:
    """The text of the page's error notice."""
    match = re.search(r'role="alert"[^>]*>.*?<p>(.*?)</p>', page, re.S)
    assert match, "no error notice on the page"
    return match.group(1)


class KioskActions:
    """Sign in, out and around the kiosk the way the touchscreen's browser does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self) -> str:
        return csrf_token_of(self.client.get("/kiosk/").get_data(as_text=True))

    def sign_in(self, phone: str = DEMO_PHONE, pin: str = DEMO_PIN) -> TestResponse:
        return self.client.post(
            "/kiosk/sign-in", data={"phone": phone, "pin": pin, "csrf_token": self.csrf_token()}
        )

    def sign_out(self) -> TestResponse:
        return self.client.post("/kiosk/sign-out", data={"csrf_token": self.csrf_token()})

    def home(self) -> str:
        return self.client.get("/kiosk/").get_data(as_text=True)

    def token(self) -> str | None:
        cookie = self.client.get_cookie("linli_kiosk", path="/kiosk")
        return cookie.value if cookie else None

    def is_signed_in(self) -> bool:
        return 'data-signed-in="true"' in self.home()


@pytest.fixture
def kiosk(client: FlaskClient, demo: None) -> KioskActions:
    return KioskActions(client)
