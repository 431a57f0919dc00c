"""The kinds of message, and which a resident may turn off.

A kiosk notice becomes a message of the same kind (its ``NotificationKind`` value), so a new
notice kind is routed without a change here: it is sent with the generic template
(booking.messages.templates) until it gets its own.
"""

from __future__ import annotations

from booking.alerts.models.notifications import NotificationKind

LOAN_DUE_TOMORROW = "loan_due_tomorrow"
LOAN_OVERDUE = "loan_overdue"
LOAN_ESCALATED = "loan_escalated"
LENDING_SUSPENDED = "lending_suspended"
# The one-time code of account care the resident asked for: always sent, at any hour.
SIGN_IN_CODE = "sign_in_code"
# A health follow-up to the resident's emergency contact: only with recorded consent.
HEALTH_CONTACT = "health_contact"

# What a resident chooses among at the kiosk, in the order shown.
CHOOSABLE: tuple[str, ...] = (
    *(kind.value for kind in NotificationKind),
    LOAN_DUE_TOMORROW,
    LOAN_OVERDUE,
    LOAN_ESCALATED,
    LENDING_SUSPENDED,
)
# Off unless the resident said yes (a consent, recorded by staff).
OFF_BY_DEFAULT = frozenset({HEALTH_CONTACT})
# Never turned off: the resident has just asked for it.
ALWAYS_SENT = frozenset({SIGN_IN_CODE})
