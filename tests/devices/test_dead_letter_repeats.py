"""A refused message that comes again is the letter it made the first time, counted: a device
re-sends an event it was not acknowledged for (docs/protocol.md §5), and one acknowledged may
cross its ack, so a letter a copy would fill the console and the table with one mistake."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from devices.fleet import board
from devices.fleet.board import RefusedMessages
from devices.ingest import dead_letters
from devices.models.dead_letters import DeadLetter
from tests.devices import test_ingest
from tests.devices.test_ingest import BP, GOOD_EVENT, LOCKER, SITE, Feed

# The ingest tests' site, devices and message feed.
site = test_ingest.site
handlers = test_ingest.handlers
feed = test_ingest.feed

EVENT_TOPIC = f"linli/v1/{SITE}/{LOCKER}/event"
# Refused and never acknowledged: the locker re-sends it for ever, at most a minute apart.
UNREADABLE = json.dumps({**GOOD_EVENT, "compartment": "one"}).encode()


def letters(database: Database) -> list[tuple[str, str, int]]:
    with database.read() as session:
        return [
            (d.topic, d.reason, d.repeats)
            for d in session.scalars(select(DeadLetter).order_by(DeadLetter.id))
        ]


def test_an_unacknowledged_refusal_sent_again_and_again_is_one_letter_counting_the_times(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    first = feed.apply(feed.raw(EVENT_TOPIC, UNREADABLE))
    for _ in range(3):
        clock.advance(timedelta(seconds=60))
        again = feed.apply(feed.raw(EVENT_TOPIC, UNREADABLE))
        # Each is still a refusal, counted by the bridge, and still not acknowledged.
        assert (again.dead_letters, again.acks) == ({"schema": 1}, [])
    assert first.dead_letters == {"schema": 1}
    assert letters(database) == [(EVENT_TOPIC, "schema", 3)]
    with database.read() as session:
        letter = session.scalars(select(DeadLetter)).one()
        # Retention counts from the last time it came: the device still holds it.
        assert letter.received_at == clock.now()
        assert dead_letters.counts(session) == {"schema": 1}


def test_an_acknowledged_refusal_that_crossed_its_ack_is_the_same_letter(
    feed: Feed, database: Database
) -> None:
    wrong_kind = feed.event(7, 3, "door_closed", device=BP, compartment=1)
    first = feed.apply(wrong_kind)
    # Twice in the next batch: the re-send and the one after it, before the ack arrived.
    again = feed.apply(wrong_kind, wrong_kind)
    assert first.dead_letters == {"wrong_kind": 1}
    assert again.dead_letters == {"wrong_kind": 2}
    assert len(first.acks) == 1 and again.acks == first.acks * 2
    assert letters(database) == [(wrong_kind.topic, "wrong_kind", 2)]


def test_a_different_message_or_the_same_one_from_another_device_is_a_letter_of_its_own(
    feed: Feed, database: Database
) -> None:
    other_seq = json.dumps({**GOOD_EVENT, "seq": 2, "compartment": "one"}).encode()
    other_topic = f"linli/v1/{SITE}/{BP}/event"
    feed.apply(
        feed.raw(EVENT_TOPIC, UNREADABLE),
        feed.raw(EVENT_TOPIC, other_seq),
        feed.raw(other_topic, UNREADABLE),
        feed.raw(EVENT_TOPIC, UNREADABLE),
    )
    assert sorted(letters(database)) == sorted(
        [(EVENT_TOPIC, "schema", 1), (EVENT_TOPIC, "schema", 0), (other_topic, "schema", 0)]
    )


def test_staff_see_one_refused_message_received_four_times(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    for _ in range(4):
        feed.apply(feed.raw(EVENT_TOPIC, UNREADABLE))
        clock.advance(timedelta(seconds=30))
    with database.read() as session:
        (locker,) = [
            row for row in board.board(session, _site_id(database)) if row.device_id == LOCKER
        ]
    assert locker.refused == (
        RefusedMessages("schema", 1, clock.now() - timedelta(seconds=30), times=4),
    )


def test_a_refusal_that_comes_again_after_staff_resolved_its_alert_raises_it_again(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.raw(EVENT_TOPIC, UNREADABLE))
    with database.write() as session:
        alert = session.scalars(select(StaffAlert)).one()
        alert.resolve(now=clock.now())
    clock.advance(timedelta(seconds=60))
    feed.apply(feed.raw(EVENT_TOPIC, UNREADABLE))
    with database.read() as session:
        statuses = [a.status for a in session.scalars(select(StaffAlert).order_by(StaffAlert.id))]
    assert statuses == [AlertStatus.RESOLVED, AlertStatus.OPEN]


def _site_id(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(Site.id).where(Site.slug == SITE)) or 0)


UNREGISTERED_TOPIC = "linli/v1/nowhere/ghost-locker/event"


def test_two_workers_refusing_one_unregistered_device_s_message_together_make_one_letter(
    postgres_database: Database, clock: FrozenClock
) -> None:
    """Both workers may get a copy of a re-sent message. An unregistered device has no row to
    lock, so the second worker's transaction waits for the first's letter instead."""

    def refuse(session: Session) -> None:
        dead_letters.record(
            session, topic=UNREGISTERED_TOPIC, reason="unknown_device", payload=UNREADABLE,
            received_at=clock.now(), device_id="ghost-locker",
        )  # fmt: skip

    second_done = threading.Event()

    def second_worker() -> None:
        with postgres_database.write() as session:
            refuse(session)
        second_done.set()

    with postgres_database.write() as session:
        refuse(session)
        second = threading.Thread(target=second_worker)
        second.start()
        # Until the first commits, the second waits (without the lock it made its own letter).
        assert not second_done.wait(timeout=1.0)
    second.join(timeout=10)
    assert second_done.is_set()
    assert letters(postgres_database) == [(UNREGISTERED_TOPIC, "unknown_device", 1)]


def test_a_letter_kept_before_digests_existed_counts_the_same_message_refused_again(
    empty_database_url: str, clock: FrozenClock
) -> None:
    """Migration 0021l gives the letters of before 0020d their digest."""
    from kiosk import migrate

    migrate.upgrade(empty_database_url, "0020d")
    database = Database(empty_database_url)
    try:
        with database.write() as session:
            session.execute(
                DeadLetter.__table__.insert().values(
                    topic=EVENT_TOPIC, reason="schema", detail="", payload=UNREADABLE,
                    received_at=clock.now(), digest=None, repeats=0, health_data=False,
                )
            )  # fmt: skip
        migrate.upgrade(empty_database_url)
        clock.advance(timedelta(seconds=60))
        with database.write() as session:
            dead_letters.record(
                session, topic=EVENT_TOPIC, reason="schema", payload=UNREADABLE,
                received_at=clock.now(),
            )  # fmt: skip
        assert letters(database) == [(EVENT_TOPIC, "schema", 1)]
    finally:
        database.dispose()
