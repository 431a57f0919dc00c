"""Waiting for a command's outcome: issue and wait, retry, or wait for one issued elsewhere.

The worker's bridge publishes commands and records the answers; these wait until the
command's row is final or its time is up, then time it out. On PostgreSQL the final state's
notice wakes the wait (:mod:`devices.commands.outcomes`); on SQLite, or while the notices
cannot be heard, the wait reads the row over and over. What a command's outcome means (and
does not) is in :mod:`devices.commands.operations`.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from booking.core.clock import Clock
from booking.core.db import Database
from devices.commands import operations as commands
from devices.commands import outbox as command_outbox
from devices.commands import outcomes
from devices.models.commands import CommandState, DeviceCommand


class OutcomeResult(enum.StrEnum):
    DONE = "done"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    DEVICE_OFFLINE = "device_offline"


@dataclass(frozen=True)
class CommandOutcome:
    """How a command ended, for the caller to show. ``done`` confirms nothing in the world:
    the device's events do (see the module docstring)."""

    result: OutcomeResult
    command_id: str | None
    reason: str | None = None
    state: CommandState | None = None

    @property
    def ok(self) -> bool:
        return self.result is OutcomeResult.DONE

    @classmethod
    def of(cls, command: DeviceCommand) -> CommandOutcome:
        if not command.state.is_final:
            raise ValueError(f"command {command.id} is still {command.state}")
        result = {
            CommandState.SUCCEEDED: OutcomeResult.DONE,
            CommandState.REJECTED: OutcomeResult.REJECTED,
            CommandState.FAILED: OutcomeResult.REJECTED,
            CommandState.TIMED_OUT: OutcomeResult.TIMED_OUT,
        }[command.state]
        return cls(result, command.id, command.reason, command.state)


# Poll often while an answer is likely (a locker answers within tens of ms), then back off
# so a slow device does not cost a database read every few milliseconds.
FAST_POLL_S = 0.005
FAST_POLL_FOR_S = 0.5
MAX_POLL_S = 0.05
# While the notices are heard, the row is read when one names the command, and otherwise this
# seldom: a notice missed while the listening connection was down is covered by the look
# every waiter takes when it is back.
LISTENED_POLL_S = 0.5


def send_and_wait(
    database: Database,
    device_id: str,
    name: str,
    args: Mapping[str, Any],
    *,
    ttl: timedelta = commands.DEFAULT_TTL,
    requested_by: str,
    clock: Clock,
) -> CommandOutcome:
    """Issue a command and wait (at most its ttl, plus grace once accepted) until the
    device's final answer has been recorded by the bridge, which publishes it.

    An offline device gives ``device_offline`` at once, with nothing stored or queued.
    Unknown devices and bad arguments raise :class:`~devices.commands.operations.DeviceNotFound` /
    :class:`~devices.commands.operations.InvalidCommand`.
    """
    try:
        with database.write() as session:
            command = commands.issue(
                session, device_id, name, args, clock.now(), ttl=ttl, requested_by=requested_by
            )
            command_id = command.id
    except commands.DeviceOffline:
        return CommandOutcome(OutcomeResult.DEVICE_OFFLINE, None, "device_offline")
    return await_outcome(database, command_id, clock=clock)


def retry(database: Database, command_id: str, *, clock: Clock) -> CommandOutcome:
    """Queue the SAME command again (the device executes an id once and repeats its answer)
    and wait for its outcome. A command already final is not sent again: its outcome is
    returned. Raises :class:`CommandExpired` once its time is up."""
    with database.write() as session:
        command = commands.locked(session, command_id)
        if command is None:
            raise commands.CommandNotFound(f"no command {command_id!r}", command_id=command_id)
        if command.state.is_final:
            return CommandOutcome.of(command)
        if command.expires_at <= clock.now():
            raise commands.CommandExpired(
                f"command {command_id} has expired", command_id=command_id
            )
        command_outbox.enqueue(session, command, clock.now())
    return await_outcome(database, command_id, clock=clock)


def await_outcome(database: Database, command_id: str, *, clock: Clock) -> CommandOutcome:
    """Wait until the command is final, at most until its expiry (plus grace once accepted);
    then time it out. For a caller that issued the command in a transaction of its own."""
    with database.read_statements() as session:
        expires_at = commands.get(session, command_id).expires_at
    # Business time comes from the clock; waiting is measured on the monotonic clock, so a
    # frozen test clock cannot make us wait forever and a wall-clock jump cannot cut us short.
    remaining = max(0.0, (expires_at - clock.now()).total_seconds())
    return wait_for_outcome(database, command_id, deadline=time.monotonic() + remaining,
                            clock=clock)  # fmt: skip


def wait_for_outcome(
    database: Database, command_id: str, *, deadline: float, clock: Clock
) -> CommandOutcome:
    """Wait until the command's row is final or ``deadline`` (``time.monotonic()``) passes;
    then time it out. An accepted command is given :data:`ACCEPTED_GRACE` more, once."""
    waits = outcomes.waits_for(database)
    if waits is None:
        return _wait(database, command_id, deadline, clock, None, None)
    heard = waits.expect(command_id)
    try:
        return _wait(database, command_id, deadline, clock, waits, heard)
    finally:
        waits.forget(command_id, heard)


def _wait(
    database: Database,
    command_id: str,
    deadline: float,
    clock: Clock,
    waits: outcomes.Waits | None,
    heard: threading.Event | None,
) -> CommandOutcome:
    started = time.monotonic()
    interval = FAST_POLL_S
    graced = False
    while True:
        if heard is not None:
            heard.clear()  # before the read: a notice from now on wakes the wait below
        # One statement, no transaction: a BEGIN and a ROLLBACK around it were two more round
        # trips to the database on each look, on the path of a resident waiting at a door.
        with database.read_statements() as session:
            state = commands.get(session, command_id).state
            if state.is_final:
                return CommandOutcome.of(commands.get(session, command_id))
        now_mono = time.monotonic()
        if now_mono >= deadline:
            if state is CommandState.ACCEPTED and not graced:
                graced = True
                deadline = now_mono + commands.ACCEPTED_GRACE.total_seconds()
            else:
                with database.write() as session:
                    return CommandOutcome.of(
                        commands.mark_timed_out(session, command_id, clock.now())
                    )
        left = max(0.0, deadline - now_mono)
        if heard is not None and waits is not None and waits.listening:
            heard.wait(min(LISTENED_POLL_S, left))
            continue
        time.sleep(min(interval, left))
        if now_mono - started > FAST_POLL_FOR_S:
            interval = min(interval * 1.5, MAX_POLL_S)
