"""The confirmation slip of a booking: its reference and its calendar event (its QR code:
kiosk.touch.qr_code)."""

from __future__ import annotations

from datetime import datetime

from kiosk import calendar_events


def reference(site_slug: str, booking_id: int) -> str:
    """What a resident reads out at the desk. (The QR code carries the booking's slip token
    instead, booking.spaces.slip_tokens: a reference can be guessed by counting.)"""
    return f"{site_slug.upper()}-{booking_id:06d}"


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
