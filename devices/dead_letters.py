"""Messages the bridge refused: stored for staff, counted by reason, logged without values."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devices import staff_alerts
from devices.models import DeadLetter
from devices.protocol import MAX_PAYLOAD_BYTES

log = logging.getLogger(__name__)

MAX_TOPIC = 255
MAX_DETAIL = 500


def record(
    session: Session,
    *,
    topic: str,
    reason: str,
    payload: bytes,
    received_at: datetime,
    device_id: str | None = None,
    detail: str = "",
) -> DeadLetter:
    """Keep a refused message (payload cut to the protocol's 8 KiB) and log why.

    The log line names topic and reason only: a refused payload may hold health values.
    """
    letter = DeadLetter(
        topic=topic[:MAX_TOPIC],
        reason=reason,
        detail=detail[:MAX_DETAIL],
        device_id=device_id[:40] if device_id else None,
        payload=bytes(payload[:MAX_PAYLOAD_BYTES]),
        received_at=received_at,
    )
    session.add(letter)
    staff_alerts.message_refused(
        session, topic=topic, reason=reason, device_id=letter.device_id, now=received_at
    )
    log.warning("dead letter (%s) on %s: %s", reason, topic[:MAX_TOPIC], detail[:MAX_DETAIL])
    return letter


def counts(session: Session, since: datetime | None = None) -> dict[str, int]:
    """How many dead letters per reason (since ``since`` when given), for the staff console."""
    query = select(DeadLetter.reason, func.count()).group_by(DeadLetter.reason)
    if since is not None:
        query = query.where(DeadLetter.received_at >= since)
    return {reason: count for reason, count in session.execute(query)}


def recent(session: Session, limit: int = 50) -> list[DeadLetter]:
    return list(
        session.scalars(
            select(DeadLetter)
            .order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
            .limit(limit)
        )
    )
