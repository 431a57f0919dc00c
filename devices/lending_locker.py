"""Opening a locker compartment for a pickup or a return, and settling what its command did.

A compartment never opens without a recorded reason: the pickup or return row and its
``open`` command (``requested_by="pickup:<id>"`` / ``"return:<id>"``) are written in ONE
transaction here; the caller publishes the command after the commit
(:func:`devices.commands.retry`). What happens next is told by the locker: its reply settles
the command (:func:`settle_command`, called from the bridge's reply handler, a kiosk status
poll and a worker job alike), its events move the pickup on (``devices.lending_events``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking import alerts, lending
from booking.errors import DomainError
from booking.lending import LockerVisit
from booking.lending_errors import CompartmentOccupied
from booking.models import (
    AlertSeverity,
    Item,
    ReleaseReason,
    Reservation,
    ReservationState,
    ReturnAttempt,
    ReturnState,
    ToolType,
)
from devices import commands
from devices.models import CommandState, Compartment, DeviceCommand

log = logging.getLogger(__name__)

# Long enough for a locker on a slow link to answer; short enough that a resident is told
# "try again" while still standing at the kiosk.
OPEN_TTL = timedelta(seconds=10)
PICKUP_PREFIX = "pickup:"
RETURN_PREFIX = "return:"
SYSTEM_ACTOR = "system:locker"


def pickup_reason(reservation_id: int) -> str:
    return f"{PICKUP_PREFIX}{reservation_id}"


def return_reason(return_id: int) -> str:
    return f"{RETURN_PREFIX}{return_id}"


# --- starting -----------------------------------------------------------------------------------


def start_pickup(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int, now: datetime
) -> Reservation:
    """Reserve an item of the type and ask its compartment to open, in the caller's
    transaction. Lending's rules raise (limit, suspension, nothing free); a locker that is
    offline or unknown gives a pickup already released as ``device_offline``: the caller
    shows it like any other failed pickup, and the history keeps the attempt."""
    reservation = lending.reserve(
        session, site_id=site_id, resident_id=resident_id, tool_type_id=tool_type_id, now=now
    )
    open_for_pickup(session, reservation, now)
    return reservation


def open_for_pickup(session: Session, reservation: Reservation, now: datetime) -> None:
    """Issue the open command of a reserved pickup (e.g. one reserved ahead of time)."""
    item = session.get_one(Item, reservation.item_id)
    if item.locker_device_id is None or item.compartment is None:
        lending.release(session, reservation, ReleaseReason.CANCELLED, now, actor=SYSTEM_ACTOR)
        return
    command = _issue_open(
        session, item.locker_device_id, item.compartment, pickup_reason(reservation.id), now
    )
    if command is None:
        lending.release(session, reservation, ReleaseReason.DEVICE_OFFLINE, now,
                        actor=SYSTEM_ACTOR)  # fmt: skip
        return
    lending.begin_opening(session, reservation, command_id=command.id, now=now)


def start_return(
    session: Session, *, site_id: int, resident_id: int, loan_id: int, now: datetime
) -> ReturnAttempt:
    """Open the item's own compartment for its return, in the caller's transaction.

    A compartment the locker reports as holding something is not opened (the attempt is
    released as ``compartment_occupied`` and staff are told); an offline locker gives an
    attempt released as ``device_offline``.
    """
    loan, item = lending.loan_for_locker_return(
        session, site_id=site_id, resident_id=resident_id, loan_id=loan_id
    )
    attempt = lending.begin_return(session, loan, item, now=now)
    assert item.locker_device_id is not None and item.compartment is not None
    if _occupied(session, item.locker_device_id, item.compartment):
        lending.release_return(
            session, attempt, ReleaseReason.COMPARTMENT_OCCUPIED, now, actor=SYSTEM_ACTOR
        )
        tool_type = session.get_one(ToolType, item.tool_type_id)
        alerts.raise_alert(
            session,
            site_id=item.site_id,
            kind="lending.compartment_occupied",
            severity=AlertSeverity.WARNING,
            summary=(
                f"{item.locker_device_id} compartment {item.compartment} holds something: "
                f"{tool_type.name_en} {item.asset_tag} could not be returned there"
            ),
            params={
                "device": item.locker_device_id,
                "compartment": item.compartment,
                "tool_zh": tool_type.name_zh,
                "tool_en": tool_type.name_en,
                "asset": item.asset_tag,
            },
            now=now,
            subject=f"device:{item.locker_device_id}",
            dedupe_key=f"lending:occupied:{item.locker_device_id}:{item.compartment}",
        )
        return attempt
    command = _issue_open(
        session, item.locker_device_id, item.compartment, return_reason(attempt.id), now
    )
    if command is None:
        lending.release_return(session, attempt, ReleaseReason.DEVICE_OFFLINE, now,
                               actor=SYSTEM_ACTOR)  # fmt: skip
        return attempt
    lending.return_open_requested(session, attempt, command_id=command.id, now=now)
    return attempt


def _issue_open(
    session: Session, device_id: str, compartment: int, requested_by: str, now: datetime
) -> DeviceCommand | None:
    """The compartment's open command, or None when its locker is offline or unknown."""
    try:
        return commands.issue(
            session,
            device_id,
            "open",
            {"compartment": compartment},
            now,
            ttl=OPEN_TTL,
            requested_by=requested_by,
        )
    except (commands.DeviceOffline, commands.DeviceNotFound):
        return None


def _occupied(session: Session, device_id: str, n: int) -> bool:
    row = session.scalar(
        select(Compartment).where(Compartment.device_id == device_id, Compartment.n == n)
    )
    return row is not None and row.item_present is True


def ensure_free(session: Session, device_id: str, n: int) -> None:
    """Raise :class:`CompartmentOccupied` if the locker reports something in compartment n."""
    if _occupied(session, device_id, n):
        raise CompartmentOccupied("the compartment is not empty", device_id=device_id, n=n)


# --- settling -----------------------------------------------------------------------------------


def _release_reason(command: DeviceCommand) -> ReleaseReason:
    if command.reason == "jammed":
        return ReleaseReason.JAMMED
    if command.state is CommandState.TIMED_OUT:
        return ReleaseReason.TIMED_OUT
    return ReleaseReason.REJECTED


def settle_reservation(session: Session, reservation: Reservation, now: datetime) -> None:
    """Bring a live pickup up to date with its command and the door clock."""
    if reservation.state is not ReservationState.OPENING:
        return
    _settle(
        session,
        reservation,
        now,
        unlocked=lambda at: lending.note_unlocked(session, reservation, at),
        release=lambda reason, command_reason: lending.release(
            session, reservation, reason, now, actor=SYSTEM_ACTOR, command_reason=command_reason
        ),
    )


def settle_return(session: Session, attempt: ReturnAttempt, now: datetime) -> None:
    """Bring a live return up to date with its command and the door clock."""
    if attempt.state is not ReturnState.OPENING:
        return
    _settle(
        session,
        attempt,
        now,
        unlocked=lambda at: lending.note_return_unlocked(session, attempt, at),
        release=lambda reason, command_reason: lending.release_return(
            session, attempt, reason, now, actor=SYSTEM_ACTOR, command_reason=command_reason
        ),
    )


def _settle(
    session: Session,
    visit: LockerVisit,
    now: datetime,
    *,
    unlocked: Callable[[datetime], None],
    release: Callable[[ReleaseReason, str | None], bool],
) -> None:
    """What a pickup's and a return's command and door clock decide alike, for an opening
    one; ``unlocked`` and ``release`` are its flow's own steps."""
    if visit.command_id is None:
        return
    command = session.get(DeviceCommand, visit.command_id)
    if command is None:
        return
    if command.state is CommandState.SUCCEEDED:
        unlocked(command.finished_at or now)
    elif command.state.is_final:
        release(_release_reason(command), command.reason)
        return
    if lending.door_timed_out(visit, now, lending.policy_for(session, visit.site_id)):
        release(ReleaseReason.DOOR_NOT_OPENED, None)


def settle_command(session: Session, command: DeviceCommand, now: datetime) -> None:
    """Whatever pickup or return ``command`` opened for, bring it up to date."""
    target = _target_of(command.requested_by)
    if target is None:
        return
    kind, target_id = target
    if kind == PICKUP_PREFIX:
        reservation = session.get(Reservation, target_id, with_for_update=True)
        if reservation is not None and reservation.command_id == command.id:
            settle_reservation(session, reservation, now)
    else:
        attempt = session.get(ReturnAttempt, target_id, with_for_update=True)
        if attempt is not None and attempt.command_id == command.id:
            settle_return(session, attempt, now)


def _target_of(requested_by: str) -> tuple[str, int] | None:
    for prefix in (PICKUP_PREFIX, RETURN_PREFIX):
        if requested_by.startswith(prefix):
            try:
                return prefix, int(requested_by[len(prefix) :])
            except ValueError:
                return None
    return None


def settle_all(session: Session, now: datetime) -> int:
    """Settle every pickup and return still waiting for its compartment (a worker job, so
    nothing depends on a kiosk page staying open). Returns how many are still live."""
    live = 0
    for reservation in session.scalars(
        select(Reservation).where(Reservation.state == ReservationState.OPENING).with_for_update()
    ):
        try:
            settle_reservation(session, reservation, now)
        except DomainError:
            log.exception("settling pickup %s failed", reservation.id)
        live += reservation.state is ReservationState.OPENING
    for attempt in session.scalars(
        select(ReturnAttempt).where(ReturnAttempt.state == ReturnState.OPENING).with_for_update()
    ):
        settle_return(session, attempt, now)
        live += attempt.state is ReturnState.OPENING
    return live
