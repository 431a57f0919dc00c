"""The console's tools ahead of time: renewing a loan from its row, and each tool's
reservations and queue (with a cancel for each). Every change goes through the domain
services the kiosk uses, with the staff member named in the history and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select

from booking.core.errors import DomainError
from booking.lending import lookups as lending_lookups
from booking.lending import renewals, reservations
from booking.lending.models.reservations import ReservationKind, ReservationStatus
from booking.people.models.residents import Resident
from kiosk.extensions import clock, database
from kiosk.staff.lending import words as lending_words
from kiosk.staff.session import console_site_id

NOT_RENEWED_OVERDUE = _l("Only a loan that is not overdue or returned can be renewed.")


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button's POST: its CSRF token is all it carries."""


@dataclass(frozen=True)
class Line:
    """One reservation or queue place as the console lists it."""

    id: int
    resident_id: int
    resident_name: str
    resident_phone: str
    queue: bool
    held: bool
    position: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    held_until: datetime | None


@dataclass(frozen=True)
class ToolLines:
    name_zh: str
    name_en: str
    lines: list[Line]


def renew(loan_id: int) -> ResponseReturnValue:
    """Renew a loan for its resident, from its row; back to the resident's loans."""
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired: nothing was changed. Try again."), "error")
        return redirect(url_for("staff.lending"), 303)
    try:
        with database().write() as session:
            loan = renewals.renew_loan(session, site_id=console_site_id(), loan_id=loan_id,
                                       staff=g.staff, now=clock().now())  # fmt: skip
            resident_id = loan.resident_id
    except DomainError as error:
        words = NOT_RENEWED_OVERDUE if error.code == "wrong_lending_state" else None
        flash(str(words or lending_words.refusal(error.code)), "error")
        return redirect(url_for("staff.lending"), 303)
    flash(_("Renewed: the new due date is in the loan's row."), "info")
    return redirect(url_for("staff.lending_resident", resident_id=resident_id), 303)


def tool_reservations() -> ResponseReturnValue:
    """Each tool's reservations ahead and its queue, in the order items go to them."""
    site_id = console_site_id()
    tools = []
    with database().read() as session:
        every_tool = lending_lookups.tool_types(session, site_id=site_id)
        by_type = reservations.reservations_by_type(session, site_id=site_id,
                                                    tool_types=every_tool)  # fmt: skip
        people = {resident.id: resident for resident in session.scalars(select(Resident).where(
            Resident.id.in_({v.reservation.resident_id for vs in by_type.values() for v in vs})
        ))}  # fmt: skip
        for tool in every_tool:
            lines = []
            for view in by_type.get(tool.id, []):
                row = view.reservation
                resident = people[row.resident_id]
                lines.append(Line(
                    id=row.id, resident_id=resident.id, resident_name=resident.name,
                    resident_phone=resident.phone, queue=row.kind is ReservationKind.QUEUE,
                    held=row.status is ReservationStatus.HELD, position=view.position,
                    starts_at=row.window_starts_at, ends_at=row.window_ends_at,
                    held_until=view.held_until,
                ))  # fmt: skip
            if lines:
                tools.append(ToolLines(tool.name_zh, tool.name_en, lines))
    return render_template("staff/lending_reservations.html", tools=tools, form=ActionForm())


def cancel(reservation_id: int) -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired: nothing was changed. Try again."), "error")
        return redirect(url_for("staff.lending_reservations"), 303)
    try:
        with database().write() as session:
            reservations.cancel_reservation(session, site_id=console_site_id(),
                                            reservation_id=reservation_id, staff=g.staff,
                                            now=clock().now())  # fmt: skip
    except DomainError as error:
        flash(str(lending_words.refusal(error.code)), "error")
    else:
        flash(_("The reservation was cancelled; a tool held for it goes to the next."), "info")
    return redirect(url_for("staff.lending_reservations"), 303)
