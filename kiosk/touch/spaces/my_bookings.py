"""My bookings at the kiosk: the list with its buttons, the slip, the calendar file, the
waiting list and the notices about bookings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.alerts import notifications
from booking.alerts.models.notifications import Notification
from booking.core.errors import DomainError, NotFound
from booking.core.models.sites import Site
from booking.spaces import releases, seats, waitlist
from booking.spaces import slip_tokens as booking_slips
from booking.spaces.models.bookings import Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from kiosk.extensions import clock, database
from kiosk.touch import qr_code
from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import BookingActionForm
from kiosk.touch.messages import message_for
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required
from kiosk.touch.spaces import views as booking_views
from kiosk.touch.spaces import words as booking_words
from kiosk.touch.spaces.views import BookingView


@dataclass(frozen=True)
class Action:
    """A booking button: the domain call it makes, its label, and what is said afterwards."""

    call: Callable[..., object]
    label: LazyString
    done: LazyString


ACTIONS = {
    booking_views.CHECK_IN: Action(seats.check_in, _l("Check in"), _l("You are checked in.")),
    booking_views.STEP_OUT: Action(
        seats.start_leave,
        _l("Step out for a while"),
        _l("Your seat is kept for you while you are away. Tap “I am back” when you return."),
    ),
    booking_views.COME_BACK: Action(
        seats.come_back, _l("I am back"), _l("Welcome back: the seat is yours again.")
    ),
    booking_views.LEAVE: Action(
        seats.leave, _l("Leave now"), _l("Thank you. The seat is free for others now.")
    ),
    booking_views.CANCEL: Action(
        releases.cancel, _l("Cancel this booking"), _l("The booking is cancelled.")
    ),
    booking_views.ACCEPT: Action(
        waitlist.accept, _l("Accept the offer"), _l("You have taken the offered time.")
    ),
    booking_views.DECLINE: Action(
        waitlist.decline, _l("No, thank you"), _l("You have turned the offer down.")
    ),
}


# What the confirmation page's "yes" button sends: a cancel without it asks first.
CONFIRMED = "yes"


@dataclass(frozen=True)
class QueueView:
    id: int
    what: str
    when: str
    offered: bool


@dataclass(frozen=True)
class NoticeView:
    id: int
    text: str
    kind: str
    unread: bool
    when: str


def _site(session: Session) -> Site:
    return session.get_one(Site, kiosk_session.current_site().id)


def unread_count(session: Session, resident_id: int, site_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.resident_id == resident_id,
                Notification.site_id == site_id,
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def _notices(session: Session, resident_id: int, site: Site) -> list[NoticeView]:
    shown = []
    for notice in notifications.notifications_of(session, resident_id=resident_id, site_id=site.id)[
        :20
    ]:
        booking = session.get(Booking, notice.booking_id) if notice.booking_id else None
        space = session.get(Space, booking.space_id) if booking else None
        seat = session.get(Seat, booking.seat_id) if booking and booking.seat_id else None
        shown.append(
            NoticeView(
                id=notice.id,
                text=booking_words.notice_text(
                    notice,
                    space=space,
                    seat=seat,
                    starts_at=booking.starts_at if booking else None,
                    ends_at=booking.ends_at if booking else None,
                    hold_expires_at=booking.hold_expires_at if booking else None,
                    timezone=site.timezone,
                ),
                kind=notice.kind.value,
                unread=notice.read_at is None,
                when=booking_words.moment_text(notice.created_at, site.timezone),
            )
        )
    return shown


def _queue(session: Session, resident_id: int, site: Site) -> list[QueueView]:
    shown = []
    for entry in waitlist.queue_of(session, resident_id=resident_id, site_id=site.id):
        space = session.get_one(Space, entry.space_id)
        seat = session.get(Seat, entry.seat_id) if entry.seat_id is not None else None
        shown.append(
            QueueView(
                id=entry.id,
                what=booking_words.what(space, seat),
                when=booking_words.period_text(entry.starts_at, entry.ends_at, site.timezone),
                offered=entry.status.value == "offered",
            )
        )
    return shown


@resident_required
def my_bookings(resident: KioskResident) -> ResponseReturnValue:
    return _my_bookings_page(resident)


def _my_bookings_page(
    resident: KioskResident, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    now = clock().now()
    with database().read() as session:
        site = _site(session)
        views = booking_views.views_of(
            session,
            seats.bookings_of(session, resident_id=resident.id, site_id=site.id, now=now),
            site,
            now,
        )
        queue = _queue(session, resident.id, site)
        notices = _notices(session, resident.id, site)
    current = [view for view in views if view.is_active]
    finished = [view for view in views if not view.is_active]
    return render_template(
        "touch/bookings.html",
        current=current,
        finished=finished,
        queue=queue,
        unread=[notice for notice in notices if notice.unread],
        earlier=[notice for notice in notices if not notice.unread][:5],
        actions=ACTIONS,
        error=error,
    ), status


def _own_view(session: Session, resident: KioskResident, booking_id: int) -> BookingView:
    return booking_views.own_view(
        session, resident_id=resident.id, booking_id=booking_id, site=_site(session),
        now=clock().now(),
    )  # fmt: skip


@resident_required
def booking_slip_page(resident: KioskResident, booking_id: int) -> ResponseReturnValue:
    return _slip_page(resident, booking_id)


def _slip_page(
    resident: KioskResident, booking_id: int, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    # A write: the booking's first slip gives it the token its QR code carries.
    with database().write() as session:
        view = _own_view(session, resident, booking_id)
        code = booking_slips.slip_code(session, session.get_one(Booking, view.id))
    qr = qr_code.svg(code, label=_("QR code of booking %(reference)s", reference=view.reference))
    return render_template(
        "touch/bookings_slip.html", booking=view, qr=qr, actions=ACTIONS, error=error
    ), status


def _origin(from_slip: bool, booking_id: int) -> str:
    if from_slip:
        return url_for("touch.booking_slip", booking_id=booking_id)
    return url_for("touch.my_bookings")


@resident_required
def cancel_form(resident: KioskResident, booking_id: int) -> ResponseReturnValue:
    """Asks once, in large words, before a booking is cancelled: a page, never a pop-up."""
    from_slip = BookingActionForm.read().text("came_from") == "slip"
    with database().read() as session:
        view = _own_view(session, resident, booking_id)
    if booking_views.CANCEL not in view.actions:
        # Started, finished or already cancelled meanwhile: its own page says which.
        return redirect(_origin(from_slip, booking_id))
    return render_template(
        "touch/bookings_cancel.html", booking=replace(view, actions=[]), actions=ACTIONS,
        origin="slip" if from_slip else "list", back=_origin(from_slip, booking_id),
    )  # fmt: skip


@resident_required
def booking_action(resident: KioskResident, booking_id: int, action: str) -> ResponseReturnValue:
    """One button of a booking; on a refusal the page it came from says why, unchanged."""
    chosen = ACTIONS.get(action)
    if chosen is None:
        abort(404)
    form = BookingActionForm.read()
    from_slip = form.text("came_from") == "slip"
    if action == booking_views.CANCEL and form.text("confirm") != CONFIRMED:
        # Only the confirmation page's button cancels; any other way in asks first.
        origin = "slip" if from_slip else "list"
        asking = url_for("touch.cancel_booking_form", booking_id=booking_id)
        return redirect(f"{asking}?from={origin}")
    site_info = kiosk_session.current_site()
    try:
        with database().write() as session:
            booking = session.get(Booking, booking_id)
            if booking is None or booking.site_id != site_info.id:
                raise NotFound("no such booking")
            chosen.call(session, resident_id=resident.id, booking_id=booking_id, now=clock().now())
    except NotFound:
        abort(404)
    except DomainError as error:
        message = message_for(error, timezone=site_info.timezone)
        if from_slip:
            return _slip_page(resident, booking_id, message, error.status)
        return _my_bookings_page(resident, message, error.status)
    flash(str(chosen.done), "success")
    return redirect(_origin(from_slip, booking_id))


@resident_required
def leave_queue(resident: KioskResident, entry_id: int) -> ResponseReturnValue:
    try:
        with database().write() as session:
            waitlist.leave_queue(session, resident_id=resident.id, entry_id=entry_id)
    except NotFound:
        abort(404)
    flash(_("You have left the waiting list."), "success")
    return redirect(url_for("touch.my_bookings"))


@resident_required
def notice_read(resident: KioskResident, notification_id: int) -> ResponseReturnValue:
    try:
        with database().write() as session:
            notifications.mark_read(
                session, resident_id=resident.id, notification_id=notification_id, now=clock().now()
            )
    except NotFound:
        abort(404)
    return redirect(url_for("touch.my_bookings"))


def landing_after_sign_in(resident_id: int, site_id: int) -> str | None:
    """Where a resident with unread booking notices goes after signing in: to read them."""
    with database().read() as session:
        if unread_count(session, resident_id, site_id):
            return url_for("touch.my_bookings")
    return None
