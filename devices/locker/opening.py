"""Opening a locker compartment for a door session (a pickup or a return), and settling what
its command did.

A compartment never opens without a recorded reason: the door session and its ``open``
command (``requested_by="pickup:<id>"`` / ``"return:<id>"``) are written in ONE transaction
here; the worker's bridge sends it after the commit (:mod:`devices.commands.outbox`). A
compartment serves one door cycle at a time: while the last cycle's door is still open or its
lock has not reported ``locked``, the session waits instead of sending an open the locker
would refuse, and the kiosk's poll (:func:`carry_on`) opens it once the compartment is free.
What happens next is told by the locker: its reply settles the command (:func:`settle`,
called from the bridge's reply handler, a kiosk status poll and a worker job alike), its
events move the session on (``devices.locker.events``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts.models.alerts import AlertSeverity
from booking.core.errors import DomainError
from booking.lending import door_lookup, door_session, holds
from booking.lending import loans as lending_loans
from booking.lending import operations as lending
from booking.lending.errors import DoorSessionNotFound, NoItemAvailable
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.loans import Loan
from booking.lending.models.tools import Item
from booking.people.models.staff import StaffAccount
from devices.commands import operations as commands
from devices.fleet import link_status
from devices.models.commands import CommandState, DeviceCommand
from devices.models.compartments import Compartment, DoorState, LockState

log = logging.getLogger(__name__)

# Long enough for a locker on a slow link to answer; short enough that a resident is told
# "try again" while still standing at the kiosk.
OPEN_TTL = timedelta(seconds=10)
SYSTEM_ACTOR = "system:locker"
# A lock still moving, or standing open: the compartment's last door cycle is not over.
_SETTLING_LOCKS = (LockState.UNLOCKING, LockState.UNLOCKED, LockState.LOCKING, LockState.OPEN)


def open_reason(door: DoorSession) -> str:
    """The open command's ``requested_by``: what the compartment was opened for."""
    return f"{door.purpose.value}:{door.id}"


# --- starting -----------------------------------------------------------------------------------


def start_pickup(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int, now: datetime,
    staff: StaffAccount | None = None,
) -> DoorSession:  # fmt: skip
    """Reserve an item of the type and ask its compartment to open (or wait for it), in the
    caller's transaction. Lending's rules raise (limit, suspension, nothing free); a locker
    that is offline or unknown gives a pickup already released as ``device_offline``: the
    caller shows it like any other failed pickup, and the history keeps the attempt.
    ``staff``: who started it for the resident at the console (the loan will name them)."""
    # Only an item whose locker is online and has reported its compartment: the device link
    # must be there to record what the locker does (devices.fleet.link_status).
    usable = link_status.items_to_offer(
        session, site_id=site_id, now=now, tool_type_id=tool_type_id
    )
    try:
        door = lending.reserve(
            session, site_id=site_id, resident_id=resident_id, tool_type_id=tool_type_id,
            now=now, among=usable, staff=staff,
        )  # fmt: skip
    except NoItemAvailable:
        link_status.ensure_offerable(session, site_id=site_id, tool_type_id=tool_type_id, now=now)
        raise
    open_door(session, door, now)
    return door


def hold_for_resident(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int, now: datetime,
    staff: StaffAccount,
) -> DoorSession:  # fmt: skip
    """Staff keep an item of the type for the resident to collect at the kiosk (a phone
    call: "keep a drill for me"): reserved by the same rules and from the same usable lockers
    as :func:`start_pickup`, for the policy's hold, and nothing opened. The resident opens it
    with :func:`open_hold`; the lending jobs release it when the hold runs out."""
    usable = link_status.items_to_offer(
        session, site_id=site_id, now=now, tool_type_id=tool_type_id
    )
    try:
        return lending.reserve(
            session, site_id=site_id, resident_id=resident_id, tool_type_id=tool_type_id,
            now=now, among=usable, staff=staff, audit_action="lending.hold_for_resident",
        )  # fmt: skip
    except NoItemAvailable:
        link_status.ensure_offerable(session, site_id=site_id, tool_type_id=tool_type_id, now=now)
        raise


def open_hold(
    session: Session, *, site_id: int, resident_id: int, door_session_id: int, now: datetime
) -> DoorSession:
    """The resident at the kiosk opens the compartment of a tool staff held for them: the
    held pickup is asked to open (or waits for its compartment) like any other, so its loan
    begins only when the locker reports the tool gone (naming the staff member who held it).
    A hold that ran out or was called off is released (or already was) and returned as it
    is, for the waiting screen to say so; one already opening is returned to be followed.
    A locker that cannot be used now refuses before anything changes, so the hold is kept."""
    door = door_lookup.get(session, door_session_id=door_session_id, site_id=site_id,
                           resident_id=resident_id)  # fmt: skip
    # A hold is staff's, or a reservation's (a pickup the kiosk started is not one).
    if not door.is_pickup or (
        door.requested_by_staff_id is None and not holds.is_reservation_hold(session, door.id)
    ):
        raise DoorSessionNotFound("no such hold", door_session_id=door_session_id)
    settle(session, door, now)
    if door.state is not DoorSessionState.RESERVED:
        return door
    item = session.get_one(Item, door.item_id)
    if item.locker_device_id is not None and item.compartment is not None:
        # Where the item is now (staff may have moved it since it was held).
        link_status.ensure_compartment_usable(
            session, site_id=site_id, device_id=item.locker_device_id, n=item.compartment,
            now=now,
        )  # fmt: skip
    open_door(session, door, now)
    return door


def start_return(
    session: Session, *, site_id: int, resident_id: int, loan_id: int, now: datetime
) -> DoorSession:
    """Open the item's own compartment for its return (or wait for it), in the caller's
    transaction. A compartment the locker reports as holding something is not opened (the
    return is released as ``compartment_occupied`` and staff are told); an offline locker
    gives a return released as ``device_offline``."""
    # Before anything is written (the caller commits what came before a refusal): the
    # compartment must be one the locker has reported, behind a live device link.
    loan = lending_loans.get_loan(
        session, site_id=site_id, loan_id=loan_id, resident_id=resident_id
    )
    item = session.get_one(Item, loan.item_id)
    if loan.is_open and item.locker_device_id is not None and item.compartment is not None:
        link_status.ensure_compartment_usable(
            session, site_id=site_id, device_id=item.locker_device_id, n=item.compartment, now=now
        )
    door = door_session.begin_return(
        session, site_id=site_id, resident_id=resident_id, loan_id=loan_id, now=now
    )
    open_door(session, door, now)
    return door


def open_door(session: Session, door: DoorSession, now: datetime) -> str | None:
    """Issue the session's open command if its compartment is free, or let it wait; the id of
    a command issued here, for the caller to send after the commit."""
    free = compartment_free(session, door)
    if door.is_pickup:
        item = session.get_one(Item, door.item_id)
        if item.locker_device_id is None or item.compartment is None:
            door_session.release(session, door, ReleaseReason.CANCELLED, now, actor=SYSTEM_ACTOR)
            return None
    elif not _loan_open(session, door):
        # The tool went back during its own pickup's door cycle: nothing left to return.
        door_session.release(session, door, ReleaseReason.CANCELLED, now, actor=SYSTEM_ACTOR)
        return None
    elif free and _occupied(session, door.device_id, door.compartment):
        # (While the last cycle is still closing, its sensor may yet change its mind.)
        _refuse_occupied(session, door, now)
        return None
    if not free:
        if door.state is DoorSessionState.RESERVED:
            door_session.wait_for_compartment(session, door, now)
        return None
    command = _issue_open(session, door, now)
    if command is None:
        door_session.release(session, door, ReleaseReason.DEVICE_OFFLINE, now,
                             actor=SYSTEM_ACTOR)  # fmt: skip
        return None
    door_session.open_requested(session, door, command_id=command.id, now=now)
    return command.id


def compartment_free(session: Session, door: DoorSession) -> bool:
    """Free for a new open: no other session of ours at its door, and the locker last said
    its door is closed and its lock not moving (an unknown compartment is left to the locker
    to judge; a jammed one too, which refuses with the reason)."""
    if door_lookup.another_at_the_door(session, door):
        return False
    row = _compartment(session, door.device_id, door.compartment)
    if row is None:
        return True
    return row.door is not DoorState.OPEN and row.lock not in _SETTLING_LOCKS


def _issue_open(session: Session, door: DoorSession, now: datetime) -> DeviceCommand | None:
    """The compartment's open command, or None when its locker is offline or unknown."""
    item = session.get_one(Item, door.item_id)
    device_id = item.locker_device_id or door.device_id
    compartment = item.compartment if item.compartment is not None else door.compartment
    try:
        return commands.issue(
            session,
            device_id,
            "open",
            {"compartment": compartment},
            now,
            ttl=OPEN_TTL,
            requested_by=open_reason(door),
        )
    except (commands.DeviceOffline, commands.DeviceNotFound):
        return None


def _compartment(session: Session, device_id: str, n: int) -> Compartment | None:
    return session.scalar(
        select(Compartment).where(Compartment.device_id == device_id, Compartment.n == n)
    )


def _loan_open(session: Session, door: DoorSession) -> bool:
    loan = session.get(Loan, door.loan_id) if door.loan_id is not None else None
    return loan is not None and loan.is_open


def _occupied(session: Session, device_id: str, n: int) -> bool:
    row = _compartment(session, device_id, n)
    return row is not None and row.item_present is True


def _refuse_occupied(session: Session, door: DoorSession, now: datetime) -> None:
    """A return into a compartment that holds something: not opened, and staff are told."""
    door_session.release(session, door, ReleaseReason.COMPARTMENT_OCCUPIED, now,
                         actor=SYSTEM_ACTOR)  # fmt: skip
    door_session.alert_about_compartment(
        session, session.get_one(Item, door.item_id), device_id=door.device_id,
        compartment=door.compartment, now=now, kind="lending.compartment_occupied",
        severity=AlertSeverity.WARNING,
        summary="{device} compartment {compartment} holds something: {tool} {asset} could not "
        "be returned there",
        subject=f"device:{door.device_id}",
        dedupe_key=f"lending:occupied:{door.device_id}:{door.compartment}",
    )  # fmt: skip


# --- settling -----------------------------------------------------------------------------------


def _release_reason(command: DeviceCommand) -> ReleaseReason:
    if command.reason == "jammed":
        return ReleaseReason.JAMMED
    if command.state is CommandState.TIMED_OUT:
        return ReleaseReason.TIMED_OUT
    return ReleaseReason.REJECTED


def settle(session: Session, door: DoorSession, now: datetime) -> None:
    """Bring a live session up to date with its command and its clocks (the hold, the wait
    for the compartment, the door not opened in time)."""
    if door.state is DoorSessionState.OPENING and door.command_id is not None:
        command = session.get(DeviceCommand, door.command_id)
        if command is not None and command.state is CommandState.SUCCEEDED:
            door_session.unlocked(session, door, command.finished_at or now)
        elif command is not None and command.state.is_final:
            door_session.release(session, door, _release_reason(command), now,
                                 actor=SYSTEM_ACTOR, command_reason=command.reason)  # fmt: skip
            return
    door_session.check_clocks(session, door, now, actor=SYSTEM_ACTOR)


def carry_on(session: Session, door: DoorSession, now: datetime) -> str | None:
    """What the resident's waiting screen does on each poll: settle the session, and open a
    waiting one once its compartment is free (only while the resident is there to use it).
    The id of a command issued here, for the caller to send after the commit."""
    settle(session, door, now)
    if door.state is DoorSessionState.WAITING:
        return open_door(session, door, now)
    return None


def settle_command(session: Session, command: DeviceCommand, now: datetime) -> None:
    """Whatever session ``command`` opened for, bring it up to date."""
    door = door_lookup.of_command(session, command.id)
    if door is not None and door.state is DoorSessionState.OPENING:
        settle(session, door, now)


def settle_all(session: Session, now: datetime) -> int:
    """Settle every session still waiting for its compartment (a worker job, so nothing
    depends on a kiosk page staying open). Returns how many are still live."""
    live = 0
    waiting = (DoorSessionState.RESERVED, DoorSessionState.WAITING, DoorSessionState.OPENING)
    for door in session.scalars(
        select(DoorSession).where(DoorSession.state.in_(waiting)).with_for_update()
    ):
        try:
            settle(session, door, now)
        except DomainError:
            log.exception("settling door session %s failed", door.id)
        live += door.state in waiting
    return live
