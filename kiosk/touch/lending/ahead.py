"""The kiosk's tools ahead of time: reserving a tool for a day and a window, queueing for
one when none is free, cancelling either, and renewing a loan (from "my tools").

Each is one POST into a domain service (``booking.lending.reservations``,
``booking.lending.renewals``); a refusal is flashed in the resident's words and changes
nothing. The held tool itself is opened like staff's holds, from the tool pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.lending import catalogue as lending_catalogue
from booking.lending import renewals, reservations
from booking.lending.models.reservations import ReservationKind, ReservationStatus
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import SERVICES_BY_SLUG
from kiosk.touch.forms import ReserveToolForm
from kiosk.touch.lending import words as lending_words
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required

SERVICE = SERVICES_BY_SLUG["tools"]
# The windows a resident chooses from, in the centre's local time: short words, big buttons.
WINDOWS: dict[str, tuple[LazyString, time, time]] = {
    "morning": (_l("Morning, 9:00 to 12:00"), time(9), time(12)),
    "afternoon": (_l("Afternoon, 14:00 to 17:00"), time(14), time(17)),
    "evening": (_l("Evening, 18:00 to 20:00"), time(18), time(20)),
}
DAYS_SHOWN = 7
RESERVED = _l("Reserved. We will keep it in the locker from %(time)s for 2 hours.")
QUEUED = _l("You are number %(number)d in the queue. We will send you a message when it is back.")
CANCELLED = _l("Cancelled.")
RENEWED = _l("Renewed. Please return it by %(date)s.")


def _zone() -> ZoneInfo:
    return ZoneInfo(kiosk_session.current_site().timezone)


@dataclass(frozen=True)
class DayChoice:
    value: str
    label: str


def _days(now: datetime) -> list[DayChoice]:
    """Tomorrow and the days after it (today's windows may have begun)."""
    today = now.astimezone(_zone()).date()
    days = [today + timedelta(days=n) for n in range(1, DAYS_SHOWN + 1)]
    return [DayChoice(day.isoformat(), lending_words.day_label(day)) for day in days]


@resident_required
def reserve_form(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    """Choose a day and a window for a tool."""
    with database().read() as session:
        try:
            tool_type = lending_catalogue.get_tool_type(
                session, site_id=kiosk_session.current_site().id, tool_type_id=tool_type_id
            )
        except DomainError:
            abort(404)
        names = {"name_zh": tool_type.name_zh, "name_en": tool_type.name_en,
                 "icon": tool_type.icon}  # fmt: skip
    return render_template(
        "touch/tools_reserve.html", service=SERVICE, tool=names, tool_type_id=tool_type_id,
        days=_days(clock().now()), windows=WINDOWS,
    )  # fmt: skip


def _window(form: ReserveToolForm, now: datetime) -> tuple[datetime, datetime] | None:
    choice = WINDOWS.get(form.text("window"))
    try:
        day = date.fromisoformat(form.text("day"))
    except ValueError:
        return None
    if choice is None or day.isoformat() not in {d.value for d in _days(now)}:
        return None
    zone = _zone()
    return (datetime.combine(day, choice[1], zone), datetime.combine(day, choice[2], zone))


@resident_required
def reserve(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    now = clock().now()
    window = _window(ReserveToolForm.read(), now)
    if window is None:
        flash(str(lending_words.CHOOSE_WINDOW), "error")
        return redirect(url_for("touch.reserve_tool_form", tool_type_id=tool_type_id))
    try:
        with database().write() as session:
            reservations.reserve(
                session, site_id=site.id, resident_id=resident.id, tool_type_id=tool_type_id,
                starts_at=window[0], ends_at=window[1], now=now,
            )  # fmt: skip
    except DomainError as error:
        flash(lending_words.refusal(error, timezone=site.timezone), "error")
        return redirect(url_for("touch.reserve_tool_form", tool_type_id=tool_type_id))
    flash(str(RESERVED) % {"time": lending_words.moment_label(window[0], site.timezone)}, "info")
    return redirect(url_for("touch.tools_mine", _anchor="my-reservations"))


@resident_required
def join_queue(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    try:
        with database().write() as session:
            made = reservations.join_queue(session, site_id=site.id, resident_id=resident.id,
                                           tool_type_id=tool_type_id, now=clock().now())  # fmt: skip
            place = reservations.view_of(session, made).position or 1
    except DomainError as error:
        flash(lending_words.refusal(error, timezone=site.timezone), "error")
        return redirect(url_for("touch.tools", _anchor=f"tool-{tool_type_id}"))
    flash(str(QUEUED) % {"number": place}, "info")
    return redirect(url_for("touch.tools_mine", _anchor="my-reservations"))


@resident_required
def cancel(resident: KioskResident, reservation_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    try:
        with database().write() as session:
            reservations.cancel_reservation(session, site_id=site.id, reservation_id=reservation_id,
                                            resident_id=resident.id, now=clock().now())  # fmt: skip
    except DomainError as error:
        flash(lending_words.refusal(error, timezone=site.timezone), "error")
    else:
        flash(str(CANCELLED), "info")
    return redirect(url_for("touch.tools_mine", _anchor="my-reservations"))


@resident_required
def renew(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    try:
        with database().write() as session:
            loan = renewals.renew_loan(session, site_id=site.id, loan_id=loan_id,
                                       resident_id=resident.id, now=clock().now())  # fmt: skip
            due = loan.due_at
    except DomainError as error:
        flash(lending_words.refusal(error, timezone=site.timezone), "error")
    else:
        flash(str(RENEWED) % {"date": lending_words.moment_label(due, site.timezone)}, "info")
    return redirect(url_for("touch.tools_mine", _anchor=f"loan-{loan_id}"))


@dataclass(frozen=True)
class ReservationLine:
    """One of the resident's reservations as "my tools" lists it."""

    id: int
    name_zh: str
    name_en: str
    icon: str
    text: str


def my_reservation_lines(
    session: Session, *, resident_id: int, timezone: str
) -> list[ReservationLine]:
    lines = []
    site_id = kiosk_session.current_site().id
    for view in reservations.my_reservations(session, site_id=site_id, resident_id=resident_id):
        row = view.reservation
        if row.status is ReservationStatus.HELD and view.held_until is not None:
            text = str(lending_words.HELD_UNTIL) % {
                "time": lending_words.moment_label(view.held_until, timezone)
            }
        elif row.kind is ReservationKind.QUEUE:
            text = str(lending_words.IN_QUEUE) % {"number": view.position or 1}
        else:
            assert row.window_starts_at is not None and row.window_ends_at is not None
            text = str(lending_words.RESERVED_FOR) % {
                "time": lending_words.moment_label(row.window_starts_at, timezone),
                "end": row.window_ends_at.astimezone(ZoneInfo(timezone)).strftime("%H:%M"),
            }
        lines.append(ReservationLine(row.id, view.tool_type.name_zh, view.tool_type.name_en,
                                     view.tool_type.icon, text))  # fmt: skip
    return lines
