"""What the kiosk says about a read of its reader: each in the catalogue, Chinese first."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

UNKNOWN_CARD = _l(
    "This card is not known here. Please sign in with your phone number, or ask the staff."
)
UNKNOWN_CODE = _l(
    "This code is not a slip of this centre, or it is no longer valid. Nothing was changed. "
    "Please ask the staff."
)
CHECKED_IN = _l("You are checked in. Enjoy your study time!")
NO_CHECK_IN = _l("Room bookings need no check-in. The staff will let your group in.")
RETURN_DONE = _l("The tool is back. Thank you!")
LOAN_ENDED = _l("This tool has already been returned. Nothing was changed.")
CARD_TOO_SLOW = _l("That took a while. Please tap your card again.")
PAIRING_WRONG = _l(
    "That pairing code is not right, or it has run out. Ask for a new code in the console."
)
PAIRING_HELP = _l("A pairing code has 8 digits.")
PAIRED = _l("This screen is now paired with the reader %(device)s.")
