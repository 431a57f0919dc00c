"""A loan slip's QR code: a token of its own per loan, found only at the loan's own centre."""

from __future__ import annotations

import pytest
from lending_centre import Station, build_station, staff_of

from booking.core import slip_codes
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import operations as lending
from booking.lending import slip_tokens
from booking.lending.models.loans import Loan


def lend(database: Database, clock: FrozenClock, station: Station, resident: int, item: int) -> int:
    with database.write() as session:
        return lending.lend_at_counter(
            session, staff=staff_of(session, station), item_id=item,
            resident_id=station.residents[resident], now=clock.now(),
        ).id  # fmt: skip


def code_of(database: Database, loan_id: int) -> str:
    with database.write() as session:
        return slip_tokens.slip_code(session, session.get_one(Loan, loan_id))


def test_each_loan_slip_carries_its_own_token_and_finds_its_loan(
    database: Database, clock: FrozenClock, station: Station
) -> None:
    cart = lend(database, clock, station, 0, station.cart)
    drill = lend(database, clock, station, 1, station.drills[0])
    codes = {loan_id: code_of(database, loan_id) for loan_id in (cart, drill)}
    assert codes[cart] != codes[drill]
    # Printed again, the slip says the same.
    assert code_of(database, cart) == codes[cart]
    for loan_id, code in codes.items():
        read = slip_codes.read(code)
        assert read is not None and read.kind is slip_codes.SlipKind.LOAN
        assert len(read.token) >= 32 and str(loan_id) != read.token
        with database.read() as session:
            assert slip_tokens.loan_of(session, site_id=station.site_id, token=read.token).id == (
                loan_id
            )


def test_another_centres_loan_slip_finds_nothing_here(
    database: Database, clock: FrozenClock, station: Station
) -> None:
    other = build_station(database, clock, slug="other")
    loan_id = lend(database, clock, other, 0, other.cart)
    read = slip_codes.read(code_of(database, loan_id))
    assert read is not None
    with database.read() as session, pytest.raises(slip_tokens.LoanSlipUnknown):
        slip_tokens.loan_of(session, site_id=station.site_id, token=read.token)
