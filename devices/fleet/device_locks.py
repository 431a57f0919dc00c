"""Locking devices in the order every batch of their messages locks them: by ``device_id``.

A batch locks its devices ``ORDER BY device_id FOR NO KEY UPDATE`` (devices.ingest.intake), so
two workers' batches never wait for each other in a cycle. A scheduled job that changes devices it
found by a plain read must lock them in the same order: taken in table order, the silent-device
job and two batches each held a row another wanted, and PostgreSQL broke the deadlock by
failing one (docs/scaling.md, item 4). Once it holds them it reads them again, since a batch
may have changed them meanwhile, and decides on what it reads then.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.models.device import Device


def lock_in_batch_order(session: Session, devices: Sequence[Device]) -> list[Device]:
    """``devices``, locked in ``device_id`` order and read again, for the rest of the
    transaction. On SQLite, whose writers queue anyway, they are returned as they are."""
    if not devices or session.get_bind().dialect.name != "postgresql":
        return list(devices)
    return list(
        session.scalars(
            select(Device)
            .where(Device.id.in_([device.id for device in devices]))
            .order_by(Device.device_id)
            .with_for_update(key_share=True)  # as a batch's: see devices.ingest.intake
            .execution_options(populate_existing=True)
        )
    )
