"""A request waiting for its command is told by PostgreSQL the moment the command is final.

The waits here would read the command's row only every 30 s: an answer seen within seconds
was heard, not polled for.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
from device_rows import T0, add_device
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import text
from sqlalchemy.engine import make_url
from test_commands import Reply

from booking.core.clock import FrozenClock, SystemClock
from booking.core.db import Database
from devices.commands import operations as commands
from devices.commands import outcomes, waiting
from devices.commands.waiting import CommandOutcome, OutcomeResult
from devices.ingest.apply import Inbound
from devices.ingest.batch_commit import commit_batch
from devices.ingest.handlers import default_handlers
from devices.models.commands import CommandState

HEARD_WITHIN_S = 3.0
NEVER_S = 30.0


@pytest.fixture
def db(postgres_database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    add_device(postgres_database)
    for name in ("FAST_POLL_S", "MAX_POLL_S", "LISTENED_POLL_S"):
        monkeypatch.setattr(waiting, name, NEVER_S)
    yield postgres_database


def listening(database: Database) -> outcomes.Waits:
    waits = outcomes.waits_for(database)
    assert waits is not None
    deadline = time.monotonic() + HEARD_WITHIN_S
    while not waits.listening:
        assert time.monotonic() < deadline, "the outcome listener never listened"
        time.sleep(0.01)
    return waits


def issue_open(database: Database) -> str:
    with database.write() as session:
        return commands.issue(session, "locker-1", "open", {"compartment": 1}, T0,
                              ttl=timedelta(seconds=60), requested_by="kiosk:resident:1").id  # fmt: skip


def answer(database: Database, command_id: str, status: str, *, then_fail: bool = False) -> None:
    with database.write() as session:
        commands.record_reply(session, Reply("locker-1", command_id, status, "jammed"), T0)
        if then_fail:
            raise RuntimeError("the rest of the transaction failed")


@contextmanager
def waiting_in_background(database: Database, command_id: str) -> Iterator[Future[CommandOutcome]]:
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(waiting.wait_for_outcome, database, command_id,
                             deadline=time.monotonic() + NEVER_S, clock=FrozenClock(T0))  # fmt: skip
        time.sleep(0.2)  # it has read the row once and sleeps
        assert not future.done()
        yield future


@pytest.mark.postgres
def test_a_waiter_hears_the_device_s_answer_at_once(db: Database) -> None:
    listening(db)
    command_id = issue_open(db)
    with waiting_in_background(db, command_id) as waited:
        answer(db, command_id, "accepted")
        answer(db, command_id, "done")
        assert waited.result(timeout=HEARD_WITHIN_S).result is OutcomeResult.DONE


@pytest.mark.postgres
def test_a_refusal_and_a_timeout_are_heard_too(db: Database) -> None:
    waits = listening(db)
    refused, overdue = issue_open(db), issue_open(db)
    heard = {command_id: waits.expect(command_id) for command_id in (refused, overdue)}
    answer(db, refused, "rejected")
    assert heard[refused].wait(HEARD_WITHIN_S)
    assert not heard[overdue].is_set()
    with db.write() as session:
        commands.expire_overdue(session, T0 + timedelta(minutes=5))
    assert heard[overdue].wait(HEARD_WITHIN_S)
    for command_id, event in heard.items():
        waits.forget(command_id, event)


@pytest.mark.postgres
def test_only_a_final_committed_answer_wakes_the_waiter_of_that_command(db: Database) -> None:
    waits = listening(db)
    mine, other = issue_open(db), issue_open(db)
    heard = waits.expect(mine)
    answer(db, mine, "accepted")  # not final: the wait goes on
    with pytest.raises(RuntimeError):
        answer(db, mine, "done", then_fail=True)  # rolled back: nothing happened
    answer(db, other, "done")
    assert not heard.wait(0.5)
    answer(db, mine, "done")
    assert heard.wait(HEARD_WITHIN_S)
    waits.forget(mine, heard)


@pytest.mark.postgres
def test_a_lost_listening_connection_wakes_every_waiter_once_it_is_back(db: Database) -> None:
    waits = listening(db)
    command_id = issue_open(db)
    heard = waits.expect(command_id)
    with db.engine.connect() as connection:
        ended = connection.scalar(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                 "WHERE application_name = :name"), {"name": outcomes.listen_name()},
        )  # fmt: skip
    assert ended == 1
    # Nothing was answered, but a notice may have been missed while it was down: look again.
    assert heard.wait(HEARD_WITHIN_S + 1.0)
    waits.forget(command_id, heard)
    listening(db)
    command_id = issue_open(db)
    with waiting_in_background(db, command_id) as waited:
        answer(db, command_id, "done")
        assert waited.result(timeout=HEARD_WITHIN_S).result is OutcomeResult.DONE


@pytest.mark.postgres
def test_one_listening_connection_serves_a_process_s_every_schema(db: Database) -> None:
    waits = listening(db)
    elsewhere = make_url(db.url).update_query_dict({"options": "-csearch_path=elsewhere"})
    other = Database(elsewhere.render_as_string(hide_password=False))
    try:
        assert outcomes.waits_for(other) is waits
    finally:
        other.dispose()
    with db.engine.connect() as connection:
        count = connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": outcomes.listen_name()},
        )
    assert count == 1


def test_without_notices_the_waiter_reads_the_row_until_it_is_final(
    database: Database,
) -> None:
    add_device(database)
    assert outcomes.waits_for(database) is None
    command_id = issue_open(database)
    timer = threading.Timer(0.1, answer, args=(database, command_id, "done"))
    timer.start()
    try:
        outcome = waiting.wait_for_outcome(database, command_id,
                                           deadline=time.monotonic() + 10, clock=FrozenClock(T0))  # fmt: skip
    finally:
        timer.join()
    assert outcome.result is OutcomeResult.DONE


@pytest.mark.postgres
def test_a_device_s_answer_and_its_handlers_read_the_command_once(db: Database) -> None:
    # The notice goes out at the commit: sent at once, its statement flushed the command,
    # which then left the session and the lending handler read it a second time.
    clock = SystemClock()
    handlers = default_handlers()

    def message(topic_kind: str, seq: int, **body: object) -> Inbound:
        now = clock.now()
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        payload = {"v": 1, "device": "locker-1", "session": 1, "seq": seq, "ts": stamp, **body}
        return Inbound(f"linli/v1/demo/locker-1/{topic_kind}", json.dumps(payload).encode(), now)

    def commit(item: Inbound) -> None:
        commit_batch(db, [item], clock, handlers, retry_delay=0.1, stopping=lambda _: True)

    closed = [{"n": n, "lock": "locked", "door": "closed", "item_present": False}
              for n in range(1, 9)]  # fmt: skip
    commit(message("birth", 0, kind="locker", firmware="test", heartbeat_s=30,
                   capabilities={"compartments": 8}, state={"compartments": closed}))  # fmt: skip
    command_id = issue_open(db)
    reads: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM device_commands" in " ".join(statement.split()):
            reads.append(statement)

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", count)
    try:
        commit(message("reply", 1, command_id=command_id, status="done"))
    finally:
        sqlalchemy_event.remove(db.engine, "before_cursor_execute", count)
    with db.read() as session:
        assert commands.get(session, command_id).state is CommandState.SUCCEEDED
    assert len(reads) == 1
