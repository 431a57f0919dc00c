"""The kiosk's pages: what every response carries and what the home and service pages say."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.kiosk.conftest import KioskActions

KIOSK_PAGES = [
    "/kiosk/",
    "/kiosk/sign-in",
    "/kiosk/services/tools",
    "/kiosk/services/study",
    "/kiosk/services/rooms",
    "/kiosk/services/blood-pressure",
    "/kiosk/services/no-such-service",
]


@pytest.mark.parametrize("path", KIOSK_PAGES)
def test_every_kiosk_page_is_sent_with_no_store(client: FlaskClient, demo: None, path: str) -> None:
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_a_signed_in_page_is_sent_with_no_store(kiosk: KioskActions) -> None:
    kiosk.sign_in()
    assert kiosk.client.get("/kiosk/").headers["Cache-Control"] == "no-store"


def test_a_refused_sign_in_is_sent_with_no_store(kiosk: KioskActions) -> None:
    assert kiosk.sign_in(pin="9999").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", KIOSK_PAGES)
def test_kiosk_pages_allow_scripts_and_styles_only_from_our_own_origin(
    client: FlaskClient, demo: None, path: str
) -> None:
    policy = client.get(path).headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_kiosk_pages_contain_no_inline_script_or_style(client: FlaskClient, demo: None) -> None:
    page = client.get("/kiosk/sign-in").get_data(as_text=True)
    assert "<script>" not in page
    assert "<style" not in page
    assert " style=" not in page
    assert " onclick=" not in page


def test_home_shows_the_site_name_and_the_four_services(client: FlaskClient, demo: None) -> None:
    page = client.get("/kiosk/").get_data(as_text=True)
    assert "新华社区邻里中心" in page
    for title in ("借工具", "自习室", "活动室", "量血压"):
        assert f'<span class="tile-title">{title}</span>' in page


@pytest.mark.parametrize("service", ["tools", "study", "rooms", "blood-pressure"])
def test_each_service_tile_leads_to_its_own_page_not_coming_soon(
    client: FlaskClient, demo: None, service: str
) -> None:
    page = client.get(f"/kiosk/services/{service}", follow_redirects=True).get_data(as_text=True)
    assert "即将上线" not in page
    assert 'class="page-title"' in page


def test_every_page_but_home_has_a_home_button(client: FlaskClient, demo: None) -> None:
    assert "button-home" in client.get("/kiosk/sign-in").get_data(as_text=True)
    assert "button-home" not in client.get("/kiosk/").get_data(as_text=True)


def test_an_unknown_service_is_a_kiosk_page_with_a_way_home(
    client: FlaskClient, demo: None
) -> None:
    response = client.get("/kiosk/services/no-such-service")
    assert response.status_code == 404
    assert "没有找到这个页面" in response.get_data(as_text=True)
    assert "button-home" in response.get_data(as_text=True)


def test_a_kiosk_whose_centre_does_not_exist_says_it_is_not_set_up(client: FlaskClient) -> None:
    response = client.get("/kiosk/")
    assert response.status_code == 503
    assert "这台自助机还没有设置好" in response.get_data(as_text=True)


def test_the_idle_limit_reaches_the_page_from_config(kiosk: KioskActions) -> None:
    kiosk.client.application.config["KIOSK_IDLE_SECONDS"] = 90
    page = kiosk.home()
    assert 'data-idle-seconds="90"' in page
    assert 'data-warning-seconds="20"' in page


def test_a_refused_csrf_post_is_sent_with_no_store(client: FlaskClient, demo: None) -> None:
    response = client.post("/kiosk/sign-in", data={"phone": "13800000001", "pin": "275139"})
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"


def test_the_not_set_up_page_is_sent_with_no_store(client: FlaskClient) -> None:
    assert client.get("/kiosk/").headers["Cache-Control"] == "no-store"
