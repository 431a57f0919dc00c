"""A loan slip's QR code: giving a loan its token, and finding the loan a scanned slip names.

The code carries the token (booking.core.slip_codes), never the loan's id. Scanning it only
finds the loan; its return goes through the locker's door session like any other
(devices.locker.opening.start_return), and the loan ends only when the locker confirms.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import slip_codes
from booking.core.errors import NotFound
from booking.lending.models.loans import Loan


class LoanSlipUnknown(NotFound):
    """No loan of this site carries the scanned token: nothing is changed."""

    code = "loan_slip_unknown"


def slip_code(session: Session, loan: Loan) -> str:
    """The text of the loan's QR code, giving the loan its token on first use."""
    token = loan.give_slip_token(slip_codes.new_token())
    session.flush()
    return slip_codes.text_of(slip_codes.SlipKind.LOAN, token)


def loan_of(session: Session, *, site_id: int, token: str) -> Loan:
    """The site's loan whose slip carries ``token``; :class:`LoanSlipUnknown` otherwise."""
    loan = session.scalar(select(Loan).where(Loan.slip_token == token, Loan.site_id == site_id))
    if loan is None:
        raise LoanSlipUnknown("no loan of this site has that slip")
    return loan
