"""大字 (large text) at the kiosk: one resident's choice for their own visit, kept on every
screen until they sign out or walk away, and never a 500 for a size we do not offer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.test import TestResponse

from booking.core.clock import FrozenClock
from tests.kiosk.conftest import KioskActions, alert_of

LARGE = 'class="text-large"'


def choose(kiosk: KioskActions, size: str, next_page: str = "/kiosk/seats") -> TestResponse:
    return kiosk.client.post(
        "/kiosk/text-size",
        data={"size": size, "next": next_page, "csrf_token": kiosk.csrf_token()},
    )


def test_large_text_is_switched_on_for_the_screen_the_resident_was_on(
    kiosk: KioskActions,
) -> None:
    assert LARGE not in kiosk.home()
    response = choose(kiosk, "large")
    assert response.status_code == 302
    assert response.headers["Location"] == "/kiosk/seats"
    page = kiosk.client.get("/kiosk/seats").get_data(as_text=True)
    assert LARGE in page
    assert 'aria-pressed="true"' in page and 'value="normal"' in page
    choose(kiosk, "normal")
    assert LARGE not in kiosk.home()


def test_large_text_is_kept_through_sign_in_and_dropped_at_sign_out(kiosk: KioskActions) -> None:
    choose(kiosk, "large")
    kiosk.sign_in()
    assert LARGE in kiosk.home()
    kiosk.sign_out()
    assert LARGE not in kiosk.home()


def test_large_text_is_dropped_when_the_resident_is_signed_out_for_being_idle(
    kiosk: KioskActions, clock: FrozenClock
) -> None:
    kiosk.sign_in()
    choose(kiosk, "large")
    assert LARGE in kiosk.home()
    clock.advance(timedelta(seconds=61))
    page = kiosk.home()
    assert 'data-signed-in="false"' in page
    assert LARGE not in page


@pytest.mark.parametrize("size", ["", "huge", "LARGE", "large " * 50])
def test_a_size_we_do_not_offer_is_refused_in_the_residents_words(
    kiosk: KioskActions, size: str
) -> None:
    response = choose(kiosk, size)
    assert response.status_code == 400
    assert alert_of(response.get_data(as_text=True)) == "没有这种字号。请用“大字”按钮。"
    assert LARGE not in kiosk.home()


def test_the_switch_goes_back_only_to_a_kiosk_page(kiosk: KioskActions) -> None:
    response = choose(kiosk, "large", next_page="https://example.com/kiosk/")
    assert response.headers["Location"] == "/kiosk/"
