"""Signing in with a card tapped on the screen's reader: the card says who, the PIN is
still asked. The page shows only the masked name and the phone's last four digits; the PIN
goes through the same check, throttle and session as the phone sign-in
(:func:`kiosk.touch.controllers.sign_in_resident`)."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, url_for
from flask import session as browser_session
from flask.typing import ResponseReturnValue

from booking.core.errors import DomainError, TooManySignIns
from booking.people import residents
from booking.people.models.residents import Resident
from devices.kiosk_reader import scans
from kiosk import sign_in_waits
from kiosk.extensions import clock, database
from kiosk.touch import controllers
from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import CardPinForm
from kiosk.touch.messages import message_for
from kiosk.touch.reader import acts, paired
from kiosk.touch.reader import words as reader_words
from kiosk.touch.spaces import my_bookings

# How long after the tap the PIN may be typed: the length of a slow resident's PIN, not of
# someone else's turn at the screen.
PIN_WINDOW = timedelta(minutes=2)


def _card_holder() -> tuple[int, str, str, str] | None:
    """(id, masked name, phone, phone's last four) of the card tapped here just now."""
    scan_id, device_id = browser_session.get(acts.CARD_KEY), paired.paired_device_id()
    if not isinstance(scan_id, int) or device_id is None:
        return None
    site = kiosk_session.current_site()
    with database().read() as session:
        scan = scans.taken_scan(
            session, scan_id=scan_id, site_id=site.id, device_id=device_id, within=PIN_WINDOW,
            now=clock().now(),
        )  # fmt: skip
        resident = session.get(Resident, scan.target_id) if scan and scan.target_id else None
        if resident is None or not resident.is_active:
            return None
        return resident.id, resident.masked_name, resident.phone, resident.phone[-4:]


def _too_slow() -> ResponseReturnValue:
    browser_session.pop(acts.CARD_KEY, None)
    return redirect(acts.say(reader_words.CARD_TOO_SLOW, ok=False))


def card_sign_in_form() -> ResponseReturnValue:
    holder = _card_holder()
    if holder is None:
        return _too_slow()
    _, masked_name, _, last_four = holder
    return render_template("touch/card_sign_in.html", masked_name=masked_name,
                           last_four=last_four)  # fmt: skip


def card_sign_in() -> ResponseReturnValue:
    holder = _card_holder()
    if holder is None:
        return _too_slow()
    resident_id, masked_name, phone, last_four = holder
    pin = CardPinForm.read().text("pin")

    def again(
        message: str, status: int, headers: dict[str, str] | None = None
    ) -> ResponseReturnValue:
        return render_template(
            "touch/card_sign_in.html", masked_name=masked_name, last_four=last_four,
            error=message,
        ), status, headers or {}  # fmt: skip

    if not residents.PIN_PATTERN.match(pin):
        return again(str(controllers.PIN_HELP), 422)
    outcome = controllers.sign_in_resident(phone, pin)
    if isinstance(outcome, TooManySignIns):
        return again(sign_in_waits.wait_words(outcome), outcome.status,
                     sign_in_waits.headers(outcome))  # fmt: skip
    if isinstance(outcome, DomainError):
        site = kiosk_session.current_site()
        return again(message_for(outcome, timezone=site.timezone), outcome.status)
    browser_session.pop(acts.CARD_KEY, None)
    landing = my_bookings.landing_after_sign_in(resident_id, kiosk_session.current_site().id)
    return redirect(landing or url_for("touch.home"))
