"""What a read of the screen's reader leads to, decided when the screen takes it.

A card of a member opens the card sign-in page (the PIN is still asked); a booking slip
checks its booking in (booking.spaces.slip_tokens, the kiosk's own check-in rule); a loan
slip starts that loan's return at its locker (devices.locker.opening.start_return: the loan
ends only when the locker says the tool is back). Anything else is said in words, in
Chinese and then English, and changes nothing.

What the browser carries between pages is only ids in Flask's signed session, never a card
number or a token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import session as browser_session
from flask import url_for
from flask_babel import force_locale
from flask_babel.speaklater import LazyString

from booking.core.errors import DomainError
from booking.lending import loans as lending_loans
from booking.lending.errors import LoanNotFound
from booking.spaces import slip_tokens as booking_slips
from devices.kiosk_reader import scans
from devices.locker import opening as lending_locker
from devices.models.reader_scans import ReaderScan, ScanFinding
from kiosk import device_link
from kiosk.extensions import clock, database
from kiosk.touch.lending import door
from kiosk.touch.lending import words as lending_words
from kiosk.touch.messages import message_for
from kiosk.touch.reader import words as reader_words
from kiosk.touch.session import KioskSite

log = logging.getLogger(__name__)

CARD_KEY = "reader_card"
RESULT_KEY = "reader_result"
DOOR_KEY = "reader_door"
LOCALES = ("zh_CN", "en")


def act(site: KioskSite, scan: ReaderScan) -> str:
    """Carry out what the read asks and say which page the screen shows next."""
    if scan.finding is ScanFinding.RESIDENT:
        browser_session[CARD_KEY] = scan.id
        return url_for("touch.card_sign_in_form")
    if scan.finding is ScanFinding.BOOKING and scan.target_id is not None:
        return _check_in(site, scan.target_id)
    if scan.finding is ScanFinding.LOAN and scan.target_id is not None:
        return _start_return(site, scan.target_id)
    unknown = scan.finding is ScanFinding.UNKNOWN_CARD
    return say(reader_words.UNKNOWN_CARD if unknown else reader_words.UNKNOWN_CODE, ok=False)


def say(words: LazyString | str, *, ok: bool, **values: object) -> str:
    """Keep a result for the result page, in both languages, and give its address."""
    said = []
    for locale in LOCALES:
        with force_locale(locale):
            said.append(str(words) % values if values else str(words))
    browser_session[RESULT_KEY] = {"ok": ok, "zh": said[0], "en": said[1]}
    return url_for("touch.reader_result")


def _say_error(site: KioskSite, error: DomainError, words: Callable[..., str] = message_for) -> str:
    said = []
    for locale in LOCALES:
        with force_locale(locale):
            said.append(words(error, timezone=site.timezone))
    browser_session[RESULT_KEY] = {"ok": False, "zh": said[0], "en": said[1]}
    return url_for("touch.reader_result")


def _check_in(site: KioskSite, booking_id: int) -> str:
    failure: DomainError | None = None
    with database().write() as session:
        try:
            booking_slips.check_in_by_slip(
                session, site_id=site.id, booking_id=booking_id, now=clock().now()
            )
        except DomainError as error:
            failure = error
    if isinstance(failure, booking_slips.NoCheckInNeeded):
        return say(reader_words.NO_CHECK_IN, ok=False)
    if isinstance(failure, booking_slips.SlipUnknown):
        return say(reader_words.UNKNOWN_CODE, ok=False)
    if failure is not None:
        log.info("slip check-in refused: %s", failure.code)
        return _say_error(site, failure)
    return say(reader_words.CHECKED_IN, ok=True)


def _start_return(site: KioskSite, loan_id: int) -> str:
    try:
        link = device_link.ensure_live(site.id)
    except DomainError as error:
        return _say_error(site, error, lending_words.refusal)
    failure: DomainError | None = None
    started: tuple[int, int, str | None] | None = None
    with database().write() as session:
        try:
            loan = lending_loans.get_loan(session, site_id=site.id, loan_id=loan_id)
            if loan.is_open:
                found = lending_locker.start_return(
                    session, site_id=site.id, resident_id=loan.resident_id, loan_id=loan.id,
                    now=clock().now(),
                )  # fmt: skip
                started = (found.id, found.resident_id, found.command_id)
        except DomainError as error:
            failure = error
    if isinstance(failure, LoanNotFound) or (failure is None and started is None):
        # A slip kept after its tool came back: nothing to return.
        return say(reader_words.LOAN_ENDED, ok=False)
    if failure is not None or started is None:
        log.info("slip return refused: %s", getattr(failure, "code", "none"))
        return _say_error(site, failure or DomainError(), lending_words.refusal)
    door_id, resident_id, command_id = started
    if command_id is not None:
        door.send_in_background(database(), link, command_id, clock())
    browser_session[DOOR_KEY] = {"door": door_id, "resident": resident_id}
    return url_for("touch.reader_return", door_session_id=door_id)


def take_and_act(site: KioskSite, device_id: str) -> str | None:
    """The reader's newest waiting read, taken now, and the page it leads to (None: none)."""
    with database().read() as session:
        if not scans.any_waiting(session, site_id=site.id, device_id=device_id, now=clock().now()):
            return None
    with database().write() as session:
        scan = scans.take_next(session, site_id=site.id, device_id=device_id, now=clock().now())
        if scan is not None:
            # Taken for good before the row leaves the session: the next poll must not see it.
            session.flush()
            session.expunge(scan)
    return None if scan is None else act(site, scan)
