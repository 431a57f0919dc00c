"""The command state machine on both databases: issue, sent, replies, expiry, final states."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from device_rows import T0, add_device
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from statement_log import statements_run

from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.commands import operations as commands
from devices.commands import outbox as command_outbox
from devices.commands import waiting
from devices.commands.operations import (
    ACCEPTED_GRACE,
    DeviceNotFound,
    DeviceOffline,
    InvalidCommand,
)
from devices.commands.waiting import CommandOutcome, OutcomeResult
from devices.models.commands import CommandState, DeviceCommand
from devices.models.device import DeviceKind
from devices.models.outbox import CommandOutbox


@dataclass(frozen=True)
class Reply:
    device: str
    command_id: str
    status: str
    reason: str | None = None


@pytest.fixture
def db(any_database: Database) -> Database:
    add_device(any_database)
    return any_database


def issue_open(database: Database, now: datetime = T0, compartment: int = 3) -> str:
    with database.write() as session:
        command = commands.issue(
            session,
            "locker-1",
            "open",
            {"compartment": compartment},
            now,
            ttl=timedelta(seconds=10),
            requested_by="kiosk:resident:12",
        )
        return command.id


def state_of(database: Database, command_id: str) -> DeviceCommand:
    with database.read() as session:
        command = commands.get(session, command_id)
        session.expunge(command)
        return command


def reply(database: Database, command_id: str, status: str, **kw: object) -> None:
    device = str(kw.pop("device", "locker-1"))
    reason = kw.pop("reason", None)
    with database.write() as session:
        commands.record_reply(
            session,
            Reply(device, command_id, status, reason if isinstance(reason, str) else None),
            T0 + timedelta(seconds=1),
        )


def test_issuing_stores_a_created_command_with_its_expiry_and_who_asked(db: Database) -> None:
    command_id = issue_open(db)
    command = state_of(db, command_id)
    assert command.state is CommandState.CREATED
    assert command.site == "demo"
    assert command.args == {"compartment": 3}
    assert command.created_at == T0
    assert command.expires_at == T0 + timedelta(seconds=10)
    assert command.requested_by == "kiosk:resident:12"
    assert command.sent_at is None and command.send_count == 0


def test_issuing_reads_the_device_and_its_centre_in_one_statement(db: Database) -> None:
    """A resident at the locker waits for this transaction."""
    with statements_run(db) as run:
        command_id = issue_open(db)
    # Reads of tables (PostgreSQL's notice for the outbox is a SELECT of none).
    assert sum(n for (verb, table), n in run.items() if verb == "SELECT" and table) == 1
    assert state_of(db, command_id).site == "demo"


def test_the_payload_follows_the_command_schema(db: Database) -> None:
    command = state_of(db, issue_open(db))
    assert commands.command_payload(command) == {
        "v": 1,
        "id": command.id,
        "name": "open",
        "args": {"compartment": 3},
        "issued_at": "2026-11-24T01:30:00.000Z",
        "expires_at": "2026-11-24T01:30:10.000Z",
    }
    assert commands.command_topic(command.site, command.device_id) == "linli/v1/demo/locker-1/cmd"


@pytest.mark.parametrize(("name", "args"), [("open", {"compartment": 8}), ("status", {})])
def test_every_payload_validates_against_the_published_schema(
    db: Database, name: str, args: dict[str, int]
) -> None:
    schema_path = Path(__file__).parents[2] / "docs" / "schemas" / "command.json"
    validator = Draft202012Validator(
        json.loads(schema_path.read_text()), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    with db.write() as session:
        command = commands.issue(session, "locker-1", name, args, T0, requested_by="staff:3")
        payload = commands.command_payload(command)
    assert list(validator.iter_errors(payload)) == []


def test_a_command_to_an_offline_device_fails_fast_and_stores_nothing(
    any_database: Database,
) -> None:
    add_device(any_database, online=False)
    with pytest.raises(DeviceOffline) as raised:
        issue_open(any_database)
    assert raised.value.code == "device_offline"
    with any_database.read() as session:
        assert session.scalar(select(func.count()).select_from(DeviceCommand)) == 0


def test_a_command_to_an_unknown_device_is_refused(db: Database) -> None:
    with db.write() as session, pytest.raises(DeviceNotFound) as raised:
        commands.issue(session, "locker-9", "status", {}, T0, requested_by="staff:3")
    assert raised.value.code == "device_not_found"


@pytest.mark.parametrize(
    ("name", "args", "ttl"),
    [
        ("explode", {}, timedelta(seconds=10)),
        ("open", {}, timedelta(seconds=10)),
        ("open", {"compartment": 0}, timedelta(seconds=10)),
        ("open", {"compartment": 9}, timedelta(seconds=10)),
        ("open", {"compartment": "3"}, timedelta(seconds=10)),
        ("open", {"compartment": True}, timedelta(seconds=10)),
        ("open", {"compartment": 3, "force": True}, timedelta(seconds=10)),
        ("status", {"compartment": 3}, timedelta(seconds=10)),
        ("open", {"compartment": 3}, timedelta(0)),
        ("open", {"compartment": 3}, timedelta(hours=1)),
    ],
)
def test_bad_commands_are_refused_and_store_nothing(
    db: Database, name: str, args: dict[str, object], ttl: timedelta
) -> None:
    with pytest.raises(InvalidCommand) as raised, db.write() as session:
        commands.issue(session, "locker-1", name, args, T0, ttl=ttl, requested_by="staff:3")
    assert raised.value.code == "invalid_command"
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(DeviceCommand)) == 0


def test_a_blood_pressure_terminal_cannot_be_told_to_open(db: Database) -> None:
    add_device(db, "bp-1", kind=DeviceKind.BP_TERMINAL)
    with pytest.raises(InvalidCommand), db.write() as session:
        commands.issue(session, "bp-1", "open", {"compartment": 1}, T0, requested_by="system")


def test_a_command_without_requester_is_refused(db: Database) -> None:
    with pytest.raises(InvalidCommand), db.write() as session:
        commands.issue(session, "locker-1", "status", {}, T0, requested_by="  ")


def test_the_broker_acknowledgement_marks_the_command_sent(db: Database) -> None:
    command_id = issue_open(db)
    with db.write() as session:
        commands.mark_sent(session, command_id, T0 + timedelta(milliseconds=5))
    command = state_of(db, command_id)
    assert command.state is CommandState.SENT
    assert command.sent_at == T0 + timedelta(milliseconds=5)
    assert command.send_count == 1


def test_a_second_publication_counts_but_keeps_the_first_sent_time(db: Database) -> None:
    command_id = issue_open(db)
    for ms in (5, 900):
        with db.write() as session:
            commands.mark_sent(session, command_id, T0 + timedelta(milliseconds=ms))
    command = state_of(db, command_id)
    assert command.sent_at == T0 + timedelta(milliseconds=5)
    assert command.last_sent_at == T0 + timedelta(milliseconds=900)
    assert command.send_count == 2


def test_accepted_then_done_succeeds_with_each_time_recorded(db: Database) -> None:
    command_id = issue_open(db)
    reply(db, command_id, "accepted")
    accepted = state_of(db, command_id)
    assert accepted.state is CommandState.ACCEPTED
    assert accepted.accepted_at == T0 + timedelta(seconds=1)
    reply(db, command_id, "done")
    done = state_of(db, command_id)
    assert done.state is CommandState.SUCCEEDED
    assert done.finished_at == T0 + timedelta(seconds=1)
    assert CommandOutcome.of(done).result is OutcomeResult.DONE


def test_a_reply_that_overtakes_the_sent_mark_is_not_rolled_back_by_it(db: Database) -> None:
    command_id = issue_open(db)
    reply(db, command_id, "accepted")
    with db.write() as session:
        commands.mark_sent(session, command_id, T0 + timedelta(seconds=2))
    command = state_of(db, command_id)
    assert command.state is CommandState.ACCEPTED
    assert command.sent_at == T0 + timedelta(seconds=2)


def test_a_rejection_before_acceptance_is_rejected_with_the_device_reason(db: Database) -> None:
    command_id = issue_open(db)
    reply(db, command_id, "rejected", reason="door_open")
    command = state_of(db, command_id)
    assert command.state is CommandState.REJECTED
    assert command.reason == "door_open"
    assert CommandOutcome.of(command) == CommandOutcome(
        OutcomeResult.REJECTED, command_id, "door_open", CommandState.REJECTED
    )


def test_a_rejection_after_acceptance_is_a_failure(db: Database) -> None:
    command_id = issue_open(db)
    reply(db, command_id, "accepted")
    reply(db, command_id, "rejected", reason="jammed")
    command = state_of(db, command_id)
    assert command.state is CommandState.FAILED
    assert command.reason == "jammed"
    assert CommandOutcome.of(command).result is OutcomeResult.REJECTED


@pytest.mark.parametrize("final", ["done", "rejected"])
@pytest.mark.parametrize("late", ["accepted", "done", "rejected"])
def test_a_final_state_never_changes_again(db: Database, final: str, late: str) -> None:
    command_id = issue_open(db)
    reply(db, command_id, final, reason="busy")
    before = state_of(db, command_id)
    reply(db, command_id, late, reason="jammed")
    after = state_of(db, command_id)
    assert (after.state, after.reason, after.finished_at) == (
        before.state,
        before.reason,
        before.finished_at,
    )


def test_a_late_done_after_a_timeout_is_ignored(db: Database) -> None:
    command_id = issue_open(db)
    with db.write() as session:
        commands.expire_overdue(session, T0 + timedelta(seconds=10))
    reply(db, command_id, "done")
    assert state_of(db, command_id).state is CommandState.TIMED_OUT


def test_a_reply_for_an_unknown_command_is_ignored(db: Database) -> None:
    with db.write() as session:
        result = commands.record_reply(
            session, Reply("locker-1", "0b7e0a0e-0000-4000-8000-000000000000", "done"), T0
        )
    assert result is None


def test_a_device_cannot_answer_for_another_devices_command(db: Database) -> None:
    add_device(db, "locker-2")
    command_id = issue_open(db)
    reply(db, command_id, "done", device="locker-2")
    assert state_of(db, command_id).state is CommandState.CREATED


def test_a_reply_with_an_unknown_status_is_ignored(db: Database) -> None:
    command_id = issue_open(db)
    reply(db, command_id, "maybe")
    assert state_of(db, command_id).state is CommandState.CREATED


def test_commands_without_a_final_answer_time_out_at_their_expiry(db: Database) -> None:
    unsent = issue_open(db)
    sent = issue_open(db, compartment=4)
    with db.write() as session:
        commands.mark_sent(session, sent, T0)
    with db.write() as session:
        assert commands.expire_overdue(session, T0 + timedelta(seconds=9, milliseconds=999)) == []
    with db.write() as session:
        expired = commands.expire_overdue(session, T0 + timedelta(seconds=10))
    assert {c.id for c in expired} == {unsent, sent}
    assert state_of(db, unsent).reason == "not_delivered"
    timed_out = state_of(db, sent)
    assert (timed_out.state, timed_out.reason) == (CommandState.TIMED_OUT, "no_reply")
    assert timed_out.finished_at == T0 + timedelta(seconds=10)


def test_an_accepted_command_gets_a_grace_period_before_timing_out(db: Database) -> None:
    command_id = issue_open(db)
    reply(db, command_id, "accepted")
    expiry = T0 + timedelta(seconds=10)
    with db.write() as session:
        assert commands.expire_overdue(session, expiry) == []
    with db.write() as session:
        assert [c.id for c in commands.expire_overdue(session, expiry + ACCEPTED_GRACE)] == [
            command_id
        ]


def test_expiry_leaves_finished_commands_alone(db: Database) -> None:
    command_id = issue_open(db)
    reply(db, command_id, "done")
    with db.write() as session:
        assert commands.expire_overdue(session, T0 + timedelta(hours=1)) == []
    assert state_of(db, command_id).state is CommandState.SUCCEEDED


def test_retrying_an_expired_command_is_refused(db: Database) -> None:
    command_id = issue_open(db)
    clock = FrozenClock(T0 + timedelta(seconds=10))
    with pytest.raises(commands.CommandExpired) as raised:
        waiting.retry(db, command_id, clock=clock)
    assert raised.value.code == "command_expired"


def test_retrying_a_finished_command_returns_its_outcome_without_sending(db: Database) -> None:
    command_id = issue_open(db)
    reply(db, command_id, "rejected", reason="busy")
    take_queued(db)
    outcome = waiting.retry(db, command_id, clock=FrozenClock(T0))
    assert (outcome.result, outcome.reason) == (OutcomeResult.REJECTED, "busy")
    # A finished command is not queued to be published again.
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(CommandOutbox)) == 0


def take_queued(database: Database, now: datetime = T0) -> list[str]:
    """What the bridge would take and send now: the rows are gone, the live ones returned."""
    with database.write() as session:
        found = command_outbox.queued(session, "demo")
        command_outbox.remove(session, [row_id for row_id, _ in found])
        return [c.id for _, c in found if command_outbox.worth_sending(c, now)]


def test_an_issued_command_is_queued_for_the_bridge_in_the_same_transaction(
    db: Database,
) -> None:
    command_id = issue_open(db)
    with db.read() as session:
        assert session.scalars(select(CommandOutbox.command_id)).all() == [command_id]
    assert take_queued(db) == [command_id]
    # Taken once: a second bridge (or the next turn) finds nothing.
    assert take_queued(db) == []


def test_a_command_issued_in_a_transaction_that_rolls_back_is_never_queued(
    db: Database,
) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        commands.issue(session, "locker-1", "open", {"compartment": 1}, T0,
                       requested_by="kiosk:resident:12")  # fmt: skip
        raise RuntimeError("the pickup failed after issuing")
    assert take_queued(db) == []


def test_a_command_taken_after_its_expiry_is_dropped_not_sent(db: Database) -> None:
    command_id = issue_open(db)  # expires at T0 + 10 s
    assert take_queued(db, T0 + timedelta(seconds=10)) == []
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(CommandOutbox)) == 0
    assert state_of(db, command_id).state is CommandState.CREATED


def test_a_command_already_timed_out_is_not_sent_when_taken(db: Database) -> None:
    command_id = issue_open(db)
    with db.write() as session:
        commands.mark_timed_out(session, command_id, T0 + timedelta(seconds=1))
    assert take_queued(db) == []


def test_retrying_queues_the_same_command_again(db: Database) -> None:
    command_id = issue_open(db)
    assert take_queued(db) == [command_id]
    reply_later = threading.Timer(0.2, reply, args=(db, command_id, "done"))
    reply_later.start()
    try:
        outcome = waiting.retry(db, command_id, clock=FrozenClock(T0))
    finally:
        reply_later.cancel()
    assert outcome.result is OutcomeResult.DONE
    with db.read() as session:
        assert session.scalars(select(CommandOutbox.command_id)).all() == [command_id]


def test_a_waiter_gives_an_accepted_command_its_grace_before_timing_out(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_device(database)
    monkeypatch.setattr(commands, "ACCEPTED_GRACE", timedelta(milliseconds=300))
    command_id = issue_open(database)
    reply(database, command_id, "accepted")
    # The device finishes after the waiter's own deadline, but within the grace.
    timer = threading.Timer(0.1, reply, args=(database, command_id, "done"))
    timer.start()
    try:
        outcome = waiting.wait_for_outcome(
            database, command_id, deadline=time.monotonic(), clock=FrozenClock(T0)
        )
    finally:
        timer.join()
    assert outcome.result is OutcomeResult.DONE


def test_a_waiter_times_out_an_accepted_command_once_its_grace_is_spent(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_device(database)
    monkeypatch.setattr(commands, "ACCEPTED_GRACE", timedelta(milliseconds=50))
    command_id = issue_open(database)
    reply(database, command_id, "accepted")
    outcome = waiting.wait_for_outcome(
        database, command_id, deadline=time.monotonic(), clock=FrozenClock(T0)
    )
    assert (outcome.result, outcome.reason) == (OutcomeResult.TIMED_OUT, "no_reply")
