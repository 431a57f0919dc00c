"""My bookings on the phone: what, where and when, and cancelling after a confirmation page.

Only cancelling is offered here. Checking in, stepping out and coming back happen at the
centre (the kiosk or the reader): a phone at home must not say someone is in their seat.
"""

from __future__ import annotations

from dataclasses import replace

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from booking.core.errors import DomainError, NotFound
from booking.core.models.sites import Site
from booking.spaces import releases, seats
from booking.spaces.models.bookings import Booking
from kiosk.extensions import clock, database
from kiosk.mobile import centres
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.forms import BookingActionForm
from kiosk.touch.messages import message_for
from kiosk.touch.spaces import my_bookings as kiosk_bookings
from kiosk.touch.spaces import views as booking_views
from kiosk.touch.spaces.views import BookingView

# The one booking button a phone shows; the rest need the resident at the centre.
PHONE_ACTIONS = (booking_views.CANCEL,)


def _phone_view(view: BookingView) -> BookingView:
    return replace(view, actions=[a for a in view.actions if a in PHONE_ACTIONS])


def _site(session: Session) -> Site:
    # The centre chosen for booking (kiosk.mobile.centres): its bookings are listed here.
    return session.get_one(Site, centres.chosen_site().id)


@resident_required
def my_bookings(resident: PhoneResident) -> ResponseReturnValue:
    return _list_page(resident)


def _list_page(
    resident: PhoneResident, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    now = clock().now()
    with database().read() as session:
        site = _site(session)
        own = seats.bookings_of(session, resident_id=resident.id, site_id=site.id, now=now)
        views = [_phone_view(view) for view in booking_views.views_of(session, own, site, now)]
        options = centres.options(session)
    return render_template(
        "mobile/bookings.html",
        centres=options,
        centre_back="bookings",
        current=[view for view in views if view.is_active],
        finished=[view for view in views if not view.is_active],
        actions=kiosk_bookings.ACTIONS,
        error=error,
    ), status


def _own_view(session: Session, resident: PhoneResident, booking_id: int) -> BookingView:
    view = booking_views.own_view(
        session, resident_id=resident.id, booking_id=booking_id, site=_site(session),
        now=clock().now(),
    )  # fmt: skip
    return _phone_view(view)


@resident_required
def cancel_form(resident: PhoneResident, booking_id: int) -> ResponseReturnValue:
    """Asks once before a booking is cancelled: a page of its own, never a pop-up."""
    with database().read() as session:
        view = _own_view(session, resident, booking_id)
    if booking_views.CANCEL not in view.actions:
        # Started, finished or already cancelled meanwhile: the list says which.
        return redirect(url_for("mobile.my_bookings"))
    return render_template("mobile/bookings_cancel.html", booking=replace(view, actions=[]))


@resident_required
def cancel(resident: PhoneResident, booking_id: int) -> ResponseReturnValue:
    """Cancel through the same service as the kiosk; only the confirmation's "yes" does."""
    if BookingActionForm.read().text("confirm") != kiosk_bookings.CONFIRMED:
        return redirect(url_for("mobile.cancel_booking_form", booking_id=booking_id))
    site_info = centres.chosen_site()
    try:
        with database().write() as session:
            booking = session.get(Booking, booking_id)
            if booking is None or booking.site_id != site_info.id:
                raise NotFound("no such booking")
            releases.cancel(session, resident_id=resident.id, booking_id=booking_id,
                            now=clock().now())  # fmt: skip
    except NotFound:
        abort(404)
    except DomainError as error:
        return _list_page(resident, message_for(error, timezone=site_info.timezone), error.status)
    flash(str(kiosk_bookings.ACTIONS[booking_views.CANCEL].done), "success")
    return redirect(url_for("mobile.my_bookings"))
