"""Pruning the messages that are over: sent, or given up, longer ago than the operator keeps
them (``LINLI_MESSAGES_RETENTION_DAYS``, the worker's hourly retention job).

A message still waiting (queued, retrying, or being sent) is never pruned, however old: it is
not over, and "nothing acknowledged is ever lost" holds for messages too. A given-up one is
kept as long as a sent one, so staff see it in the console's list long after the alert.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.orm import Session

from booking.core.retention import BATCH, delete_some
from booking.messages.models.outbox import MessageState, OutboxMessage


def prune_messages(session: Session, *, before: datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` messages sent or given up before ``before``; how many went."""
    over = or_(
        (OutboxMessage.state == MessageState.SENT) & (OutboxMessage.sent_at < before),
        (OutboxMessage.state == MessageState.GAVE_UP) & (OutboxMessage.gave_up_at < before),
    )
    return delete_some(session, OutboxMessage.id, over, limit=limit, oldest_first=OutboxMessage.id)
