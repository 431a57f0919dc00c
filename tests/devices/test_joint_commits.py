"""Several centres' batches committed in one transaction (``commit_batches``, what a worker's
shared committers do): each batch is answered with its own acks, and a message that breaks a
handler makes only itself a dead letter, whichever centre's batch it is in."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from device_rows import add_device
from sqlalchemy import select
from sqlalchemy.orm import Session
from statement_log import statements_run

from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.commands import operations as commands
from devices.ingest.apply import Ack, Inbound
from devices.ingest.batch_commit import commit_batches
from devices.ingest.handlers import default_handlers
from devices.ingest.reactions import Handlers
from devices.models.commands import CommandState
from devices.models.dead_letters import DeadLetter
from devices.models.device import Device
from devices.models.messages import DeviceMessage
from devices.protocol.messages import Event

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def closed(site: str, device: str, seq: int) -> Inbound:
    body = {
        "v": 1, "device": device, "session": 1, "seq": seq,
        "ts": NOW.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "type": "door_closed", "compartment": 1,
    }  # fmt: skip
    return Inbound(f"linli/v1/{site}/{device}/event", json.dumps(body).encode(), NOW, False)


def breaking_on(device_id: str) -> Handlers:
    """Handlers whose door_closed handler has a bug that one device's events trip."""

    def door_closed(session: Session, device: Device, event: Event, now: datetime) -> None:
        if device.device_id == device_id:
            raise RuntimeError("a handler's bug")

    handlers = Handlers()
    handlers.register("door_closed", door_closed)
    return handlers


def test_each_centre_s_batch_is_answered_on_its_own_from_one_transaction(
    any_database: Database,
) -> None:
    add_device(any_database, "east-1", site="east")
    add_device(any_database, "west-1", site="west")
    east = [closed("east", "east-1", seq) for seq in (1, 2)]
    west = [closed("west", "west-1", 1)]

    done = commit_batches(any_database, [(east, Handlers()), (west, Handlers())],
                          FrozenClock(NOW), retry_delay=0.01, stopping=lambda _: True)  # fmt: skip

    assert done is not None
    assert [d.acks for d in done] == [
        [Ack("east", "east-1", 1, 1), Ack("east", "east-1", 1, 2)],
        [Ack("west", "west-1", 1, 1)],
    ]
    assert [d.applied for d in done] == [2, 1]
    with any_database.read() as session:
        assert len(session.scalars(select(DeviceMessage)).all()) == 3


def test_a_message_that_breaks_a_handler_is_the_only_dead_letter_of_the_joint_commit(
    any_database: Database,
) -> None:
    add_device(any_database, "east-1", site="east")
    add_device(any_database, "west-1", site="west")
    east = [closed("east", "east-1", 1)]
    west = [closed("west", "west-1", 1)]
    handlers = breaking_on("west-1")

    done = commit_batches(any_database, [(east, handlers), (west, handlers)],
                          FrozenClock(NOW), retry_delay=0.01, stopping=lambda _: True)  # fmt: skip

    assert done is not None
    east_done, west_done = done
    assert (east_done.applied, dict(east_done.dead_letters)) == (1, {})
    assert west_done.applied == 0 and sum(west_done.dead_letters.values()) == 1
    # Kept as a dead letter is kept: the west locker is told, or it would re-send for ever.
    assert west_done.acks == [Ack("west", "west-1", 1, 1)]
    with any_database.read() as session:
        stored = session.scalars(select(DeviceMessage.device_id)).all()
        dead = session.scalars(select(DeadLetter.device_id)).all()
    assert (stored, dead) == (["east-1"], ["west-1"])


def test_a_joint_commit_reads_its_devices_their_compartments_and_faults_once_for_all(
    any_database: Database,
) -> None:
    """A district worker's committers join many quiet centres' one-event batches: read a
    device at a time, the reads were most of what each event cost (docs/scaling.md item 9)."""
    centres = [f"c{n:02d}" for n in range(10)]
    for centre in centres:
        add_device(any_database, f"{centre}-1", site=centre)
    batches = [([closed(centre, f"{centre}-1", 1)], Handlers()) for centre in centres]

    with statements_run(any_database) as run:
        done = commit_batches(any_database, batches, FrozenClock(NOW),
                              retry_delay=0.01, stopping=lambda _: True)  # fmt: skip

    assert done is not None and [d.applied for d in done] == [1] * len(centres)
    read = [run[("SELECT", table)] for table in ("devices", "device_compartments", "device_faults")]
    assert read == [1, 1, 1]
    assert run[("INSERT", "device_messages")] == 1


def heartbeat(site: str, device: str) -> Inbound:
    body = {"v": 1, "device": device, "session": 1,
            "ts": NOW.isoformat(timespec="milliseconds").replace("+00:00", "Z")}  # fmt: skip
    return Inbound(f"linli/v1/{site}/{device}/heartbeat", json.dumps(body).encode(), NOW, False)


def test_a_burst_of_heartbeats_reads_no_compartment_and_an_event_beside_it_reads_its_own(
    any_database: Database,
) -> None:
    """Lockers that came online together heartbeat together: reading every one's compartments
    was a third of such a transaction's CPU, for nothing (docs/benchmarks.md, twelfth session)."""
    centres = [f"c{n:02d}" for n in range(10)]
    for centre in centres:
        add_device(any_database, f"{centre}-1", site=centre)
    beats = [([heartbeat(centre, f"{centre}-1")], Handlers()) for centre in centres]

    with statements_run(any_database) as run:
        done = commit_batches(any_database, beats, FrozenClock(NOW),
                              retry_delay=0.01, stopping=lambda _: True)  # fmt: skip

    assert done is not None
    read = [run[("SELECT", table)] for table in ("devices", "device_compartments", "device_faults")]
    assert read == [1, 0, 1]  # the faults: a heartbeat judges the device's clock
    with any_database.read() as session:
        seen = session.scalars(select(Device.last_seen_at)).all()
    assert seen and all(moment is not None for moment in seen)

    # An event among the heartbeats: its device's compartments only, still in one read.
    mixed = [([closed("c00", "c00-1", 1)], Handlers()), *beats[1:]]
    with statements_run(any_database) as run:
        done = commit_batches(any_database, mixed, FrozenClock(NOW),
                              retry_delay=0.01, stopping=lambda _: True)  # fmt: skip
    assert done is not None and done[0].applied == 1
    read = [run[("SELECT", table)] for table in ("devices", "device_compartments", "device_faults")]
    assert read == [1, 1, 1]


def reply(site: str, device: str, seq: int, command_id: str, status: str) -> Inbound:
    body = {"v": 1, "device": device, "session": 1, "seq": seq,
            "ts": NOW.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "command_id": command_id, "status": status}  # fmt: skip
    return Inbound(f"linli/v1/{site}/{device}/reply", json.dumps(body).encode(), NOW, False)


def test_a_command_s_answer_reads_no_compartment(any_database: Database) -> None:
    """Someone at the locker waits for the answer's transaction, which reads only what a reply
    needs: the device, its faults (its clock is judged), the command and its door session."""
    add_device(any_database, "east-1", site="east")
    with any_database.write() as session:
        command = commands.issue(session, "east-1", "open", {"compartment": 1}, NOW,
                                 requested_by="staff:1")  # fmt: skip
        command_id = command.id
    answers = [reply("east", "east-1", 1, command_id, "accepted"),
               reply("east", "east-1", 2, command_id, "done")]  # fmt: skip

    with statements_run(any_database) as run:
        done = commit_batches(any_database, [(answers, default_handlers())], FrozenClock(NOW),
                              retry_delay=0.01, stopping=lambda _: True)  # fmt: skip

    assert done is not None and done[0].applied == 2
    read = [run[("SELECT", table)] for table in ("devices", "device_compartments", "device_faults")]
    assert read == [1, 0, 1]
    with any_database.read() as session:
        assert commands.get(session, command_id).state == CommandState.SUCCEEDED


def test_a_device_in_two_batches_of_one_commit_has_each_message_applied_once(
    any_database: Database,
) -> None:
    """Its first batch's ledger rows are in before the second batch is checked against the
    ledger, so a re-sent message is a duplicate there, not a second row."""
    add_device(any_database, "east-1", site="east")
    first = [closed("east", "east-1", 1)]
    again = [closed("east", "east-1", 1), closed("east", "east-1", 2)]

    done = commit_batches(any_database, [(first, Handlers()), (again, Handlers())],
                          FrozenClock(NOW), retry_delay=0.01, stopping=lambda _: True)  # fmt: skip

    assert done is not None
    assert [(d.applied, d.duplicates) for d in done] == [(1, 0), (1, 1)]
    assert done[1].acks == [Ack("east", "east-1", 1, 1), Ack("east", "east-1", 1, 2)]
    with any_database.read() as session:
        assert session.scalars(select(DeviceMessage.seq).order_by(DeviceMessage.seq)).all() == [
            1,
            2,
        ]
