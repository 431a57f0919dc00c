"""A resident at the kiosk of the test lending station, through Flask's test client."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def csrf_token_of(page: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, "no CSRF meta tag on the page"
    return match.group(1)


class Resident:
    def __init__(self, app: Flask, phone: str, pin: str = "275139") -> None:
        self.client: FlaskClient = app.test_client()
        self.phone = phone
        self.pin = pin

    def token(self) -> str:
        return csrf_token_of(self.client.get("/kiosk/tools").get_data(as_text=True))

    def sign_in(self) -> TestResponse:
        response = self.client.post(
            "/kiosk/sign-in",
            data={"phone": self.phone, "pin": self.pin, "csrf_token": self.token()},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def post(self, path: str, **data: str) -> TestResponse:
        return self.client.post(path, data={"csrf_token": self.token(), **data})

    def page(self, path: str) -> str:
        response = self.client.get(path, follow_redirects=True)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)
