"""The resident's tools on loan, read from the phone: what, since when, due when.

A loan not overdue can be kept longer through the kiosk's own renewal (the lending service's
rules and the kiosk's words); returning happens at the lockers or the counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.lending import eligibility, renewals
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from kiosk.extensions import clock, database
from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.lending import words as lending_words
from kiosk.touch.lending.ahead import RENEWED
from kiosk.touch.spaces import words as booking_words


@dataclass(frozen=True)
class LoanLine:
    id: int
    tool: str
    asset_tag: str
    started: str
    due: str
    due_at: datetime
    overdue: bool


def loan_lines(
    session: Session, *, resident_id: int, site_id: int, timezone: str
) -> list[LoanLine]:
    """The resident's open loans at the centre, soonest due first, in the page's language."""
    return [
        _line(session, loan, timezone)
        for loan in eligibility.open_loans(session, site_id=site_id, resident_id=resident_id)
    ]


def _line(session: Session, loan: Loan, timezone: str) -> LoanLine:
    item = session.get_one(Item, loan.item_id)
    tool_type = session.get_one(ToolType, item.tool_type_id)
    return LoanLine(
        id=loan.id,
        tool=booking_words.in_language(tool_type.name_zh, tool_type.name_en),
        asset_tag=item.asset_tag,
        started=booking_words.moment_text(loan.started_at, timezone),
        due=booking_words.moment_text(loan.due_at, timezone),
        due_at=loan.due_at,
        overdue=loan.status is LoanStatus.OVERDUE,
    )


@resident_required
def my_loans(resident: PhoneResident) -> ResponseReturnValue:
    site = phone_session.current_site()
    with database().read() as session:
        loans = loan_lines(session, resident_id=resident.id, site_id=site.id,
                           timezone=site.timezone)  # fmt: skip
    return render_template("mobile/loans.html", loans=loans)


@resident_required
def renew(resident: PhoneResident, loan_id: int) -> ResponseReturnValue:
    site = phone_session.current_site()
    try:
        with database().write() as session:
            loan = renewals.renew_loan(session, site_id=site.id, loan_id=loan_id,
                                       resident_id=resident.id, now=clock().now())  # fmt: skip
            due = loan.due_at
    except DomainError as error:
        flash(lending_words.refusal(error, timezone=site.timezone), "error")
    else:
        flash(str(RENEWED) % {"date": lending_words.moment_label(due, site.timezone)}, "info")
    return redirect(url_for("mobile.my_loans", _anchor=f"loan-{loan_id}"))
