"""Which messages of a batch the ledger holds already, or may have held before it was pruned.

A (device, session, seq) is applied once: a redelivered message is acknowledged again and
changes nothing. Looked up in one query, and only for messages that can be repeats.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from devices.fleet import registry, retention
from devices.models.device import Device
from devices.models.messages import DeviceMessage
from devices.protocol.messages import (
    Birth,
    Event,
    Parsed,
    Reply,
    State,
)


def applied_keys(
    session: Session,
    parsed: Sequence[Parsed],
    devices: dict[str, tuple[Device, str]],
    asked: set[tuple[str, int, int]] | None = None,
) -> set[tuple[str, int, int]]:
    """Which of the batch's (device, session, seq) are in the ledger already: one query for
    those that can be (:func:`devices.fleet.registry.may_have_applied`), none for a batch of new
    messages, the usual case. Those looked up are added to ``asked``.

    One ``device = ? AND session = ? AND seq IN (…)`` term per (device, session), OR-ed: each
    is a search of the unique index. A row-value ``(device, session, seq) IN (…)`` reads the
    same, but SQLite answers it by scanning the whole table, every batch.
    """
    groups: dict[tuple[str, int], set[int]] = defaultdict(set)
    for p in parsed:
        message = p.message
        if not isinstance(message, Birth | State | Event | Reply):
            continue
        entry = devices.get(message.device)
        if entry is not None and registry.may_have_applied(entry[0], message.session, message.seq):
            groups[(message.device, message.session)].add(message.seq)
    if not groups:
        return set()
    if asked is not None:
        asked.update((d, s, seq) for (d, s), seqs in groups.items() for seq in seqs)
    found = session.execute(
        select(DeviceMessage.device_id, DeviceMessage.session, DeviceMessage.seq).where(
            or_(
                *(
                    and_(
                        DeviceMessage.device_id == device_id,
                        DeviceMessage.session == msg_session,
                        DeviceMessage.seq.in_(sorted(seqs)),
                    )
                    for (device_id, msg_session), seqs in sorted(groups.items())
                )
            )
        )
    )
    return {(device_id, msg_session, seq) for device_id, msg_session, seq in found}


def sequence_key(parsed: Parsed) -> tuple[str, int, int] | None:
    message = parsed.message
    if isinstance(message, Birth | State | Event | Reply):
        return (message.device, message.session, message.seq)
    return None


def forgotten_keys(
    session: Session,
    devices: dict[str, tuple[Device, str]],
    asked: set[tuple[str, int, int]],
    applied: set[tuple[str, int, int]],
) -> set[tuple[str, int, int]]:
    """Those the ledger may have held before the retention job pruned them
    (:func:`devices.fleet.retention.forgotten`): looked up, not found, at or below the mark."""
    missing = asked - applied
    if not missing:
        return set()
    counters = {device_id: entry[0].session_counter for device_id, entry in devices.items()}
    return retention.forgotten(session, missing, counters)
