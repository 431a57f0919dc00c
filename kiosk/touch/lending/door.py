"""A pickup or a return at a locker: one door session, one flow, one waiting screen.

The POST (in ``pages``) records the session and its open command in one transaction (the
worker's bridge publishes it); ``start`` waits for the command's answer on a background
thread and shows a screen that polls a JSON status until the locker has told the server how
it went. The locker's events, not this page, decide the outcome; a resident who walks away
changes nothing (the worker's job settles what is left).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.clock import Clock
from booking.core.db import Database
from booking.core.errors import DomainError
from booking.lending import door_lookup
from booking.lending.models.door_sessions import (
    DoorPurpose,
    DoorSession,
    DoorSessionState,
    ReleaseReason,
)
from devices.commands import operations as commands
from devices.commands import waiting
from devices.locker import opening as lending_locker
from devices.models.device import Device
from kiosk import device_link
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import SERVICES_BY_SLUG
from kiosk.touch.lending import words as lending_words
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required

log = logging.getLogger(__name__)

SERVICE = SERVICES_BY_SLUG["tools"]


def send_in_background(
    db: Database, link: device_link.LinkStatus, command_id: str, app_clock: Clock
) -> None:
    """Wait for the open command's answer and settle the session with it, off the request.

    The worker's bridge publishes the command (it was queued with it, devices.commands.outbox);
    this only waits, and times the command out at its expiry, so that a resident whose
    command nobody sent hears so within its ten seconds.
    """

    def run() -> None:
        try:
            waiting.await_outcome(db, command_id, clock=app_clock)
        except DomainError as error:
            log.info("open command %s: %s", command_id, error.code)
        except Exception:
            log.exception("waiting for open command %s failed", command_id)
        try:
            with db.write() as session:
                lending_locker.settle_command(session, commands.get(session, command_id),
                                             app_clock.now())  # fmt: skip
        except Exception:
            log.exception("settling open command %s failed", command_id)

    threading.Thread(target=run, name=f"open-{command_id[:8]}", daemon=True).start()


def _publisher_or_message() -> device_link.LinkStatus | None:
    """The live device link, or None after the plain message that sends the resident to the
    counter. (The kiosk publishes nothing itself any more: see devices.commands.outbox.)"""
    site = kiosk_session.current_site()
    try:
        return device_link.ensure_live(site.id)
    except DomainError as error:
        flash(lending_words.refusal(error, timezone=site.timezone), "error")
        return None


# --- a pickup or a return at a locker: one door session, one flow --------------------------------

UNLOCKED_WORDS = {
    DoorPurpose.PICKUP: lending_words.OPEN_TAKE,
    DoorPurpose.RETURN: lending_words.OPEN_PUT,
}
DOOR_OPEN_WORDS = {
    DoorPurpose.PICKUP: lending_words.DOOR_OPEN_TAKE,
    DoorPurpose.RETURN: lending_words.DOOR_OPEN_PUT,
}
# Where each purpose's waiting screen lives (its URL names the purpose for the resident).
WAIT_ENDPOINTS = {DoorPurpose.PICKUP: "touch.tool_pickup", DoorPurpose.RETURN: "touch.tool_return"}


def start(
    start: Callable[[Session, datetime], DoorSession], *, refused_endpoint: str,
    not_found_code: str,
) -> ResponseReturnValue:  # fmt: skip
    """Record the pickup or return with its open command, send the command off the request,
    and show the waiting screen (or the refusal, back where the resident came from)."""
    site = kiosk_session.current_site()
    publisher = _publisher_or_message()
    if publisher is None:
        return redirect(url_for(refused_endpoint))
    failure: DomainError | None = None
    with database().write() as session:
        try:
            door = start(session, clock().now())
            door_id, purpose, command_id = door.id, door.purpose, door.command_id
        except DomainError as error:
            failure = error
    if failure is not None:
        if failure.code == not_found_code:
            abort(404)
        flash(lending_words.refusal(failure, timezone=site.timezone), "error")
        return redirect(url_for(refused_endpoint))
    if command_id is not None:
        send_in_background(database(), publisher, command_id, clock())
    return redirect(url_for(WAIT_ENDPOINTS[purpose], door_session_id=door_id))


def carried_on(
    resident_id: int, door_session_id: int, purpose: str
) -> tuple[dict[str, object], DoorSession]:
    """Settle the resident's door session (opening a waiting one whose compartment is now
    free), and say where it stands."""
    site = kiosk_session.current_site()
    with database().write() as session:
        try:
            door = door_lookup.get(session, door_session_id=door_session_id, site_id=site.id,
                                    resident_id=resident_id)  # fmt: skip
        except DomainError:
            abort(404)
        if door.purpose.value != purpose:
            abort(404)
        command_id = lending_locker.carry_on(session, door, clock().now())
        state = _describe(door)
        session.expunge(door)
    if command_id is not None:
        # A poll answers JSON: no flashed message here, the session's own state says it all.
        link = device_link.status_of(kiosk_session.current_site().id)
        send_in_background(database(), link, command_id, clock())
    return state, door


def locker_name(session: Session, device_id: str) -> str:
    """The name staff gave the locker (工具柜 A), else its id. With two lockers side by side,
    "compartment 1" alone sent residents to the wrong one."""
    return session.scalar(select(Device.name).where(Device.device_id == device_id)) or device_id


def waiting_locker_name(door: DoorSession) -> str:
    """The locker's name for the waiting screen, read once when it is drawn (its status polls
    do not need it)."""
    with database().read() as session:
        return locker_name(session, door.device_id)


def _describe(door: DoorSession) -> dict[str, object]:
    """The status tools.js shows: the phase, the words for it, and where to go when done."""
    n = door.compartment
    state: dict[str, object] = {"state": door.state.value, "open": True}
    done_url = None
    if door.is_pickup and door.loan_id is not None:
        if door.release_reason is not ReleaseReason.ITEM_LEFT_INSIDE:
            done_url = url_for("touch.tool_slip", loan_id=door.loan_id)
    elif door.state is DoorSessionState.COMPLETED and door.loan_id is not None:
        done_url = url_for("touch.tool_condition_form", loan_id=door.loan_id)
    if done_url is not None:
        state.update(open=False, phase="done", done_url=done_url)
    elif door.state is DoorSessionState.WAITING:
        state.update(phase="closing", message=str(lending_words.CLOSING) % {"number": n})
    elif door.state in (DoorSessionState.RESERVED, DoorSessionState.OPENING):
        if door.unlocked_at is None:
            state.update(phase="opening", message=str(lending_words.OPENING) % {"number": n})
        else:
            words = UNLOCKED_WORDS[door.purpose]
            state.update(phase="unlocked", message=str(words) % {"number": n})
    elif door.state is DoorSessionState.DOOR_OPEN:
        state.update(phase="door_open", message=str(DOOR_OPEN_WORDS[door.purpose]))
    else:
        why = lending_words.ended(door.purpose, door.release_reason)
        state.update(open=False, phase="failed", message=why)
    return state


@resident_required
def door_page(resident: KioskResident, door_session_id: int, purpose: str) -> ResponseReturnValue:
    """The waiting screen of a pickup or a return, until the locker has told how it went."""
    state, door = carried_on(resident.id, door_session_id, purpose)
    if "done_url" in state:
        return redirect(str(state["done_url"]))
    return render_template(
        "touch/tools_wait.html",
        service=SERVICE,
        state=state,
        locker=waiting_locker_name(door),
        compartment=door.compartment,
        purpose=purpose,
        status_url=url_for(
            f"{WAIT_ENDPOINTS[door.purpose]}_status", door_session_id=door_session_id
        ),  # fmt: skip
    )


def door_status(door_session_id: int, purpose: str) -> ResponseReturnValue:
    """The waiting screen's status as JSON (polled by tools.js), or where a signed-out
    resident goes."""
    resident = kiosk_session.current_resident()
    if resident is None:
        return {"signed_in": False, "home": url_for("touch.home")}, 401
    state, _ = carried_on(resident.id, door_session_id, purpose)
    return state
