"""A locker's full states are compared with the lending records once for what they say: a
locker that connects sends its birth and then its state, and the second comparison found what
the first left (docs/scaling.md item 10)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from device_rows import add_device
from sqlalchemy.orm import Session
from test_joint_commits import statements_run

from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.ingest.apply import Inbound
from devices.ingest.batch_commit import commit_batches
from devices.ingest.handlers import default_handlers
from devices.ingest.reactions import Handlers
from devices.models.device import Device
from devices.protocol.messages import Birth, State

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
SITE, LOCKER = "east", "east-1"


def compartments(empty: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    return [
        {"n": n, "lock": "locked", "door": "closed", "item_present": n not in empty}
        for n in range(1, 9)
    ]


def message(suffix: str, seq: int, **body: Any) -> Inbound:
    envelope = {"v": 1, "device": LOCKER, "session": 1, "seq": seq,
                "ts": NOW.isoformat(timespec="milliseconds").replace("+00:00", "Z")}  # fmt: skip
    payload = json.dumps({**envelope, **body}).encode()
    return Inbound(f"linli/v1/{SITE}/{LOCKER}/{suffix}", payload, NOW, False)


def birth(seq: int = 0, empty: tuple[int, ...] = ()) -> Inbound:
    return message("birth", seq, kind="locker", firmware="linli-sim 0.1.0",
                   capabilities={"compartments": 8}, heartbeat_s=30,
                   state={"compartments": compartments(empty)})  # fmt: skip


def state(seq: int, empty: tuple[int, ...] = ()) -> Inbound:
    return message("state", seq, state={"compartments": compartments(empty)})


def records_read(database: Database, batch: list[Inbound], handlers: Handlers) -> int:
    """How many times committing ``batch`` read the locker's items from the records."""
    with statements_run(database) as run:
        done = commit_batches(database, [(batch, handlers)], FrozenClock(NOW),
                              retry_delay=0.01, stopping=lambda _: True)  # fmt: skip
    assert done is not None and done[0].applied == len(batch)
    return run[("SELECT", "items")]


def test_a_birth_and_the_state_after_it_saying_the_same_are_compared_once(
    any_database: Database,
) -> None:
    add_device(any_database, LOCKER, site=SITE)
    assert records_read(any_database, [birth(), state(1)], default_handlers()) == 1


def test_a_state_saying_something_else_is_compared_again(any_database: Database) -> None:
    add_device(any_database, LOCKER, site=SITE)
    assert records_read(any_database, [birth(), state(1, empty=(3,))], default_handlers()) == 2


def test_a_state_after_another_message_of_the_locker_is_compared_again(
    any_database: Database,
) -> None:
    add_device(any_database, LOCKER, site=SITE)
    opened = message("event", 1, type="door_opened", compartment=2, command_id=None)
    closed = message("event", 2, type="door_closed", compartment=2)
    batch = [birth(), opened, closed, state(3)]
    assert records_read(any_database, batch, default_handlers()) == 2


def test_a_comparison_undone_with_its_message_is_not_taken_as_done(
    any_database: Database,
) -> None:
    """A handler after the comparison fails on the birth: the birth becomes a dead letter and
    everything it did is rolled back, so the state is compared after all."""
    add_device(any_database, LOCKER, site=SITE)
    handlers = default_handlers()

    def breaks_on_birth(session: Session, device: Device, full: Birth | State, now: Any) -> None:
        if isinstance(full, Birth):
            raise RuntimeError("a handler's bug")

    handlers.register_state(breaks_on_birth)
    with statements_run(any_database) as run:
        done = commit_batches(any_database, [([birth(), state(1)], handlers)], FrozenClock(NOW),
                              retry_delay=0.01, stopping=lambda _: True)  # fmt: skip
    assert done is not None and done[0].applied == 1
    # The joint attempt: the birth's comparison, then the failure rolls all back. Applied
    # again a message at a time: the birth's (undone with it), then the state's.
    assert run[("SELECT", "items")] == 3
