"""An iCalendar file (RFC 5545) for one booking, so a resident can add it to a phone calendar.

Written by hand rather than with a library: one event needs a handful of lines, but each
must follow the RFC's rules for text escaping, CRLF line ends and 75-octet line folding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//Linli//Neighbourhood centre kiosk//EN"
MAX_LINE_OCTETS = 75


@dataclass(frozen=True)
class Event:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str = ""


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC form (``20261124T013000Z``)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Fold a content line to at most 75 octets per physical line (§3.1), never inside a
    UTF-8 character: Chinese text is three octets a character."""
    pieces: list[str] = []
    current = ""
    limit = MAX_LINE_OCTETS
    for char in line:
        if len((current + char).encode()) > limit:
            pieces.append(current)
            current = ""
            limit = MAX_LINE_OCTETS - 1  # continuation lines start with one space
        current += char
    pieces.append(current)
    return "\r\n ".join(pieces)


def calendar(event: Event, *, stamp: datetime) -> bytes:
    """A VCALENDAR holding ``event``, times in UTC, ``stamp`` as DTSTAMP."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"LOCATION:{escape_text(event.location)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()
