"""One web app serves the kiosk screens of every centre of the district: staff set a screen up
for their centre once from the console, and the browser keeps that centre; a screen never set
up serves the deployment's own centre (LINLI_SITE), as a single centre's always did."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.audit import AuditEntry
from booking.demo import district as demo_district
from kiosk import screen_site
from kiosk.extensions import database
from tests.conftest import StaffActions

XINHUA, HONGQIAO = "新华社区邻里中心", "虹桥社区邻里中心"


@pytest.fixture
def district(any_database: Database, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    """One app on each database with the demo district seeded; the app's own centre
    (LINLI_SITE) is Xinhua."""
    from kiosk import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CLOCK": clock,
                      "DATABASE_URL": any_database.url})  # fmt: skip
    app.instance_path = str(tmp_path)
    with app.app_context():
        with database().write() as session:
            demo_district.seed(session, now=clock.now())
    yield app
    with app.app_context():
        database().dispose()


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


def add_reader(app: Flask, clock: FrozenClock, site_slug: str, device_id: str) -> tuple[int, str]:
    """A kiosk reader of the centre, and a pairing code its staff offer for it."""
    from booking.core.models.sites import Site
    from booking.people.models.staff import StaffAccount
    from devices.kiosk_reader import pairing
    from devices.models.device import Device, DeviceKind

    with app.app_context(), database().write() as session:
        site_id = session.scalars(select(Site.id).where(Site.slug == site_slug)).one()
        session.add(Device(
            site_id=site_id, device_id=device_id, kind=DeviceKind.KIOSK_READER, name="reader",
            mqtt_password_hash="$7$unused", capabilities={}, online=True, created_at=clock.now(),
        ))  # fmt: skip
        session.flush()
        staff_id = session.scalars(
            select(StaffAccount.id).where(StaffAccount.site_id == site_id)
        ).first()
        assert staff_id is not None
        code = pairing.offer_code(
            session, site_id=site_id, device_id=device_id, staff_id=staff_id, now=clock.now()
        )
    return site_id, code


def test_a_hongqiao_screen_pairs_hongqiao_s_reader_and_its_poll_takes_hongqiao_s_reads(
    district: Flask, clock: FrozenClock
) -> None:
    from booking.people.models.residents import Resident
    from devices.kiosk_reader import scans
    from devices.models.reader_scans import ScanFinding
    from tests.kiosk.conftest import KioskActions

    hongqiao, code = add_reader(district, clock, "hongqiao", "hongqiao-reader-1")
    # A screen never set up is Xinhua's: Hongqiao's code pairs nothing there.
    stranger = KioskActions(district.test_client())
    refused = stranger.client.post(
        "/kiosk/reader/setup", data={"code": code, "csrf_token": stranger.csrf_token()}
    )
    assert refused.status_code == 422
    screen = KioskActions(district.test_client())
    set_up_screen(screen.client, "hongqiao-admin", "linli-hongqiao-admin-2026")
    paired = screen.client.post(
        "/kiosk/reader/setup", data={"code": code, "csrf_token": screen.csrf_token()}
    )
    assert paired.status_code == 200
    with district.app_context(), database().write() as session:
        resident = session.scalars(select(Resident.id).where(Resident.phone == "13800000001"))
        scans.record(session, site_id=hongqiao, device_id="hongqiao-reader-1",
                     finding=ScanFinding.RESIDENT, target_id=resident.one(),
                     now=clock.now())  # fmt: skip

    def poll(kiosk: KioskActions) -> tuple[int, object]:
        answer = kiosk.client.post("/reader/next", headers={"X-CSRFToken": kiosk.csrf_token()})
        return answer.status_code, answer.get_json()

    assert poll(screen) == (200, {"go": "/kiosk/sign-in/card"})
    assert poll(stranger) == (404, {"paired": False})


def test_the_site_api_answers_the_screen_s_centre(district: Flask) -> None:
    client = district.test_client()
    assert client.get("/api/v1/site").json["slug"] == "xinhua"  # type: ignore[index]
    set_up_screen(client, "hongqiao-admin", "linli-hongqiao-admin-2026")
    assert client.get("/api/v1/site").json["slug"] == "hongqiao"  # type: ignore[index]
    gone = district.test_client()
    serializer = URLSafeSerializer(district.secret_key or "", salt=screen_site.COOKIE.salt)
    signed = serializer.dumps("gone")
    gone.set_cookie(screen_site.COOKIE_NAME, signed)
    assert gone.get("/api/v1/site").json["slug"] == "xinhua"  # type: ignore[index]


def test_a_hongqiao_screen_s_heartbeat_is_hongqiao_s_kiosk_alive(
    district: Flask, any_database: Database
) -> None:
    from booking.core.models.sites import Site
    from booking.core.models.uptime import Heartbeat, ServicePart

    client = district.test_client()
    set_up_screen(client, "hongqiao-admin", "linli-hongqiao-admin-2026")
    page = client.get("/kiosk/").get_data(as_text=True)
    url = re.search(r'data-alive-url="([^"]+)"', page)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert url and token
    assert client.post(url.group(1), headers={"X-CSRFToken": token.group(1)}).status_code == 204
    with any_database.read() as session:
        beating = session.scalars(
            select(Site.slug)
            .join(Heartbeat, Heartbeat.site_id == Site.id)
            .where(Heartbeat.part == ServicePart.KIOSK)
        ).all()
    assert beating == ["hongqiao"]
