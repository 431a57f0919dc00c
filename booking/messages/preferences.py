"""Each resident's choice, per kind of message, of SMS on or off."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import InvalidInput
from booking.messages import kinds
from booking.messages.models.preferences import MessagePreference


def _row(session: Session, resident_id: int, kind: str) -> MessagePreference | None:
    return session.scalar(
        select(MessagePreference).where(
            MessagePreference.resident_id == resident_id, MessagePreference.kind == kind
        )
    )


def wants(session: Session, *, resident_id: int, kind: str) -> bool:
    """Whether the resident gets ``kind`` by SMS: their choice, else the kind's default."""
    if kind in kinds.ALWAYS_SENT:
        return True
    row = _row(session, resident_id, kind)
    if row is None:
        return kind not in kinds.OFF_BY_DEFAULT
    return row.sms


def choices_of(session: Session, *, resident_id: int) -> dict[str, bool]:
    """Every choosable kind and whether the resident gets it by SMS, in the order shown."""
    return {kind: wants(session, resident_id=resident_id, kind=kind) for kind in kinds.CHOOSABLE}


def choose(
    session: Session,
    *,
    resident_id: int,
    kind: str,
    sms: bool,
    now: datetime,
    staff_id: int | None = None,
) -> MessagePreference:
    """Record the resident's choice for ``kind`` (at the kiosk, or consent noted by staff)."""
    if kind not in kinds.CHOOSABLE and kind != kinds.HEALTH_CONTACT:
        raise InvalidInput("no such kind of message", kind=kind)
    row = _row(session, resident_id, kind)
    if row is None:
        row = MessagePreference(resident_id=resident_id, kind=kind, sms=sms, changed_at=now)
        session.add(row)
    row.choose(sms, now, staff_id)
    audit.record(
        session, action="messages.preference", now=now, site_id=None,
        actor=f"staff:{staff_id}" if staff_id else f"resident:{resident_id}", staff_id=staff_id,
        subject=f"resident:{resident_id}", detail={"kind": kind, "sms": sms},
    )  # fmt: skip
    return row
