"""An iCalendar file (RFC 5545) for one booking, so a resident can add it to a phone calendar.

``icalendar`` writes it: text escaping, CRLF line ends and folding at 75 octets (never inside
a Chinese character's three) are the library's, not ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import icalendar

PRODID = "-//Linli//Neighbourhood centre kiosk//EN"


@dataclass(frozen=True)
class Event:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str = ""


def calendar(event: Event, *, stamp: datetime) -> bytes:
    """A VCALENDAR holding ``event``, times in UTC, ``stamp`` as DTSTAMP."""
    entry = icalendar.Event()
    entry.add("uid", event.uid)
    entry.add("dtstamp", stamp.astimezone(UTC))
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", event.ends_at.astimezone(UTC))
    entry.add("summary", event.summary)
    entry.add("location", event.location)
    if event.description:
        entry.add("description", event.description)
    file = icalendar.Calendar()
    file.add("version", "2.0")
    file.add("prodid", PRODID)
    file.add("calscale", "GREGORIAN")
    file.add("method", "PUBLISH")
    file.add_component(entry)
    body: bytes = file.to_ical()
    return body
