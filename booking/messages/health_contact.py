"""A health follow-up to a resident's emergency contact: only with the resident's recorded
consent, and without any value (the message names the resident and the centre, nothing
about the reading)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from booking.core.errors import Conflict
from booking.core.models.sites import Site
from booking.messages import kinds, outbox, preferences
from booking.messages.models.outbox import OutboxMessage
from booking.people.models.residents import Resident


class NoContactConsent(Conflict):
    code = "no_contact_consent"


def record_consent(
    session: Session, *, resident_id: int, consents: bool, staff_id: int, now: datetime
) -> None:
    """Staff record the resident's yes (or no) to messages to their emergency contact."""
    preferences.choose(
        session, resident_id=resident_id, kind=kinds.HEALTH_CONTACT, sms=consents,
        now=now, staff_id=staff_id,
    )  # fmt: skip


def message_contact(
    session: Session, *, site_id: int, resident_id: int, now: datetime
) -> OutboxMessage:
    """Queue the follow-up to the resident's emergency contact.

    :class:`NoContactConsent` without the resident's recorded consent or without a contact
    phone.
    """
    if not preferences.wants(session, resident_id=resident_id, kind=kinds.HEALTH_CONTACT):
        raise NoContactConsent("the resident has not agreed to messages to their contact")
    resident = session.get_one(Resident, resident_id)
    site = session.get_one(Site, site_id)
    zh = resident.preferred_language.startswith("zh")
    message = outbox.enqueue(
        session, site_id=site_id, resident_id=resident_id, kind=kinds.HEALTH_CONTACT,
        params=[resident.name, site.name_zh if zh else site.name_en], now=now, to_contact=True,
    )  # fmt: skip
    if message is None:
        raise NoContactConsent("the resident has no emergency contact phone")
    return message
