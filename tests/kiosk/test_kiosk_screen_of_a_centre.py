"""One web app serves the kiosk screens of every centre of the district: staff set a screen up
for their centre once from the console, and the browser keeps that centre; a screen never set
up serves the deployment's own centre (LINLI_SITE), as a single centre's always did."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.demo import district as demo_district
from kiosk import screen_site
from kiosk.extensions import database
from tests.conftest import StaffActions

XINHUA, HONGQIAO = "新华社区邻里中心", "虹桥社区邻里中心"


@pytest.fixture
def district(app: Flask, clock: FrozenClock) -> Flask:
    """The demo district seeded; the app's own centre (LINLI_SITE) is Xinhua."""
    with app.app_context(), database().write() as session:
        demo_district.seed(session, now=clock.now())
    return app


def set_up_screen(client: FlaskClient, username: str, password: str) -> str:
    """As staff do it on the kiosk's own browser: sign in, press the button, sign out."""
    staff = StaffActions(client)
    staff.sign_in(username, password)
    page = client.get("/staff/admin/devices").get_data(as_text=True)
    assert 'id="use-as-kiosk-screen"' in page
    answer = client.post("/staff/admin/kiosk-screen", data={"csrf_token": staff.csrf_token()})
    staff.sign_out()
    assert answer.status_code == 303
    return str(answer.headers["Location"])


def centre_shown(client: FlaskClient) -> str:
    page = client.get("/kiosk/").get_data(as_text=True)
    found = re.search(r"<title>([^<]*)", page)
    assert found is not None
    return found.group(1).strip()


def test_a_screen_set_up_by_hongqiao_s_admin_serves_hongqiao(district: Flask) -> None:
    client = district.test_client()
    assert centre_shown(client) == XINHUA
    location = set_up_screen(client, "hongqiao-admin", "linli-hongqiao-admin-2026")
    assert location.endswith("/kiosk/")
    assert HONGQIAO in centre_shown(client)
    assert client.get("/kiosk/rooms").status_code == 200
    with district.app_context(), database().read() as session:
        actions = session.scalars(
            select(AuditEntry.subject).where(AuditEntry.action == "kiosk.screen_set_up")
        ).all()
    assert actions == ["hongqiao"]
    # Another browser, never set up, is still the deployment's own centre.
    assert centre_shown(district.test_client()) == XINHUA


def test_a_resident_signed_in_at_a_hongqiao_screen_is_at_hongqiao(district: Flask) -> None:
    from booking.people.models.resident_sessions import ResidentSession

    client = district.test_client()
    set_up_screen(client, "hongqiao-admin", "linli-hongqiao-admin-2026")
    page = client.get("/kiosk/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    # 王秀英 of Xinhua visits Hongqiao (the demo district's visitor).
    answer = client.post("/kiosk/sign-in", data={
        "csrf_token": token.group(1), "phone": "13800000001", "pin": "275139",
    })  # fmt: skip
    assert answer.status_code in (302, 303)
    with district.app_context(), database().read() as session:
        from booking.core.models.sites import Site

        hongqiao = session.scalars(select(Site.id).where(Site.slug == "hongqiao")).one()
        sites = session.scalars(select(ResidentSession.site_id)).all()
    assert sites == [hongqiao]


@pytest.mark.parametrize("cookie", ["forged", "eyJzbHVnIjoiaG9uZ3FpYW8ifQ.bad"])
def test_a_forged_screen_cookie_serves_the_deployment_s_own_centre(
    district: Flask, cookie: str
) -> None:
    client = district.test_client()
    client.set_cookie(screen_site.COOKIE_NAME, cookie)
    assert centre_shown(client) == XINHUA


def test_a_screen_of_a_centre_that_is_gone_serves_the_deployment_s_own_centre(
    district: Flask,
) -> None:
    client = district.test_client()
    serializer = URLSafeSerializer(district.secret_key or "", salt=screen_site.COOKIE.salt)
    signed = serializer.dumps("gone")
    client.set_cookie(screen_site.COOKIE_NAME, signed)
    assert centre_shown(client) == XINHUA
    assert client.get("/kiosk/rooms").status_code == 200


def test_only_a_centre_s_admin_sets_a_screen_up(district: Flask) -> None:
    client = district.test_client()
    staff = StaffActions(client)
    staff.sign_in()  # zhao, a worker at Xinhua
    answer = client.post("/staff/admin/kiosk-screen", data={"csrf_token": staff.csrf_token()})
    assert answer.status_code in (302, 303, 403)
    assert client.get_cookie(screen_site.COOKIE_NAME) is None
    refused = client.post("/staff/admin/kiosk-screen", data={})
    assert client.get_cookie(screen_site.COOKIE_NAME) is None
    assert refused.status_code < 500
