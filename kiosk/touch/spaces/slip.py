"""The confirmation slip of a booking: its reference, a QR code, and its calendar event."""

from __future__ import annotations

from datetime import datetime

import segno
from markupsafe import Markup

from kiosk import calendar_events


def reference(site_slug: str, booking_id: int) -> str:
    """What a resident reads out at the desk, and what the QR code starts with."""
    return f"{site_slug.upper()}-{booking_id:06d}"


def qr_text(ref: str, what: str, when: str, where: str) -> str:
    """Scanned with a phone, the code shows the booking in plain words, reference first."""
    return "\n".join((f"LINLI {ref}", what, when, where))


def qr_svg(text: str, *, label: str) -> Markup:
    """The QR code as inline SVG (no image file, nothing loaded from elsewhere)."""
    svg = segno.make(text, error="m").svg_inline(
        scale=6, dark="#111111", light="#ffffff", svgclass="qr-code"
    )
    # segno writes only numbers and paths, so its markup is safe; the label is escaped.
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    return Markup(labelled)


def event_for(
    *,
    site_slug: str,
    booking_id: int,
    summary: str,
    location: str,
    starts_at: datetime,
    ends_at: datetime,
) -> calendar_events.Event:
    """The booking as a calendar event; its UID stays the same however often it is downloaded,
    so a calendar updates the event instead of adding a second one."""
    ref = reference(site_slug, booking_id)
    return calendar_events.Event(
        uid=f"booking-{booking_id}@{site_slug}.linli",
        starts_at=starts_at,
        ends_at=ends_at,
        summary=summary,
        location=location,
        description=ref,
    )
