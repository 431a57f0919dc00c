"""The kiosk's reader setup page: staff type the pairing code the console gave them, and
this screen's browser is paired with that reader (``paired``). The page is reached by its
address only; no button on the kiosk leads to it."""

from __future__ import annotations

from flask import make_response, render_template
from flask.typing import ResponseReturnValue

from booking.core.errors import DomainError
from devices.kiosk_reader import pairing
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import PairingForm
from kiosk.touch.reader import paired
from kiosk.touch.reader import words as reader_words


def setup_form() -> ResponseReturnValue:
    return render_template("touch/reader_setup.html", paired_with=paired.paired_device_id())


def pair() -> ResponseReturnValue:
    code = PairingForm.read().text("code")
    if len(code) != pairing.CODE_DIGITS or not code.isdigit():
        return render_template(
            "touch/reader_setup.html", error=str(reader_words.PAIRING_HELP),
            paired_with=paired.paired_device_id(),
        ), 422  # fmt: skip
    site = kiosk_session.current_site()
    try:
        with database().write() as session:
            device_id = pairing.redeem_code(
                session, site_id=site.id, code=code, now=clock().now()
            ).device_id
    except DomainError:
        return render_template(
            "touch/reader_setup.html", error=str(reader_words.PAIRING_WRONG),
            paired_with=paired.paired_device_id(),
        ), 422  # fmt: skip
    response = make_response(
        render_template(
            "touch/reader_setup.html",
            done=str(reader_words.PAIRED) % {"device": device_id},
            paired_with=device_id,
        )
    )
    return paired.pair(response, device_id)
