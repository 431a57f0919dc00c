"""The resident's tools on loan, read from the phone: what, since when, due when.

A loan not overdue can be kept longer through the kiosk's own renewal (the lending service's
rules and the kiosk's words); returning happens at the lockers or the counter. The tools
reserved ahead and the queue places are listed here too, to cancel (kiosk.mobile.tools_ahead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from booking.lending import eligibility
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from kiosk.extensions import clock, database
from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.lending import reserving
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


@dataclass(frozen=True)
class ReservationLine:
    """A reservation or queue place as the phone lists it: the tool in the page's language."""

    id: int
    tool: str
    text: str


def loans_page(
    resident: PhoneResident, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    """The loans, then the reservations and queue places (each with its cancel button)."""
    site = phone_session.current_site()
    with database().read() as session:
        loans = loan_lines(session, resident_id=resident.id, site_id=site.id,
                           timezone=site.timezone)  # fmt: skip
        waiting = [
            ReservationLine(line.id, booking_words.in_language(line.name_zh, line.name_en),
                            line.text)
            for line in reserving.my_reservation_lines(
                session, site_id=site.id, resident_id=resident.id, timezone=site.timezone
            )
        ]  # fmt: skip
    return render_template(
        "mobile/loans.html", loans=loans, reservations=waiting, error=error
    ), status


@resident_required
def my_loans(resident: PhoneResident) -> ResponseReturnValue:
    return loans_page(resident)


@resident_required
def renew(resident: PhoneResident, loan_id: int) -> ResponseReturnValue:
    site = phone_session.current_site()
    outcome = reserving.renew(site_id=site.id, timezone=site.timezone, resident_id=resident.id,
                              loan_id=loan_id, now=clock().now())  # fmt: skip
    if not outcome.done:
        return loans_page(resident, outcome.words, outcome.status)
    flash(outcome.words, "success")
    return redirect(url_for("mobile.my_loans"))
