"""Server→device commands: issue one, publish it, record what the device answers, time it out.

A command is a request, not a fact. The reply says what the device *tried*; what happened
in the world is told by the device's own events: a locker's ``door_opened`` (with the
command's id) is what confirms a compartment opened. An outcome of ``done`` therefore never
creates a loan, a return or any other domain fact by itself; the services that own those
facts act on the events the bridge ingests.

Life of a command (``DeviceCommand.state``)::

    created ──PUBACK──▶ sent ──accepted──▶ accepted ──done──▶ succeeded
       │                  │                    └──rejected──▶ failed   (e.g. jammed mid-way)
       │                  └──rejected──▶ rejected (expired, busy, door_open, …)
       └─────────── no final answer by expires_at ──▶ timed_out

A reply may overtake the ``sent`` mark (the device answers before the publisher has
recorded its PUBACK), so every non-final state accepts every reply. Final states never change.

Any process can send a command, but only the worker's bridge publishes it: :func:`issue`
writes the row and its outbox entry in the caller's transaction (:mod:`devices.commands.outbox`),
the bridge takes and publishes it, records the device's answers, and :func:`devices.commands.waiting.send_and_wait` /
:func:`devices.commands.waiting.await_outcome` wait until the row is final or the command's time is up (woken by the
final state's notice on PostgreSQL, :mod:`devices.commands.outcomes`). With the
worker down nothing is published, and a command is never published after its expiry.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections import Counter
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from booking.core.errors import Conflict, DomainError, InvalidInput, NotFound
from booking.core.models.sites import Site
from devices.commands import outbox as command_outbox
from devices.commands import outcomes as command_outcomes
from devices.models.commands import CommandState, DeviceCommand
from devices.models.device import Device, DeviceKind

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(seconds=10)
MAX_TTL = timedelta(minutes=10)
# A device that has accepted is already moving a motor; its `done` may land just after
# expiry. Waiting this much longer spares a resident a false "timed out".
ACCEPTED_GRACE = timedelta(seconds=5)

COMMANDS_BY_KIND: Mapping[DeviceKind, frozenset[str]] = {
    DeviceKind.LOCKER: frozenset({"open", "status", "resync"}),
    DeviceKind.BP_TERMINAL: frozenset({"resync"}),
    DeviceKind.KIOSK_READER: frozenset({"resync"}),
}

# command.json's bound; a locker whose birth has not told us its size gets this one.
MAX_COMPARTMENT = 64


# --- errors -----------------------------------------------------------------------------------


class DeviceNotFound(NotFound):
    code = "device_not_found"


class DeviceOffline(DomainError):
    """The registry says the device is offline: do not queue a command it cannot answer."""

    code = "device_offline"
    status = 503


class InvalidCommand(InvalidInput):
    code = "invalid_command"


class CommandNotFound(NotFound):
    code = "command_not_found"


class CommandExpired(Conflict):
    """Too late to send this command again; issue a new one."""

    code = "command_expired"


# --- replies ----------------------------------------------------------------------------------


class ReplyStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    DONE = "done"
    REJECTED = "rejected"


class Reply(Protocol):
    """What :func:`record_reply` needs of a validated ``reply`` message (devices.protocol.messages)."""

    @property
    def device(self) -> str: ...

    @property
    def command_id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def reason(self) -> str | None: ...


# --- services ---------------------------------------------------------------------------------


def _check_args(device: Device, name: str, args: Mapping[str, Any]) -> dict[str, Any]:
    allowed = COMMANDS_BY_KIND.get(device.kind, frozenset())
    if name not in allowed:
        raise InvalidCommand(
            f"a {device.kind.value} does not know the command {name!r}",
            name=name,
            allowed=sorted(allowed),
        )
    if not isinstance(args, Mapping):
        raise InvalidCommand("command arguments must be an object")
    if name != "open":
        if args:
            raise InvalidCommand(f"the command {name!r} takes no arguments", name=name)
        return {}
    if set(args) != {"compartment"}:
        raise InvalidCommand("open takes exactly one argument: compartment", name=name)
    compartment = args["compartment"]
    # bool is an int in Python; "compartment": true is a bug, not compartment 1.
    if not isinstance(compartment, int) or isinstance(compartment, bool):
        raise InvalidCommand("compartment must be a whole number", compartment=compartment)
    count = (device.capabilities or {}).get("compartments")
    highest = count if isinstance(count, int) and count > 0 else MAX_COMPARTMENT
    if not 1 <= compartment <= min(highest, MAX_COMPARTMENT):
        raise InvalidCommand(
            f"locker {device.device_id} has no compartment {compartment}",
            compartment=compartment,
        )
    return {"compartment": compartment}


_DEVICE_AND_SITE = (
    select(Device, Site.slug)
    .join(Site, Site.id == Device.site_id)
    .where(Device.device_id == bindparam("device_id"))
)


def issue(
    session: Session,
    device_id: str,
    name: str,
    args: Mapping[str, Any],
    now: datetime,
    *,
    ttl: timedelta = DEFAULT_TTL,
    requested_by: str,
) -> DeviceCommand:
    """Create a command for ``device_id`` that expires ``ttl`` after ``now``, queued for the
    worker's bridge to publish once the caller's transaction commits.

    Fails fast with :class:`DeviceOffline` when the registry says the device is offline
    (nothing is stored then), :class:`DeviceNotFound` for an unknown device and
    :class:`InvalidCommand` for a name or arguments the device's kind does not take.
    """
    if not timedelta(0) < ttl <= MAX_TTL:
        raise InvalidCommand(f"ttl must be more than 0 and at most {MAX_TTL}", ttl=str(ttl))
    requested_by = (requested_by or "").strip()
    if not requested_by or len(requested_by) > 100:
        raise InvalidCommand("requested_by must say who asked, in at most 100 characters")
    # With its centre's slug in the same read: a resident at the locker waits for this.
    found = session.execute(_DEVICE_AND_SITE, {"device_id": device_id}).one_or_none()
    if found is None:
        raise DeviceNotFound(f"no device {device_id!r}", device_id=device_id)
    device, site_slug = found
    checked_args = _check_args(device, name, args)
    if not device.online:
        raise DeviceOffline(f"device {device_id} is offline", device_id=device_id)
    command = DeviceCommand(
        id=str(uuid.uuid4()),
        device_id=device.device_id,
        site=site_slug,
        name=name,
        args=checked_args,
        state=CommandState.CREATED,
        requested_by=requested_by,
        created_at=now,
        expires_at=now + ttl,
        send_count=0,
    )
    session.add(command)
    session.flush()
    # In the same transaction: the command exists only together with its request to be sent.
    command_outbox.enqueue(session, command, now)
    return command


def locked(session: Session, command_id: str) -> DeviceCommand | None:
    # FOR UPDATE: on PostgreSQL the bridge's reply and the publisher's `sent` mark may race
    # on one row; without the lock the later write could put `sent` back over `accepted`.
    # (SQLite's BEGIN IMMEDIATE already serialises writers.)
    return session.get(DeviceCommand, command_id, with_for_update=True)


def get(session: Session, command_id: str) -> DeviceCommand:
    command = session.get(DeviceCommand, command_id)
    if command is None:
        raise CommandNotFound(f"no command {command_id!r}", command_id=command_id)
    return command


def mark_sent(session: Session, command_id: str, now: datetime) -> DeviceCommand:
    """Record that the broker acknowledged (another) publication of the command.

    Moves ``created`` to ``sent``; a command already further on keeps its state, since the
    device's answer may have been recorded before this mark.
    """
    command = locked(session, command_id)
    if command is None:
        raise CommandNotFound(f"no command {command_id!r}", command_id=command_id)
    command.published(now)
    return command


def mark_sent_unless_held(
    session: Session, command_ids: Collection[str], now: datetime
) -> set[str]:
    """:func:`mark_sent` for each command whose row no other transaction holds; returns the
    ids of those held, to be marked later (a command no longer there is not among them).

    The worker's one command sender records every centre's sends. A command's row is held
    by the transaction that records the device's reply, and with the workers behind (the
    200-centre district bench) that transaction waited seconds for the locker's row: the
    sender waited behind it, and every centre's next command with it (docs/benchmarks.md,
    twenty-seventh session). A reply that commits meanwhile has moved the command past
    ``sent`` anyway; the mark still counts the publication. (SQLite serialises writers, so
    nothing is ever held there.)
    """
    publications = Counter(command_ids)  # a command published twice is counted twice
    wanted = sorted(publications)
    if not wanted:
        return set()
    free = session.scalars(
        select(DeviceCommand)
        .where(DeviceCommand.id.in_(wanted))
        .order_by(DeviceCommand.id)
        .with_for_update(skip_locked=True)
    ).all()
    for command in free:
        for _ in range(publications[command.id]):
            command.published(now)
    marked = {command.id for command in free}
    if len(marked) == len(wanted):
        return set()
    # Skipped: held by another transaction, or gone. A plain read waits for no lock.
    return set(
        session.scalars(select(DeviceCommand.id).where(DeviceCommand.id.in_(set(wanted) - marked)))
    )


def record_reply(session: Session, reply: Reply, now: datetime) -> DeviceCommand | None:
    """Apply a device's ``reply`` to its command; called by the bridge in its write transaction.

    Returns the command, or None when the reply names no command of this device (unknown id,
    or another device's command: a device can only answer for itself). A reply to a command
    already final changes nothing: late and duplicate replies are safe.
    """
    try:
        status = ReplyStatus(reply.status)
    except ValueError:
        log.warning("reply from %s with unknown status %r ignored", reply.device, reply.status)
        return None
    command = locked(session, reply.command_id)
    if command is None or command.device_id != reply.device:
        log.info("reply from %s for unknown command %s ignored", reply.device, reply.command_id)
        return None
    if command.state.is_final:
        if status is not ReplyStatus.ACCEPTED:
            log.info("late %s reply for command %s, already %s", status, command.id, command.state)
        return command
    if status is ReplyStatus.ACCEPTED:
        command.accept(now)
        return command
    if status is ReplyStatus.DONE:
        command.succeed(now)
    else:
        command.refuse(reply.reason or "unspecified", now)
    command_outcomes.announce(session, command)
    return command


def expire_overdue(session: Session, now: datetime) -> list[DeviceCommand]:
    """Time out every command past its expiry without a final answer (a scheduled job).

    An accepted command gets :data:`ACCEPTED_GRACE` more, as the device is already at work.
    """
    overdue = session.scalars(
        select(DeviceCommand)
        .where(
            or_(
                DeviceCommand.state.in_([CommandState.CREATED, CommandState.SENT])
                & (DeviceCommand.expires_at <= now),
                (DeviceCommand.state == CommandState.ACCEPTED)
                & (DeviceCommand.expires_at <= now - ACCEPTED_GRACE),
            )
        )
        .order_by(DeviceCommand.expires_at)
        .with_for_update()
    ).all()
    for command in overdue:
        command.time_out(now)
        command_outcomes.announce(session, command)
    return list(overdue)


def mark_timed_out(session: Session, command_id: str, now: datetime) -> DeviceCommand:
    """A waiter's time is up: time the command out unless an answer arrived meanwhile."""
    command = locked(session, command_id)
    if command is None:
        raise CommandNotFound(f"no command {command_id!r}", command_id=command_id)
    if not command.state.is_final:
        command.time_out(now)
        command_outcomes.announce(session, command)
    return command


# --- wire format ------------------------------------------------------------------------------


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def command_topic(site: str, device_id: str) -> str:
    return f"linli/v1/{site}/{device_id}/cmd"


def command_payload(command: DeviceCommand) -> dict[str, Any]:
    """The ``command.json`` message for ``command``; the same bytes' worth on every retry."""
    return {
        "v": 1,
        "id": command.id,
        "name": command.name,
        "args": dict(command.args),
        "issued_at": _iso_z(command.created_at),
        "expires_at": _iso_z(command.expires_at),
    }
