"""Behind TLS every cookie is Secure; a proxy's forwarded headers are believed only when the
operator says there is one; and a real start without TLS says so loudly."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from booking.core.clock import FrozenClock
from booking.core.db import Base
from kiosk import create_app, tls
from kiosk.config import ConfigError
from tests.conftest import StaffActions
from tests.kiosk.conftest import DEMO_PHONE, DEMO_PIN


def make_app(tmp_path: Path, clock: FrozenClock, **settings: Any) -> Flask:
    from booking.demo import centre as demo_centre
    from kiosk.extensions import database

    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "CLOCK": clock,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", **settings,
    })  # fmt: skip
    with app.app_context():
        Base.metadata.create_all(database().engine)
        with database().write() as session:
            demo_centre.seed(session, now=clock.now())
    return app


@pytest.fixture
def tls_app(tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    app = make_app(tmp_path, clock, TLS=True)
    yield app
    from kiosk.extensions import database

    with app.app_context():
        database().dispose()


def set_cookies(response: Any) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def kiosk_sign_in(client: FlaskClient) -> Any:
    page = client.get("/kiosk/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    return client.post(
        "/kiosk/sign-in", data={"phone": DEMO_PHONE, "pin": DEMO_PIN, "csrf_token": token[1]}
    )


def https_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    # As a browser sends it under our Referrer-Policy; over HTTPS the CSRF check wants it.
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client


def test_behind_tls_every_cookie_is_secure_even_on_a_plain_request(tls_app: Flask) -> None:
    # A request that reached Linli as plain HTTP (a misconfigured proxy) still gets Secure.
    form_page = tls_app.test_client().get("/staff/sign-in")
    staff = StaffActions(https_client(tls_app)).sign_in()
    kiosk = kiosk_sign_in(https_client(tls_app))
    cookies = set_cookies(form_page) | set_cookies(staff) | set_cookies(kiosk)
    assert {"linli", "linli_staff", "linli_kiosk"} <= cookies.keys()
    for name, header in cookies.items():
        assert "; Secure" in header, name
        assert "HttpOnly" in header, name


def test_without_tls_a_plain_request_gets_no_secure_cookie(
    client: FlaskClient, staff_auth: StaffActions, demo: None
) -> None:
    cookies = set_cookies(client.get("/staff/sign-in")) | set_cookies(staff_auth.sign_in())
    assert {"linli", "linli_staff"} <= cookies.keys()
    assert not any("Secure" in header for header in cookies.values())


def _seen(app: Flask) -> dict[str, object]:
    seen: dict[str, object] = {}

    @app.get("/_seen")
    def remember() -> str:
        seen.update(address=request.remote_addr, secure=request.is_secure, host=request.host)
        return ""

    return seen


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "linli.example"}  # fmt: skip


def test_behind_one_proxy_its_forwarded_address_and_https_are_believed(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock, PROXY_HOPS=1)
    seen = _seen(app)
    app.test_client().get("/_seen", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert seen == {"address": "203.0.113.7", "secure": True, "host": "linli.example"}


def test_without_a_proxy_forwarded_headers_are_anybodys_and_ignored(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock)
    seen = _seen(app)
    app.test_client().get("/_seen", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert seen == {"address": "10.0.0.2", "secure": False, "host": "localhost"}


@pytest.mark.parametrize("hops", [-1, 6, "one", True, 1.5])
def test_a_proxy_count_that_makes_no_sense_stops_the_start(
    tmp_path: Path, clock: FrozenClock, hops: object
) -> None:
    with pytest.raises(ConfigError, match="LINLI_PROXY_HOPS"):
        make_app(tmp_path, clock, PROXY_HOPS=hops)


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        ({"TESTING": False}, True),
        ({"TESTING": False, "TLS": True}, False),
        ({"TESTING": False, "DEMO": True}, False),
    ],
    ids=["a real start without TLS", "behind TLS", "the demo"],
)
def test_a_real_start_without_tls_warns_loudly(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture,
    settings: dict[str, Any], warned: bool,
) -> None:  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="linli.tls"):
        make_app(tmp_path, clock, **settings)
    assert (tls.WITHOUT_TLS_WARNING in caplog.text) is warned
