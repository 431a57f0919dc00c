"""What a slip's QR code says: an unguessable token behind a short prefix, never an id.

A booking slip's code reads ``LINLI:B:<token>`` and a loan slip's ``LINLI:L:<token>``. The
token is 32 characters of ``secrets.token_urlsafe`` (192 bits): knowing one slip tells
nothing about another, so a code can only come from the slip it was printed on. The kiosk
reader (devices/kiosk_reader) hands the scanned text to :func:`read`; anything else it may
scan (a phone's payment code, a bus ticket) reads as no slip at all.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass

PREFIX = "LINLI"
TOKEN_BYTES = 24
# token_urlsafe(24) is 32 characters; a little room either way for what a scanner adds.
_CODE = re.compile(rf"^{PREFIX}:([BL]):([A-Za-z0-9_-]{{32,64}})$")


class SlipKind(enum.StrEnum):
    BOOKING = "B"
    LOAN = "L"


@dataclass(frozen=True, slots=True)
class SlipCode:
    kind: SlipKind
    token: str


def new_token() -> str:
    """A fresh slip token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def text_of(kind: SlipKind, token: str) -> str:
    """The text to put in the slip's QR code."""
    return f"{PREFIX}:{kind.value}:{token}"


def read(text: str) -> SlipCode | None:
    """The slip a scanned text names, or None when it is not a Linli slip's code."""
    # Scanners in keyboard mode end with a newline; some add spaces.
    found = _CODE.match(text.strip())
    if found is None:
        return None
    return SlipCode(SlipKind(found.group(1)), found.group(2))
