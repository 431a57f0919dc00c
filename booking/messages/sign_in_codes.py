"""A one-time sign-in code sent by SMS to the phone a resident typed (the phone sign-in).

The code is issued as every one-time code is (booking.people.one_time_codes: hashed, voiding
the one before) and its message goes at once, at any hour: the resident is waiting for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.messages import kinds, outbox
from booking.messages.models.outbox import OutboxMessage
from booking.people import one_time_codes
from booking.people.models.memberships import ResidentMembership
from booking.people.models.resident_codes import CodePurpose, ResidentCode
from booking.people.models.residents import Resident
from booking.people.residents import normalise_phone

# One code a minute per resident: a button pressed again does not buy a stranger a flood of
# messages to someone's phone.
RESEND_AFTER = timedelta(minutes=1)


class CodeRequestedTooSoon(DomainError):
    code = "code_requested_too_soon"
    status = 429


class CodeNotSendable(DomainError):
    """The resident has no phone the outbox may use (deactivated meanwhile)."""

    code = "code_not_sendable"
    status = 409


def send_sign_in_code(session: Session, *, site_id: int, phone: str, now: datetime) -> bool:
    """Issue a sign-in code for the active member of ``site_id`` with ``phone`` and queue its
    SMS. False (and nothing done) for a phone that is no such member: the caller answers the
    same either way, so the page does not tell who is a member."""
    resident = session.scalar(
        select(Resident)
        .join(ResidentMembership)
        .where(
            Resident.phone == normalise_phone(phone),
            ResidentMembership.site_id == site_id,
            Resident.deactivated_at.is_(None),
        )
    )
    if resident is None:
        return False
    last = session.scalar(
        select(ResidentCode.issued_at)
        .where(ResidentCode.resident_id == resident.id, ResidentCode.purpose == CodePurpose.SIGN_IN)
        .order_by(ResidentCode.issued_at.desc())
        .limit(1)
    )
    if last is not None and now - last < RESEND_AFTER:
        raise CodeRequestedTooSoon("a code was sent a moment ago: wait a minute")
    issued = one_time_codes.issue_code(
        session, resident_id=resident.id, site_id=site_id, purpose=CodePurpose.SIGN_IN,
        now=now, actor=f"resident:{resident.id}",
    )  # fmt: skip
    queue_code(session, site_id=site_id, issued=issued, now=now)
    return True


def queue_code(
    session: Session, *, site_id: int, issued: one_time_codes.IssuedCode, now: datetime
) -> OutboxMessage:
    """Queue the SMS carrying ``issued`` to its resident's own phone, to go at once at any
    hour: asked for on the phone page, or sent by staff instead of a printed slip. The message
    holds the code alone (never a PIN), and the code is blanked once the message has left."""
    message = outbox.enqueue(
        session, site_id=site_id, resident_id=issued.resident_id, kind=kinds.SIGN_IN_CODE,
        params=[issued.code], now=now, ignores_quiet_hours=True,
    )  # fmt: skip
    if message is None:
        # A code is issued only to an active member, who always has a phone: not reached.
        raise CodeNotSendable("the resident's phone cannot be reached")
    return message
