"""Retention of the device side's growing tables: the ledger of applied messages
(``device_messages``) and finished commands (``device_commands``).

**Exactly-once survives pruning.** The ledger is how the bridge knows a (device, session,
seq) was applied (:mod:`devices.ingest.apply`): a message that may have been applied is looked up,
and a row found makes it a duplicate. Deleting the row alone would let a re-sent copy be
applied a second time. So the deletion raises the device's ``ledger_pruned_through`` to the
newest (session, seq) it deleted, in the same transaction, and the bridge reads that mark
after it has looked a message up: a message at or below the mark and missing from the ledger
is *forgotten* (it may have been applied) and is never applied again. The bridge keeps it as
a dead letter (``beyond_ledger``) and acks it, so the device stops re-sending and staff see it.

Only a message that was never applied and is re-sent after its device's later messages
have been pruned ends up there: an event lost on the way and still in a device's outbox
when it went away for longer than the period. An outbox's unsent events always come after
what the server received, so a device away for months is simply applied as usual.

Commands are kept while they await the device's answer, whatever their age, and for the
audit period after they finished.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from booking.core.retention import BATCH, delete_some
from devices.fleet.registry import version
from devices.models.commands import CommandState, DeviceCommand
from devices.models.device import Device
from devices.models.messages import DeviceMessage

log = logging.getLogger(__name__)

_FINAL_STATES = sorted(state.value for state in CommandState if state.is_final)

Key = tuple[str, int, int]


def devices_with_old_messages(session: Session, *, before: datetime) -> list[str]:
    """The devices that have ledger rows received before ``before``."""
    return list(
        session.scalars(
            select(DeviceMessage.device_id)
            .where(DeviceMessage.received_at < before)
            .group_by(DeviceMessage.device_id)
            .order_by(DeviceMessage.device_id)
        )
    )


def prune_ledger(session: Session, device_id: str, *, before: datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` of the device's ledger rows received before ``before``, oldest
    (session, seq) first, and raise its ``ledger_pruned_through`` to cover them; how many.

    One device per call: the transaction locks that device's row alone, so it can never
    wait on the bridge in a cycle (the bridge updates several devices in one commit).
    """
    rows = session.execute(
        select(DeviceMessage.id, DeviceMessage.session, DeviceMessage.seq)
        .where(DeviceMessage.device_id == device_id, DeviceMessage.received_at < before)
        .order_by(DeviceMessage.session, DeviceMessage.seq)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    newest = max(version(row.session, row.seq) for row in rows)
    # In the same transaction as the deletion: no reader sees the rows gone without the mark.
    mark = Device.ledger_pruned_through
    session.execute(
        update(Device)
        .where(Device.device_id == device_id)
        .values(ledger_pruned_through=case((mark.is_(None) | (mark < newest), newest), else_=mark))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(DeviceMessage)
        .where(DeviceMessage.id.in_([row.id for row in rows]))
        .execution_options(synchronize_session=False)
    )
    return len(rows)


def prune_commands(session: Session, *, before: datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` commands that finished before ``before``; how many.

    A command still waiting for its device (created, sent, accepted) stays, however old:
    the expiry job finishes it, and the period counts from then.
    """
    finished = func.coalesce(DeviceCommand.finished_at, DeviceCommand.created_at)
    over = DeviceCommand.state.in_(_FINAL_STATES) & (finished < before)
    return delete_some(session, DeviceCommand.id, over, limit=limit)


# --- what the bridge asks ----------------------------------------------------------------------


def forgotten(
    session: Session, missing: Iterable[Key], counters: Mapping[str, int | None]
) -> set[Key]:
    """Of messages the bridge looked up and did not find in the ledger, those it may have
    applied before their rows were pruned (at or below their device's mark).

    ``counters`` is each device's current session counter. A mark above it belongs to an
    earlier life of the device (its counter was reset since), and covers nothing now.
    The marks are read afresh here, after the lookup, so a prune that committed in between
    is seen: its rows gone means its mark is visible.
    """
    missing = list(missing)
    if not missing:
        return set()
    marks: dict[str, int] = {
        device_id: mark
        for device_id, mark in session.execute(
            select(Device.device_id, Device.ledger_pruned_through).where(
                Device.device_id.in_(sorted({key[0] for key in missing})),
                Device.ledger_pruned_through.is_not(None),
            )
        )
        if mark is not None
    }
    found: set[Key] = set()
    for key in missing:
        device_id, msg_session, seq = key
        mark = marks.get(device_id)
        counter = counters.get(device_id)
        if mark is None or counter is None or mark >> 32 > counter:
            continue
        if version(msg_session, seq) <= mark:
            found.add(key)
    if found:
        log.warning(
            "%d message(s) older than the device ledger keeps: not applied again", len(found)
        )
    return found
