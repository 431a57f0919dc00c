"""Tools ahead of time as the kiosk and the phone page both offer them: the days and windows a
resident chooses from, each action as one write through its domain service, and the
resident's reservations as lines to read.

Each action answers an :class:`Outcome` (the words to show, and the status of a refusal):
the page it came from decides only how to show them (a flash and a redirect at the kiosk, the
page again on the phone). A refusal changes nothing: the service raised before any write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.lending import renewals, reservations
from booking.lending.models.reservations import ReservationKind, ReservationStatus
from kiosk.extensions import database
from kiosk.touch.forms import ReserveToolForm
from kiosk.touch.lending import words as lending_words

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


@dataclass(frozen=True)
class DayChoice:
    value: str
    label: str


def days(now: datetime, timezone: str) -> list[DayChoice]:
    """Tomorrow and the days after it (today's windows may have begun)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    shown = [today + timedelta(days=n) for n in range(1, DAYS_SHOWN + 1)]
    return [DayChoice(day.isoformat(), lending_words.day_label(day)) for day in shown]


def window_of(
    form: ReserveToolForm, now: datetime, timezone: str
) -> tuple[datetime, datetime] | None:
    """The window the form chose, or None for a day or window not offered (typed by hand)."""
    choice = WINDOWS.get(form.text("window"))
    try:
        day = date.fromisoformat(form.text("day"))
    except ValueError:
        return None
    if choice is None or day.isoformat() not in {d.value for d in days(now, timezone)}:
        return None
    zone = ZoneInfo(timezone)
    return (datetime.combine(day, choice[1], zone), datetime.combine(day, choice[2], zone))


@dataclass(frozen=True)
class Outcome:
    """What became of an action: the words for the resident, and a status >= 400 if refused."""

    words: str
    status: int = 200

    @property
    def done(self) -> bool:
        return self.status < 400


def _refused(error: DomainError, timezone: str) -> Outcome:
    return Outcome(lending_words.refusal(error, timezone=timezone), error.status)


def reserve(
    *, site_id: int, timezone: str, resident_id: int, tool_type_id: int,
    form: ReserveToolForm, now: datetime,
) -> Outcome:  # fmt: skip
    window = window_of(form, now, timezone)
    if window is None:
        return Outcome(str(lending_words.CHOOSE_WINDOW), 422)
    try:
        with database().write() as session:
            reservations.reserve(
                session, site_id=site_id, resident_id=resident_id, tool_type_id=tool_type_id,
                starts_at=window[0], ends_at=window[1], now=now,
            )  # fmt: skip
    except DomainError as error:
        return _refused(error, timezone)
    return Outcome(str(RESERVED) % {"time": lending_words.moment_label(window[0], timezone)})


def join_queue(
    *, site_id: int, timezone: str, resident_id: int, tool_type_id: int, now: datetime
) -> Outcome:
    try:
        with database().write() as session:
            made = reservations.join_queue(session, site_id=site_id, resident_id=resident_id,
                                           tool_type_id=tool_type_id, now=now)  # fmt: skip
            place = reservations.view_of(session, made).position or 1
    except DomainError as error:
        return _refused(error, timezone)
    return Outcome(str(QUEUED) % {"number": place})


def cancel(
    *, site_id: int, timezone: str, resident_id: int, reservation_id: int, now: datetime
) -> Outcome:
    """Another resident's or another centre's reservation is not found, as one that never was."""
    try:
        with database().write() as session:
            reservations.cancel_reservation(session, site_id=site_id, reservation_id=reservation_id,
                                            resident_id=resident_id, now=now)  # fmt: skip
    except DomainError as error:
        return _refused(error, timezone)
    return Outcome(str(CANCELLED))


def renew(*, site_id: int, timezone: str, resident_id: int, loan_id: int, now: datetime) -> Outcome:
    try:
        with database().write() as session:
            loan = renewals.renew_loan(session, site_id=site_id, loan_id=loan_id,
                                       resident_id=resident_id, now=now)  # fmt: skip
            due = loan.due_at
    except DomainError as error:
        return _refused(error, timezone)
    return Outcome(str(RENEWED) % {"date": lending_words.moment_label(due, timezone)})


@dataclass(frozen=True)
class ReservationLine:
    """One of the resident's reservations as "my tools" lists it."""

    id: int
    name_zh: str
    name_en: str
    icon: str
    text: str


def my_reservation_lines(
    session: Session, *, site_id: int, resident_id: int, timezone: str
) -> list[ReservationLine]:
    lines = []
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
