"""Chinese first, English second: the resident's choice is kept for the visit."""

from __future__ import annotations

import flask_babel
import pytest
from flask import Flask, g, session
from flask.testing import FlaskClient

from kiosk.i18n import SESSION_KEY, babel_namespace, forget_locale
from tests.kiosk.conftest import KioskActions


def switch(kiosk: KioskActions, locale: str, next: str = "/kiosk/") -> FlaskClient:
    response = kiosk.client.post(
        "/kiosk/language",
        data={"locale": locale, "next": next, "csrf_token": kiosk.csrf_token()},
    )
    assert response.status_code == 302, response.status_code
    return kiosk.client


def test_the_kiosk_speaks_chinese_until_told_otherwise(kiosk: KioskActions) -> None:
    page = kiosk.home()
    assert '<html lang="zh-CN">' in page
    assert "借工具" in page
    assert 'value="en"' in page  # the switch offers English


def test_the_language_switch_turns_the_kiosk_english_and_back(kiosk: KioskActions) -> None:
    switch(kiosk, "en")
    page = kiosk.home()
    assert '<html lang="en">' in page
    assert "Borrow tools" in page
    assert "Xinhua Neighbourhood Centre" in page
    assert 'value="zh_CN"' in page
    switch(kiosk, "zh_CN")
    assert "借工具" in kiosk.home()


def test_the_language_switch_returns_to_the_page_it_was_pressed_on(kiosk: KioskActions) -> None:
    response = kiosk.client.post(
        "/kiosk/language",
        data={"locale": "en", "next": "/kiosk/services/study", "csrf_token": kiosk.csrf_token()},
    )
    assert response.location == "/kiosk/services/study"


@pytest.mark.parametrize(
    "next", ["https://evil.example/kiosk/", "//evil.example/kiosk/", "/staff/", "javascript:x"]
)
def test_the_language_switch_never_leaves_the_kiosk(kiosk: KioskActions, next: str) -> None:
    response = kiosk.client.post(
        "/kiosk/language", data={"locale": "en", "next": next, "csrf_token": kiosk.csrf_token()}
    )
    assert response.location == "/kiosk/"


def test_an_unknown_language_is_refused_and_changes_nothing(kiosk: KioskActions) -> None:
    response = kiosk.client.post(
        "/kiosk/language", data={"locale": "fr", "csrf_token": kiosk.csrf_token()}
    )
    assert response.status_code == 400
    assert "借工具" in kiosk.home()


def test_a_signed_in_resident_is_greeted_in_english_after_switching(kiosk: KioskActions) -> None:
    kiosk.sign_in()
    switch(kiosk, "en")
    assert "Hello, 王*英" in kiosk.home()


def test_the_wait_after_wrong_pins_is_said_in_chinese_then_english_whatever_the_language(
    kiosk: KioskActions,
) -> None:
    switch(kiosk, "en")
    for _ in range(3):
        kiosk.sign_in(pin="9999")
    text = kiosk.sign_in().get_data(as_text=True)
    chinese, english = text.index("请 30 秒后再试"), text.index("Please try again in 30 seconds.")
    assert chinese < english


def test_flask_babel_keeps_its_per_request_state_where_it_always_did(app: Flask) -> None:
    """kiosk.i18n finds Flask-Babel's namespace with one context lookup: the same ``g``
    attribute, none outside a context, and forgetting the locale still takes effect at once."""
    assert flask_babel._get_current_context is babel_namespace
    assert babel_namespace() is None
    with app.test_request_context("/kiosk/"):
        session[SESSION_KEY] = "en"
        assert flask_babel.gettext("Borrow tools") == "Borrow tools"
        assert babel_namespace() is g._flask_babel
        assert str(flask_babel.get_locale()) == "en"
        forget_locale()
        assert flask_babel.gettext("Borrow tools") == "借工具"
    with app.app_context():
        assert babel_namespace() is g._flask_babel


def test_each_language_is_parsed_once_for_the_process(app: Flask) -> None:
    with app.test_request_context("/kiosk/"):
        chinese = flask_babel.get_locale()
    with app.test_request_context("/kiosk/"):
        assert flask_babel.get_locale() is chinese
        session[SESSION_KEY] = "en"
        flask_babel.refresh()
        english = flask_babel.get_locale()
    assert chinese is not None and english is not None
    assert (chinese.language, chinese.territory, english.language) == ("zh", "CN", "en")
