"""Text messages are kept for the operator's period after they are over, sent or given up;
one still waiting to go is never pruned, however old."""

from __future__ import annotations

from datetime import timedelta

from booking_centre import Centre, at
from messages_phone import outbox_rows

from booking.core.db import Database
from booking.messages import outbox
from booking.messages.models.outbox import MessageState
from booking.messages.retention import prune_messages

FIRST_BACKOFF = timedelta(minutes=1)


def queue(db: Database, centre: Centre, count: int) -> list[int]:
    with db.write() as session:
        ids = []
        for n in range(count):
            message = outbox.enqueue(
                session, site_id=centre.site_id, resident_id=centre.residents[0],
                kind="booking_reminder", params=["自习室", f"11-24 1{n}:00"], now=at(9),
            )  # fmt: skip
            assert message is not None
            session.flush()
            ids.append(message.id)
        return ids


def test_sent_and_given_up_messages_go_after_the_period_and_waiting_ones_stay(
    any_database: Database, centre: Centre
) -> None:
    sent_long_ago, gave_up_long_ago, waiting, sent_lately = queue(any_database, centre, 4)
    with any_database.write() as session:
        rows = {m.id: m for m in outbox_rows(any_database, "booking_reminder")}
        for row in rows.values():
            session.add(row)
        rows[sent_long_ago].start_sending(at(9))
        rows[sent_long_ago].mark_sent(at(9), "ref-1")
        rows[gave_up_long_ago].start_sending(at(9))
        rows[gave_up_long_ago].mark_failed(
            at(9), "refused", max_attempts=1, first_backoff=FIRST_BACKOFF
        )
        rows[sent_lately].start_sending(at(9) + timedelta(days=30))
        rows[sent_lately].mark_sent(at(9) + timedelta(days=30), "ref-4")
    with any_database.write() as session:
        assert prune_messages(session, before=at(9)) == 0  # at the edge, nothing is over yet
        assert prune_messages(session, before=at(9) + timedelta(days=1)) == 2
    left = {m.id: m.state for m in outbox_rows(any_database, "booking_reminder")}
    assert left == {waiting: MessageState.QUEUED, sent_lately: MessageState.SENT}


def test_a_prune_takes_at_most_its_limit(any_database: Database, centre: Centre) -> None:
    ids = queue(any_database, centre, 3)
    with any_database.write() as session:
        for row in outbox_rows(any_database, "booking_reminder"):
            session.add(row)
            row.start_sending(at(9))
            row.mark_sent(at(9), "ref")
    with any_database.write() as session:
        assert prune_messages(session, before=at(10), limit=2) == 2
    with any_database.write() as session:
        assert prune_messages(session, before=at(10), limit=2) == 1
    assert outbox_rows(any_database, "booking_reminder") == [] and len(ids) == 3
