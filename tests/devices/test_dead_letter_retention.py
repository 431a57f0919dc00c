"""Refused device messages that may hold health data live only as long as the health records:
the site's retention period, or until the card's holder withdraws consent."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.health import operations as health
from booking.health import retention as health_retention
from devices.ingest import dead_letters
from devices.models.dead_letters import DeadLetter
from devices.protocol.messages import Reason

READING = {
    "v": 1, "device": "locker-1", "session": 3, "seq": 4, "ts": "2026-11-24T01:30:00.000Z",
    "type": "reading", "systolic": 148, "diastolic": 86, "card_id": "C0012345",
}  # fmt: skip
DOOR = {"v": 1, "device": "locker-1", "session": 3, "seq": 5, "ts": "2026-11-24T01:30:00.000Z",
        "type": "door_closed", "compartment": "one"}  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "health_data", "card"),
    [
        (json.dumps(READING).encode(), True, "C0012345"),
        (json.dumps({**READING, "card_id": None}).encode(), True, None),
        (json.dumps({"state": {"nested": {"pulse": 70}}}).encode(), True, None),
        (json.dumps(DOOR).encode(), False, None),
        (b"\xff\xfe not json", True, None),
        (b"[1, 2, 3]", True, None),
    ],
    ids=["reading", "reading-no-card", "nested-value", "door-event", "unreadable", "not-object"],
)
def test_a_dead_letter_knows_whether_it_may_hold_health_data_and_which_card(
    payload: bytes, health_data: bool, card: str | None
) -> None:
    assert dead_letters.health_content(payload) == (health_data, card)


def test_the_health_retention_purge_deletes_old_refused_health_data_and_keeps_the_rest(
    database: Database, clock: FrozenClock
) -> None:
    with database.write() as session:
        site = Site(slug="xinhua", name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        days = health.settings_for(session, site.id).retention_days
        old = clock.now() - timedelta(days=days + 1)
        recent = clock.now() - timedelta(days=days - 1)
        for when, payload, topic in (
            (old, json.dumps(READING).encode(), "linli/v1/xinhua/locker-1/event"),
            (recent, json.dumps({**READING, "seq": 6}).encode(), "linli/v1/xinhua/locker-1/event"),
            (old, json.dumps(DOOR).encode(), "linli/v1/xinhua/locker-1/event"),
            (old, b"garbage", "linli/v1/nowhere/locker-9/event"),
        ):
            dead_letters.record(
                session, topic=topic, reason=Reason.SCHEMA, payload=payload, received_at=when,
                device_id="locker-1",
            )  # fmt: skip
    with database.write() as session:
        health_retention.purge_expired(session, clock.now())
    with database.read() as session:
        kept = [(d.received_at, d.health_data) for d in session.scalars(select(DeadLetter))]
    assert sorted(kept) == sorted([(recent, True), (old, False)])
