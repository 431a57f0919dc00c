"""The ledger's bulk insert stores what the ORM would, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from device_rows import add_device
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from booking.core.db import Database
from devices.ingest.ledger import LedgerRow, insert_rows
from devices.models.messages import DeviceMessage

WHEN = datetime(2026, 11, 24, 1, 30, 0, 123000, tzinfo=UTC)


def _row(seq: int, **changes: object) -> LedgerRow:
    row = LedgerRow(
        "locker-a",
        3,
        seq,
        "event",
        "door_opened",
        {"type": "door_opened", "compartment": 2, "note": "门已打开"},
        WHEN + timedelta(hours=8),
    )
    return row._replace(**changes)


def test_rows_read_back_through_the_model_as_they_were_given(any_database: Database) -> None:
    add_device(any_database, "locker-a")
    rows = [_row(1), _row(2, kind="birth", event_type=None, payload={"state": {}})]
    with any_database.write() as session:
        insert_rows(session.connection(), rows, WHEN)
    with any_database.read() as session:
        stored = session.scalars(select(DeviceMessage).order_by(DeviceMessage.seq)).all()
        assert [
            LedgerRow(m.device_id, m.session, m.seq, m.kind, m.event_type, m.payload, m.device_ts)
            for m in stored
        ] == rows
        assert [m.received_at for m in stored] == [WHEN, WHEN]


def test_a_row_already_in_the_ledger_is_refused_and_nothing_of_the_batch_is_kept(
    any_database: Database,
) -> None:
    add_device(any_database, "locker-a")
    with any_database.write() as session:
        insert_rows(session.connection(), [_row(1)], WHEN)
    with pytest.raises(IntegrityError), any_database.write() as session:
        insert_rows(session.connection(), [_row(2), _row(1)], WHEN)
    with any_database.read() as session:
        assert session.scalars(select(DeviceMessage.seq)).all() == [1]


def test_no_rows_is_no_statement(any_database: Database) -> None:
    with any_database.write() as session:
        insert_rows(session.connection(), [], WHEN)
        assert session.scalars(select(DeviceMessage.seq)).all() == []
