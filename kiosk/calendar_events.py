"""iCalendar (RFC 5545) made with the ``icalendar`` library: the kiosk slip's "add to calendar"
file for one booking, and a resident's private feed of bookings and loan due dates.

``icalendar`` writes it: text escaping, CRLF line ends and folding at 75 octets (never inside
a Chinese character's three) are the library's, not ours. Times go out in UTC (``Z``), which
every calendar reads without a VTIMEZONE; the calendar shows them on the phone's own clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

PRODID = "-//Linli//Neighbourhood centre//EN"
# How often a calendar app should fetch a feed again (RFC 7986 REFRESH-INTERVAL).
FEED_REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class Event:
    """One entry: its UID stays the same however often it is fetched, so a calendar updates
    the event instead of adding a second one."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str = ""
    # RFC 5545 STATUS: CONFIRMED, TENTATIVE (waiting for staff, or an offer not yet taken) or
    # CANCELLED (kept in a feed so that a phone which had the event removes it).
    status: str = "CONFIRMED"


def _entry(event: Event, stamp: datetime) -> icalendar.Event:
    entry = icalendar.Event()
    entry.add("uid", event.uid)
    entry.add("dtstamp", stamp.astimezone(UTC))
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", event.ends_at.astimezone(UTC))
    entry.add("summary", event.summary)
    entry.add("location", event.location)
    if event.description:
        entry.add("description", event.description)
    entry.add("status", event.status)
    return entry


def _calendar(events: Iterable[Event], stamp: datetime) -> icalendar.Calendar:
    file = icalendar.Calendar()
    file.add("version", "2.0")
    file.add("prodid", PRODID)
    file.add("calscale", "GREGORIAN")
    file.add("method", "PUBLISH")
    for event in events:
        file.add_component(_entry(event, stamp))
    return file


def calendar(event: Event, *, stamp: datetime) -> bytes:
    """A VCALENDAR holding ``event``, times in UTC, ``stamp`` as DTSTAMP (the kiosk slip)."""
    body: bytes = _calendar([event], stamp).to_ical()
    return body


def feed(events: Iterable[Event], *, name: str, stamp: datetime) -> bytes:
    """A subscribable VCALENDAR of ``events`` named ``name`` in the calendar app's list."""
    file = _calendar(events, stamp)
    file.add("name", name)
    file.add("x-wr-calname", name)
    file.add("refresh-interval", FEED_REFRESH)
    file["refresh-interval"].params["VALUE"] = "DURATION"
    file.add("x-published-ttl", FEED_REFRESH)
    body: bytes = file.to_ical()
    return body
