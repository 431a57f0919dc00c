"""The worker's sending of due messages, with retries, backoff and, in the end, staff.

Each round claims the due messages in one short transaction (state *sending*), hands them to
their channels outside any transaction (a provider may take seconds), and records each answer
in a transaction of its own. A failed send is tried again after 1, 2, 4, ... minutes; after
:data:`MAX_ATTEMPTS` the message is given up and a staff alert raised, so that no message is
silently lost. A message left *sending* by a worker that died is counted as a failed attempt
after :data:`SENDING_TIMEOUT`: it may have gone, but a resident is better told twice than not.
A message that could not go out within :data:`MAX_AGE` of being written is not sent at all,
and staff are told in the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from booking.alerts.models.alerts import AlertSeverity
from booking.alerts.operations import raise_alert
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.messages.models.outbox import MessageState, OutboxMessage
from booking.messages.quiet_hours import quiet_until

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FIRST_BACKOFF = timedelta(minutes=1)
SENDING_TIMEOUT = timedelta(minutes=10)
BATCH = 50
# By then what a message says may no longer hold: a tool "overdue" has come back, a booking
# "tomorrow" is past, a sign-in code has expired. A worker stopped for weeks sent a month's
# stale notices on its first round (found in the demo: "your drill was due on 11-01", sent
# on 12-08 to a resident with no loan). Quiet hours defer a message by a night at most.
MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class Outgoing:
    """What a channel needs of a message: no database row leaves the transaction."""

    message_id: int
    kind: str
    phone: str
    language: str
    params: tuple[str, ...]


class SendFailed(Exception):
    """The channel could not hand the message over (the provider's code and words)."""


class Channel(Protocol):
    """One way to reach a phone. ``send`` returns the provider's id for the message."""

    def send(self, message: Outgoing) -> str: ...


@dataclass(frozen=True)
class Round:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


def _claim(database: Database, *, now: datetime) -> tuple[list[tuple[str, Outgoing]], int]:
    claimed: list[tuple[str, Outgoing]] = []
    deferred = 0
    with database.write() as session:
        stale = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.state == MessageState.SENDING,
                OutboxMessage.sending_since <= now - SENDING_TIMEOUT,
            )
        )
        for message in stale:
            _fail(session, message, "no answer recorded: the worker stopped while sending", now)
        due = session.scalars(
            select(OutboxMessage)
            .where(
                or_(
                    OutboxMessage.state == MessageState.QUEUED,
                    OutboxMessage.state == MessageState.RETRYING,
                ),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for message in due:
            if message.created_at <= now - MAX_AGE:
                _expire(session, message, now)
                continue
            until = None
            if not message.ignores_quiet_hours:
                until = quiet_until(session.get_one(Site, message.site_id), now)
            if until is not None:
                message.defer(until)
                deferred += 1
                continue
            message.start_sending(now)
            claimed.append((message.channel, Outgoing(
                message.id, message.kind, message.phone, message.language, tuple(message.params)
            )))  # fmt: skip
    return claimed, deferred


def _fail(session: Session, message: OutboxMessage, error: str, now: datetime) -> None:
    message.mark_failed(now, error, max_attempts=MAX_ATTEMPTS, first_backoff=FIRST_BACKOFF)
    if message.state is MessageState.GAVE_UP:
        _tell_staff(session, message, now, "message.gave_up", "could not be sent",
                    attempts=message.attempts)  # fmt: skip


def _expire(session: Session, message: OutboxMessage, now: datetime) -> None:
    hours = int(MAX_AGE.total_seconds() // 3600)
    message.expire(now, f"not sent: still waiting {hours} hours after it was written")
    _tell_staff(session, message, now, "message.expired", "was too old to send", hours=hours)


def _tell_staff(
    session: Session, message: OutboxMessage, now: datetime, kind: str, what: str, **params: int
) -> None:
    """A given-up message's alert, naming the resident: they were not told, staff may tell
    them another way (one alert a message, whatever gave it up)."""
    raise_alert(
        session,
        site_id=message.site_id,
        kind=kind,
        severity=AlertSeverity.WARNING,
        summary=f"message {message.id} ({message.kind}) {what}: {message.last_error}",
        now=now,
        subject=f"resident:{message.resident_id}",
        resident_id=message.resident_id,
        dedupe_key=f"messages:gave_up:{message.id}",
        params={"kind": message.kind, **params},
    )


def send_due(database: Database, channels: Mapping[str, Channel], *, now: datetime) -> Round:
    """Send every message due at ``now`` through its channel; what happened to them."""
    claimed, deferred = _claim(database, now=now)
    sent = failed = 0
    for channel_name, outgoing in claimed:
        channel = channels.get(channel_name)
        try:
            if channel is None:
                raise SendFailed(f"no {channel_name} channel is configured")
            ref, error = channel.send(outgoing), ""
        except SendFailed as exc:
            ref, error = "", str(exc) or type(exc).__name__
        with database.write() as session:
            message = session.get_one(OutboxMessage, outgoing.message_id, with_for_update=True)
            if error:
                failed += 1
                log.warning("message %d not sent: %s", message.id, error)
                _fail(session, message, error, now)
            else:
                sent += 1
                message.mark_sent(now, ref)
    return Round(sent, failed, deferred)
