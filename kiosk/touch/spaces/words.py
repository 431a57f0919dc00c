"""How the kiosk words a booking: names, times, statuses and notices, in the resident's language.

Times are stored in UTC and shown on the site's wall clock; a status is always a word and an
icon together, never a colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from booking.alerts.models.notifications import Notification, NotificationKind
from booking.spaces.models.bookings import BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space


def _(text: str, **values: object) -> str:
    """gettext, typed: flask_babel's returns Any."""
    return str(gettext(text, **values))


def chinese() -> bool:
    return str(get_locale() or "").startswith("zh")


def in_language(zh: str, en: str) -> str:
    return zh if chinese() else en


def space_name(space: Space) -> str:
    return in_language(space.name_zh, space.name_en)


def seat_name(number: int) -> str:
    return _("Seat %(number)d", number=number)


def what(space: Space, seat: Seat | None) -> str:
    """ "Study room, seat 5" or "Dance room"."""
    if seat is None:
        return space_name(space)
    return _("%(room)s, seat %(number)d", room=space_name(space), number=seat.number)


def day_text(day: date, today: date | None = None) -> str:
    """ "11月24日周二" / "Tue, Nov 24", with "today" or "tomorrow" said in words."""
    shown = format_skeleton("MMMEd", day, locale=get_locale() or "zh_CN")
    if today is not None and day == today:
        return _("Today, %(day)s", day=shown)
    if today is not None and (day - today).days == 1:
        return _("Tomorrow, %(day)s", day=shown)
    return shown


def clock_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def period_text(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """ "11月24日周二 10:00–12:00" on the site's wall clock."""
    zone = ZoneInfo(timezone)
    start = starts_at.astimezone(zone)
    return f"{day_text(start.date())} {start:%H:%M}–{ends_at.astimezone(zone):%H:%M}"


def moment_text(moment: datetime, timezone: str) -> str:
    return local_moment(moment, ZoneInfo(timezone))


def local_moment(moment: datetime, zone: tzinfo | None = None) -> str:
    """ "12月10日周四 09:02", the kiosk's template filter ``kiosk_moment``: a moment in ``zone``,
    else in its own. The tool slip, my tools and the blood-pressure pages wrote
    "2026-12-10 09:02" where the bookings beside them say "12月8日周二" (kiosk walk)."""
    local = moment.astimezone(zone) if zone is not None else moment
    return f"{day_text(local.date())} {local:%H:%M}"


def length_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min", minutes=rest)
    if not rest:
        return _("%(hours)d h", hours=hours)
    return _("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)


@dataclass(frozen=True)
class StatusWord:
    word: LazyString
    icon: str
    tone: str  # a CSS class; the word and icon carry the meaning on their own


STATUS_WORDS = {
    BookingStatus.HELD: StatusWord(_l("Offered to you"), "bell", "attention"),
    BookingStatus.PENDING: StatusWord(_l("Waiting for staff approval"), "clock", "attention"),
    BookingStatus.CONFIRMED: StatusWord(_l("Booked"), "check", "good"),
    BookingStatus.CHECKED_IN: StatusWord(_l("Checked in"), "check", "good"),
    BookingStatus.ON_LEAVE: StatusWord(_l("Stepped out"), "clock", "attention"),
    BookingStatus.COMPLETED: StatusWord(_l("Finished"), "check", "plain"),
    BookingStatus.CANCELLED: StatusWord(_l("Cancelled"), "cross", "plain"),
    BookingStatus.REJECTED: StatusWord(_l("Not approved"), "cross", "bad"),
    BookingStatus.NO_SHOW: StatusWord(_l("Missed (no check-in)"), "cross", "bad"),
    BookingStatus.RELEASED: StatusWord(_l("Released (away too long)"), "cross", "bad"),
    BookingStatus.EXPIRED: StatusWord(_l("Offer ran out"), "cross", "plain"),
}


def status_word(status: BookingStatus) -> StatusWord:
    return STATUS_WORDS[status]


NOTICE_TEXTS = {
    NotificationKind.BOOKING_APPROVED: _l("Approved: your booking of %(what)s, %(when)s."),
    NotificationKind.BOOKING_REJECTED: _l(
        "Not approved: your booking of %(what)s, %(when)s. The staff's reason: %(reason)s"
    ),
    NotificationKind.CLOSURE: _l(
        "The room is closed, so your booking was cancelled or shortened: %(what)s, now "
        "%(when)s. Reason: %(reason)s"
    ),
    NotificationKind.WAITLIST_OFFER: _l(
        "Good news: the time you were waiting for is free: %(what)s, %(when)s. "
        "It is kept for you until %(until)s. Accept it below."
    ),
    NotificationKind.NO_SHOW: _l(
        "You did not check in for %(what)s, %(when)s, so the seat was given to others."
    ),
    NotificationKind.SUSPENDED: _l(
        "You missed several bookings, so you cannot book study seats until %(until)s. "
        "Please ask the staff if this is a mistake."
    ),
    NotificationKind.WAITLIST_ENDED: _l(
        "%(what)s is no longer in use, so you are off its waiting list. "
        "Please choose another room, or ask the staff."
    ),
    # A room's reminder; a seat's says when to check in (SEAT_REMINDER_TEXT).
    NotificationKind.BOOKING_REMINDER: _l(
        "Reminder: you have booked %(what)s, %(when)s. Please come on time."
    ),
    NotificationKind.TOOL_RESERVATION_READY: _l(
        "The %(what)s you reserved is ready in the locker, kept for you until %(until)s. "
        "Open it on the Borrow tools page."
    ),
    NotificationKind.TOOL_QUEUE_READY: _l(
        "Good news: a %(what)s you were waiting for is back, kept for you in the locker until "
        "%(until)s. Open it on the Borrow tools page."
    ),
    NotificationKind.TOOL_NO_SHOW: _l(
        "The %(what)s kept for you was not collected in time, so it was given to others."
    ),
}
# The tool notices' detail: the tool's names, "中文\nEnglish", then when its hold ends.
TOOL_NOTICES = (
    NotificationKind.TOOL_RESERVATION_READY,
    NotificationKind.TOOL_QUEUE_READY,
    NotificationKind.TOOL_NO_SHOW,
)
SEAT_REMINDER_TEXT = _l(
    "Reminder: you have booked %(what)s, %(when)s. Please check in at the kiosk "
    "between %(opens)s and %(closes)s, or the seat will be released."
)


def notice_text(
    notification: Notification,
    *,
    space: Space | None,
    seat: Seat | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    hold_expires_at: datetime | None,
    timezone: str,
) -> str:
    """The notice in words, with the booking it is about (if it still exists)."""
    about = what(space, seat) if space is not None else ""
    if notification.kind is NotificationKind.WAITLIST_ENDED:
        about = _retired_space_name(notification.detail)
    if notification.kind in TOOL_NOTICES:
        return _tool_notice(notification, timezone)
    when = period_text(starts_at, ends_at, timezone) if starts_at and ends_at else ""
    until = ""
    if notification.kind is NotificationKind.WAITLIST_OFFER and hold_expires_at is not None:
        until = clock_time(hold_expires_at, timezone)
    elif notification.kind is NotificationKind.SUSPENDED:
        until = _suspension_end(notification.detail, timezone)
    text = NOTICE_TEXTS[notification.kind]
    opens = closes = ""
    if notification.kind is NotificationKind.BOOKING_REMINDER and seat is not None:
        text = SEAT_REMINDER_TEXT
        opens, closes = _check_in_window(notification.detail, timezone)
    return str(text) % {
        "what": about,
        "when": when,
        "reason": notification.detail or "—",
        "until": until,
        "opens": opens,
        "closes": closes,
    }


def _retired_space_name(detail: str) -> str:
    """The room's name in the resident's language, from the notice's "中文\nEnglish"."""
    name_zh, _newline, name_en = detail.partition("\n")
    return in_language(name_zh, name_en or name_zh) or "—"


def _check_in_window(detail: str, timezone: str) -> tuple[str, str]:
    """The check-in window a seat's reminder stated, from its two ISO times, one a line."""
    try:
        opens, closes = (datetime.fromisoformat(part) for part in detail.split("\n"))
    except ValueError:
        return "—", "—"
    return clock_time(opens, timezone), clock_time(closes, timezone)


def _suspension_end(detail: str, timezone: str) -> str:
    try:
        ends_at = datetime.fromisoformat(detail)
    except ValueError:
        return "—"
    return moment_text(ends_at, timezone)


def _tool_notice(notification: Notification, timezone: str) -> str:
    """A tool held or given up: its name in the resident's language and the hold's end."""
    name_zh, name_en, *rest = (notification.detail.split("\n") + ["", ""])[:3]
    until = "—"
    if rest and rest[0]:
        try:
            until = moment_text(datetime.fromisoformat(rest[0]), timezone)
        except ValueError:
            until = "—"
    what = in_language(name_zh, name_en or name_zh) or "—"
    return str(NOTICE_TEXTS[notification.kind]) % {"what": what, "until": until}
