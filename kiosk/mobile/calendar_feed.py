"""A resident's private calendar feed: the page on the phone that shows, renews and stops the
address, and the feed itself that a calendar app polls (``webcal://…/m/feed/<secret>.ics``).

The feed holds the resident's bookings from today on (cancelled ones marked CANCELLED, so a
phone that had them removes them) and the due dates of their open loans, built with
``icalendar`` (``kiosk.calendar_events``). It needs no sign-in: the secret is the key, and a
revoked or unknown one answers 404 alike.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from booking.core.errors import NotFound
from booking.core.models.sites import Site
from booking.people import calendar_feeds
from booking.spaces import seats
from booking.spaces.models.bookings import BookingStatus
from kiosk import calendar_events
from kiosk.extensions import clock, database
from kiosk.mobile import loans as phone_loans
from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.spaces import slip as booking_slip
from kiosk.touch.spaces import views as booking_views
from kiosk.touch.spaces import words as booking_words

FEED_NAME = _l("My centre calendar")
DUE_SUMMARY = _l("Return the %(tool)s (%(tag)s)")
# How a booking's state shows in a calendar; the rest (booked, checked in, done) as CONFIRMED.
FEED_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.HELD: "TENTATIVE",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.REJECTED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
}
# A due date shows as a short event at the moment it falls due.
DUE_LENGTH = timedelta(minutes=30)
MADE = _l("Your calendar link is ready. Add it to your phone's calendar.")
RENEWED = _l("You have a new calendar link. The old link has stopped working.")
STOPPED = _l("The calendar link has stopped working. Your calendar will no longer update.")


def webcal_url(token: str) -> str:
    """The feed's address as a calendar app subscribes to it: webcal:// on the same host."""
    https = url_for("mobile.feed", token=token, _external=True)
    return "webcal://" + https.split("://", 1)[1]


def _qr(text: str) -> Markup:
    svg = segno.make(text, error="m").svg_inline(
        scale=4, dark="#111111", light="#ffffff", svgclass="qr-code"
    )
    label = Markup.escape(_("QR code of the calendar link"))
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))


@resident_required
def feed_page(resident: PhoneResident) -> ResponseReturnValue:
    site = phone_session.current_site()
    with database().read() as session:
        feed = calendar_feeds.live_feed(session, resident_id=resident.id, site_id=site.id)
        token = feed.token if feed is not None else None
    url = webcal_url(token) if token else None
    return render_template(
        "mobile/calendar.html", url=url,
        qr=_qr(url) if url else None,
    )  # fmt: skip


@resident_required
def renew(resident: PhoneResident) -> ResponseReturnValue:
    """Make the address, or a new one in place of the old (lost phone, shared by mistake)."""
    site = phone_session.current_site()
    with database().write() as session:
        had = calendar_feeds.live_feed(session, resident_id=resident.id, site_id=site.id)
        calendar_feeds.new_feed(session, resident_id=resident.id, site_id=site.id,
                                actor=f"resident:{resident.id}", now=clock().now())  # fmt: skip
    flash(str(RENEWED if had is not None else MADE), "success")
    return redirect(url_for("mobile.calendar"))


@resident_required
def revoke(resident: PhoneResident) -> ResponseReturnValue:
    site = phone_session.current_site()
    with database().write() as session:
        calendar_feeds.revoke_feed(session, resident_id=resident.id, site_id=site.id,
                                   actor=f"resident:{resident.id}", now=clock().now())  # fmt: skip
    flash(str(STOPPED), "success")
    return redirect(url_for("mobile.calendar"))


def feed(token: str) -> ResponseReturnValue:
    """The feed a calendar app polls; 404 for any address not live."""
    now = clock().now()
    with database().read() as session:
        try:
            found = calendar_feeds.feed_by_token(session, token=token)
        except NotFound:
            abort(404)
        site = session.get_one(Site, found.site_id)
        # A calendar app sends no language: the feed speaks the centre's default (Chinese).
        with force_locale(request.accept_languages.best_match(["zh_CN", "en"]) or "zh_CN"):
            events = _events(session, resident_id=found.resident_id, site=site)
            name = str(FEED_NAME)
    body = calendar_events.feed(events, name=name, stamp=now)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    return response


def _events(session: Session, *, resident_id: int, site: Site) -> list[calendar_events.Event]:
    now = clock().now()
    events = []
    own = seats.bookings_of(session, resident_id=resident_id, site_id=site.id, now=now)
    for booking, view in zip(own, booking_views.views_of(session, own, site, now), strict=True):
        event = booking_slip.event_for(
            site_slug=site.slug, booking_id=view.id, summary=view.what, location=view.where,
            starts_at=view.starts_at, ends_at=view.ends_at,
        )  # fmt: skip
        events.append(replace(event, status=FEED_STATUS.get(booking.status, "CONFIRMED")))
    where = booking_words.in_language(site.name_zh, site.name_en)
    for loan in phone_loans.loan_lines(session, resident_id=resident_id, site_id=site.id,
                                       timezone=site.timezone):  # fmt: skip
        events.append(
            calendar_events.Event(
                uid=f"loan-{loan.id}-due@{site.slug}.linli",
                starts_at=loan.due_at,
                ends_at=loan.due_at + DUE_LENGTH,
                summary=str(DUE_SUMMARY % {"tool": loan.tool, "tag": loan.asset_tag}),
                location=where,
            )
        )
    return events
