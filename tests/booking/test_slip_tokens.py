"""A slip's QR code carries an unguessable token, never an id: given once per booking or loan,
different for each, and at another centre's kiosk it names nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from booking_centre import Centre, build_centre

from booking.core import slip_codes
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import CheckInTooEarly
from booking.spaces import seats, slip_tokens
from booking.spaces.models.bookings import Booking, BookingStatus


def book(database: Database, clock: FrozenClock, centre: Centre, *, seat: int = 0,
         resident: int = 0, later: timedelta = timedelta(0)) -> int:  # fmt: skip
    start = clock.now() + later
    with database.write() as session:
        return seats.book_seat(
            session, resident_id=centre.residents[resident], seat_id=centre.seats[seat],
            starts_at=start, ends_at=start + timedelta(hours=1), now=clock.now(),
        ).id  # fmt: skip


def code_of(database: Database, booking_id: int) -> str:
    with database.write() as session:
        return slip_tokens.slip_code(session, session.get_one(Booking, booking_id))


def test_a_booking_slip_code_carries_a_long_random_token_and_not_the_booking_id(
    any_database: Database, clock: FrozenClock, centre: Centre
) -> None:
    first = book(any_database, clock, centre, seat=0, resident=0)
    second = book(any_database, clock, centre, seat=1, resident=1)
    codes = [code_of(any_database, first), code_of(any_database, second)]
    read = [slip_codes.read(code) for code in codes]
    assert all(r is not None and r.kind is slip_codes.SlipKind.BOOKING for r in read)
    tokens = [r.token for r in read if r is not None]
    assert tokens[0] != tokens[1]
    assert all(len(token) >= 32 for token in tokens)
    # Nothing of the id or the reference: the next booking's code cannot be worked out.
    for booking_id, code in ((first, codes[0]), (second, codes[1])):
        assert f"{booking_id:06d}" not in code
        assert code != slip_codes.text_of(slip_codes.SlipKind.BOOKING, str(booking_id))


def test_a_reprinted_slip_carries_the_same_token_as_the_first(
    any_database: Database, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book(any_database, clock, centre)
    assert code_of(any_database, booking_id) == code_of(any_database, booking_id)


def test_a_scanned_slip_checks_its_seat_booking_in_by_the_kiosk_rule(
    any_database: Database, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book(any_database, clock, centre)
    token = slip_codes.read(code_of(any_database, booking_id))
    assert token is not None
    with any_database.write() as session:
        found = slip_tokens.booking_of(session, site_id=centre.site_id, token=token.token)
        slip_tokens.check_in_by_slip(
            session, site_id=centre.site_id, booking_id=found.id, now=clock.now()
        )
    with any_database.read() as session:
        assert session.get_one(Booking, booking_id).status is BookingStatus.CHECKED_IN


def test_a_slip_scanned_too_early_is_refused_like_a_tap_on_the_kiosk(
    any_database: Database, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book(any_database, clock, centre, later=timedelta(hours=2))
    with any_database.write() as session, pytest.raises(CheckInTooEarly):
        slip_tokens.check_in_by_slip(
            session, site_id=centre.site_id, booking_id=booking_id, now=clock.now()
        )
    with any_database.read() as session:
        assert session.get_one(Booking, booking_id).status is BookingStatus.CONFIRMED


def test_another_centres_slip_names_no_booking_here(
    any_database: Database, clock: FrozenClock, centre: Centre
) -> None:
    other = build_centre(any_database, clock, slug="other", phones_from=50, staff_name="qian")
    booking_id = book(any_database, clock, other)
    token = slip_codes.read(code_of(any_database, booking_id))
    assert token is not None
    with any_database.write() as session:
        with pytest.raises(slip_tokens.SlipUnknown):
            slip_tokens.booking_of(session, site_id=centre.site_id, token=token.token)
        with pytest.raises(slip_tokens.SlipUnknown):
            slip_tokens.check_in_by_slip(
                session, site_id=centre.site_id, booking_id=booking_id, now=clock.now()
            )
    with any_database.read() as session:
        assert session.get_one(Booking, booking_id).status is BookingStatus.CONFIRMED


@pytest.mark.parametrize(
    "text",
    [
        "",
        "LINLI:B:",
        "LINLI:B:12",  # a bare id
        "LINLI DEMO-000012",  # the old slips' reference line
        "LINLI:X:" + "a" * 32,
        "https://pay.example/qr/" + "a" * 32,
        "LINLI:B:" + "a" * 31,
        "LINLI:B:" + "a" * 31 + "!",
    ],
)
def test_text_that_is_not_a_slips_code_reads_as_no_slip(text: str) -> None:
    assert slip_codes.read(text) is None


def test_a_scanner_s_trailing_newline_does_not_spoil_a_code() -> None:
    token = slip_codes.new_token()
    read = slip_codes.read(slip_codes.text_of(slip_codes.SlipKind.LOAN, token) + "\r\n")
    assert read == slip_codes.SlipCode(slip_codes.SlipKind.LOAN, token)
