"""Putting messages in the outbox, in the transaction of the event that causes them.

A message goes to a resident's phone when the resident has one, is active, and has not
turned its kind off (booking.messages.preferences). The worker sends it later
(booking.messages.sending); if that transaction rolls back, no message is left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.messages import preferences
from booking.messages.models.outbox import MessageState, OutboxMessage
from booking.people.models.residents import Resident

SMS = "sms"


def enqueue(
    session: Session,
    *,
    site_id: int,
    resident_id: int,
    kind: str,
    params: Sequence[str],
    now: datetime,
    notification_id: int | None = None,
    to_contact: bool = False,
    ignores_quiet_hours: bool = False,
) -> OutboxMessage | None:
    """An SMS of ``kind`` with its template ``params`` for the resident (or, with
    ``to_contact``, their emergency contact); None when it is not to be sent."""
    resident = session.get(Resident, resident_id)
    if resident is None or not resident.is_active:
        return None
    phone = resident.emergency_contact_phone if to_contact else resident.phone
    if not phone:
        return None
    if not preferences.wants(session, resident_id=resident_id, kind=kind):
        return None
    message = OutboxMessage(
        site_id=site_id, resident_id=resident_id, kind=kind, channel=SMS, phone=phone,
        to_contact=to_contact, language=resident.preferred_language, params=list(params),
        ignores_quiet_hours=ignores_quiet_hours, notification_id=notification_id,
        state=MessageState.QUEUED, created_at=now, next_attempt_at=now,
    )  # fmt: skip
    session.add(message)
    return message


def messages_of(session: Session, *, resident_id: int, site_id: int) -> list[OutboxMessage]:
    """A resident's messages, newest first (the resident's page in the console)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.resident_id == resident_id, OutboxMessage.site_id == site_id)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        )
    )


def given_up(session: Session, *, site_id: int) -> list[OutboxMessage]:
    """The messages the worker could not send, newest first (the console's list)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.site_id == site_id, OutboxMessage.state == MessageState.GAVE_UP)
            .order_by(OutboxMessage.gave_up_at.desc(), OutboxMessage.id.desc())
        )
    )
