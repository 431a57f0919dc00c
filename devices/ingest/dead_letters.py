"""Messages the bridge refused: stored for staff, counted by reason, logged without values.

A refused payload is kept as it came, for whoever must find out what the device sent, but
one that may hold health data (a reading from a locker, a card id, bytes nobody can read)
is health data: it goes with the health records, after the site's retention period or when
the card's holder withdraws consent (:func:`booking.health.retention.register_other_health_data`).
Staff see that a letter exists, why, and from which device; never its payload. Every letter
goes when its last copy is older than the operator's period (``LINLI_DEAD_LETTERS_RETENTION_DAYS``,
90 days: :func:`prune_before`, the worker's retention job).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from booking.core.models.sites import Site
from booking.core.retention import BATCH, delete_some
from booking.health import retention as health_retention
from devices.fleet import staff_alerts
from devices.models.dead_letters import DeadLetter
from devices.protocol.messages import ID_PATTERN, MAX_PAYLOAD_BYTES, PREFIX, READING_VALUE_FIELDS

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
    """Keep a refused message (payload cut to the protocol's 8 KiB) and log why; the same
    message refused again counts on its letter (:meth:`DeadLetter.refused_again`).

    The log line names topic and reason only: a refused payload may hold health values.
    """
    kept = bytes(payload[:MAX_PAYLOAD_BYTES])
    topic = topic[:MAX_TOPIC]
    digest = hashlib.sha256(topic.encode("utf-8", "surrogateescape") + b"\0" + kept).hexdigest()
    _lock_digest(session, digest)
    # Autoflush makes a letter of this same transaction (the message twice in one batch)
    # found too.
    letter = session.scalar(
        select(DeadLetter)
        .where(DeadLetter.digest == digest, DeadLetter.topic == topic, DeadLetter.reason == reason)
        .order_by(DeadLetter.id)
        .limit(1)
    )
    if letter is not None and letter.payload == kept:
        letter.refused_again(received_at)
        log.info("dead letter (%s) on %s again: %s", reason, topic, detail[:MAX_DETAIL])
    else:
        holds_health, card_id = health_content(kept)
        letter = DeadLetter(
            topic=topic,
            reason=reason,
            detail=detail[:MAX_DETAIL],
            device_id=device_id[:40] if device_id else None,
            payload=kept,
            received_at=received_at,
            digest=digest,
            site_id=_site_of(session, topic),
            health_data=holds_health,
            card_id=card_id,
        )
        session.add(letter)
        log.warning("dead letter (%s) on %s: %s", reason, topic, detail[:MAX_DETAIL])
    # Again each time: staff may have closed the alert while the device still sends it.
    staff_alerts.message_refused(
        session, topic=topic, reason=reason, device_id=letter.device_id, now=received_at
    )
    return letter


# The advisory lock class of letters being recorded ("LNDL"; the scheduler's is "LNLI").
LETTER_LOCK_CLASS = 0x4C4E444C


def _lock_digest(session: Session, digest: str) -> None:
    """Wait, until this transaction ends, for any other that is recording the same message.

    Two workers share the devices' messages, and both may get a copy of one refused message
    (a re-send). A registered device's copies are applied under its row's lock, but an
    unregistered device has no row: without this, each worker found no letter and each made
    one. The second now waits for the first's commit, and its read then finds the letter.
    The key is 32 bits of schema and digest: two different messages that share it only wait
    for each other. Two batches that each refuse the same two messages, in opposite orders,
    can wait for each other: PostgreSQL fails one of them after its deadlock timeout, and
    the committer tries that batch again (devices.ingest.batch_commit). SQLite has one
    writer at a time already.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        select(func.pg_advisory_xact_lock(
            LETTER_LOCK_CLASS, func.hashtext(func.current_schema() + digest)
        ))
    )  # fmt: skip


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


# --- health data in refused messages ---------------------------------------------------------

# Keys that make a payload health data wherever they appear in it.
HEALTH_KEYS = READING_VALUE_FIELDS | {"card_id", "measured_at"}
MAX_CARD_ID = 64


def health_content(payload: bytes) -> tuple[bool, str | None]:
    """Whether ``payload`` may hold health data, and the card id it names (if one).

    Anything that is not a JSON object counts as health data: nobody can tell what it holds.
    """
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return True, None
    if not isinstance(data, dict):
        return True, None
    found: set[str] = set()
    cards: list[str] = []
    _walk(data, found, cards, depth=0)
    card = next((c for c in cards if 0 < len(c) <= MAX_CARD_ID), None)
    return bool(found) or card is not None, card


def _walk(value: Any, found: set[str], cards: list[str], depth: int) -> None:
    if depth > 32:  # deeper than any protocol message: count it as unreadable
        found.add("(deep)")
        return
    items: Iterable[Any]
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in HEALTH_KEYS:
                found.add(key)
            if key == "card_id" and isinstance(inner, str):
                cards.append(inner)
        items = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return
    for inner in items:
        _walk(inner, found, cards, depth + 1)


def _site_of(session: Session, topic: str) -> int | None:
    parts = topic.split("/")
    if len(parts) < 3 or f"{parts[0]}/{parts[1]}" != PREFIX or not ID_PATTERN.match(parts[2]):
        return None
    return session.scalar(select(Site.id).where(Site.slug == parts[2]))


def prune_before(session: Session, *, before: datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` letters that last came before ``before`` (the retention job's,
    kiosk.scheduler), oldest first; how many."""
    over = DeadLetter.received_at < before
    return delete_some(
        session, DeadLetter.id, over, limit=limit, oldest_first=DeadLetter.received_at
    )


def purge_card(session: Session, card_id: str) -> int:
    """Delete every letter naming ``card_id`` (its holder withdrew consent); how many."""
    result = session.execute(delete(DeadLetter).where(DeadLetter.card_id == card_id))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_health_before(session: Session, site_id: int | None, cutoff: datetime) -> int:
    """Delete the letters that may hold health data of ``site_id`` (None: of no known site)
    received before ``cutoff``; how many."""
    where_site = DeadLetter.site_id.is_(None) if site_id is None else DeadLetter.site_id == site_id
    result = session.execute(
        delete(DeadLetter).where(
            DeadLetter.health_data.is_(True), where_site, DeadLetter.received_at < cutoff
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


health_retention.register_other_health_data(
    health_retention.OtherHealthData(
        name="refused_device_messages", purge_card=purge_card, purge_before=purge_health_before
    )
)
