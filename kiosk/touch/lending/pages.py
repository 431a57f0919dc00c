"""The kiosk's tool pages: the catalogue, borrowing from a locker, my loans, returning.

Borrowing and returning are one flow, as they are one door session: the POST records the
session and its open command in one transaction (the worker's bridge publishes it), waits
for its answer on a background thread, and shows a screen that polls a JSON status until the locker has told
the server how it went. The locker's events, not this page, decide the outcome; a resident
who walks away changes nothing (the worker's job settles what is left).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.clock import Clock
from booking.core.db import Database
from booking.core.errors import DomainError
from booking.lending import door_lookup
from booking.lending import loans as lending_loans
from booking.lending import operations as lending
from booking.lending.models.door_sessions import (
    DoorPurpose,
    DoorSession,
    DoorSessionState,
    ReleaseReason,
)
from booking.lending.models.loans import Loan, LoanStatus, ReturnCondition
from booking.lending.models.tools import Item, ToolType
from devices.commands import operations as commands
from devices.fleet import link_status
from devices.locker import opening as lending_locker
from devices.models import Device
from kiosk import device_link
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import SERVICES_BY_SLUG
from kiosk.touch.forms import ConditionForm
from kiosk.touch.lending import words as lending_words
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required

log = logging.getLogger(__name__)

SERVICE = SERVICES_BY_SLUG["tools"]
RETURNED_THANKS = _l("Thank you! The tool has been returned.")
DAMAGE_NOTED = _l(
    "Thank you for telling us. The staff will check the tool before it is lent again."
)


# --- helpers ------------------------------------------------------------------------------------


def _zh() -> bool:
    return str(get_locale() or "").startswith("zh")


def _timezone() -> ZoneInfo:
    return ZoneInfo(kiosk_session.current_site().timezone)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(_timezone())


@dataclass(frozen=True)
class ToolView:
    """A tool type as the catalogue shows it, in the kiosk's language."""

    id: int
    icon: str
    name_zh: str
    name_en: str
    description: str
    safety_note: str
    loan_days: int
    in_lockers: int
    at_counter: int


def _tool_view(tool_type: ToolType, in_lockers: int = 0, at_counter: int = 0) -> ToolView:
    zh = _zh()
    return ToolView(
        id=tool_type.id,
        icon=tool_type.icon,
        name_zh=tool_type.name_zh,
        name_en=tool_type.name_en,
        description=(tool_type.description_zh if zh else tool_type.description_en)
        or tool_type.description_zh,
        safety_note=(tool_type.safety_note_zh if zh else tool_type.safety_note_en)
        or tool_type.safety_note_zh,
        loan_days=tool_type.loan_days,
        in_lockers=in_lockers,
        at_counter=at_counter,
    )


@dataclass(frozen=True)
class LoanView:
    id: int
    tool: ToolView
    asset_tag: str
    started_at: datetime
    due_at: datetime
    overdue: bool
    in_locker: bool
    locker_name: str
    compartment: int | None
    returned_at: datetime | None
    return_condition: str | None


def _loan_view(session: Session, loan: Loan) -> LoanView:
    item = session.get_one(Item, loan.item_id)
    tool_type = session.get_one(ToolType, item.tool_type_id)
    locker_name = ""
    if item.locker_device_id is not None:
        device = session.scalar(select(Device).where(Device.device_id == item.locker_device_id))
        locker_name = (device.name if device is not None else "") or item.locker_device_id
    return LoanView(
        id=loan.id,
        tool=_tool_view(tool_type),
        asset_tag=item.asset_tag,
        started_at=_local(loan.started_at),
        due_at=_local(loan.due_at),
        overdue=loan.status is LoanStatus.OVERDUE,
        in_locker=item.locker_device_id is not None,
        locker_name=locker_name,
        compartment=item.compartment,
        returned_at=_local(loan.returned_at) if loan.returned_at else None,
        return_condition=loan.return_condition.value if loan.return_condition else None,
    )


def _send_in_background(
    db: Database, link: device_link.LinkStatus, command_id: str, app_clock: Clock
) -> None:
    """Wait for the open command's answer and settle the session with it, off the request.

    The worker's bridge publishes the command (it was queued with it, devices.commands.outbox);
    this only waits, and times the command out at its expiry, so that a resident whose
    command nobody sent hears so within its ten seconds.
    """

    def run() -> None:
        try:
            commands.await_outcome(db, command_id, clock=app_clock)
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


# --- catalogue ----------------------------------------------------------------------------------


def catalogue() -> ResponseReturnValue:
    site = kiosk_session.current_site()
    now = clock().now()
    with database().read() as session:
        entries = lending.catalogue(session, site_id=site.id)
        # A locker item is offered only where the locker can be used now; the others are
        # for the staff to hand over at the counter.
        offered = Counter(link_status.items_to_offer(session, site_id=site.id, now=now).values())
        lockers_down = not link_status.link_status(session, site=site.slug, now=now).live
        tools = [
            _tool_view(
                entry.tool_type,
                offered[entry.tool_type.id],
                entry.at_counter + entry.in_lockers - offered[entry.tool_type.id],
            )
            for entry in entries
        ]
    lockers_down = lockers_down and any(entry.in_lockers for entry in entries)
    return render_template(
        "touch/tools.html", service=SERVICE, tools=tools, lockers_down=lockers_down
    )


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


def _start(
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
        _send_in_background(database(), publisher, command_id, clock())
    return redirect(url_for(WAIT_ENDPOINTS[purpose], door_session_id=door_id))


def _carried_on(
    resident: KioskResident, door_session_id: int, purpose: str
) -> tuple[dict[str, object], DoorSession]:
    """Settle the resident's door session (opening a waiting one whose compartment is now
    free), and say where it stands."""
    site = kiosk_session.current_site()
    with database().write() as session:
        try:
            door = door_lookup.get(session, door_session_id=door_session_id, site_id=site.id,
                                    resident_id=resident.id)  # fmt: skip
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
        _send_in_background(database(), link, command_id, clock())
    return state, door


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
    state, door = _carried_on(resident, door_session_id, purpose)
    if "done_url" in state:
        return redirect(str(state["done_url"]))
    return render_template(
        "touch/tools_wait.html",
        service=SERVICE,
        state=state,
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
    state, _ = _carried_on(resident, door_session_id, purpose)
    return state


# --- borrowing ----------------------------------------------------------------------------------


@resident_required
def borrow(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    """Reserve a tool of the type and open its compartment."""
    site_id = kiosk_session.current_site().id
    return _start(
        lambda session, now: lending_locker.start_pickup(
            session, site_id=site_id, resident_id=resident.id, tool_type_id=tool_type_id, now=now
        ),
        refused_endpoint="touch.tools",
        not_found_code="tool_type_not_found",
    )


def _own_loan(session: Session, resident: KioskResident, loan_id: int) -> Loan:
    """The resident's loan the URL names, or a 404."""
    try:
        return lending_loans.get_loan(session, site_id=kiosk_session.current_site().id,
                                loan_id=loan_id, resident_id=resident.id)  # fmt: skip
    except DomainError:
        abort(404)


@resident_required
def slip(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    """The success screen and printable slip of a loan: what, where from, due when."""
    with database().read() as session:
        view = _loan_view(session, _own_loan(session, resident, loan_id))
    return render_template("touch/tools_slip.html", service=SERVICE, loan=view)


# --- my loans and returns -----------------------------------------------------------------------


@resident_required
def my_loans(resident: KioskResident) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    now = clock().now()
    with database().read() as session:
        loans = [
            _loan_view(session, loan)
            for loan in lending.open_loans(session, site_id=site.id, resident_id=resident.id)
        ]
        # A locker return is offered only into a compartment the locker can take it in now;
        # otherwise the loan shows the counter.
        loans = [
            loan if not loan.in_locker or _returnable(session, site.id, loan, now)
            else replace(loan, in_locker=False)
            for loan in loans
        ]  # fmt: skip
        lockers_down = not link_status.link_status(session, site=site.slug, now=now).live
    lockers_down = lockers_down and any(loan.locker_name for loan in loans)
    return render_template(
        "touch/tools_mine.html", service=SERVICE, loans=loans, lockers_down=lockers_down
    )


def _returnable(session: Session, site_id: int, loan: LoanView, now: datetime) -> bool:
    item = session.scalar(
        select(Item).join(Loan, Loan.item_id == Item.id).where(Loan.id == loan.id)
    )
    if item is None or item.locker_device_id is None or item.compartment is None:
        return False
    return link_status.compartment_status(
        session, site_id=site_id, device_id=item.locker_device_id, n=item.compartment, now=now
    ).live


@resident_required
def give_back(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    """Open the loaned tool's own compartment so it can be put back."""
    site_id = kiosk_session.current_site().id
    return _start(
        lambda session, now: lending_locker.start_return(
            session, site_id=site_id, resident_id=resident.id, loan_id=loan_id, now=now
        ),
        refused_endpoint="touch.tools_mine",
        not_found_code="loan_not_found",
    )


@resident_required
def condition_form(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    with database().read() as session:
        loan = _own_loan(session, resident, loan_id)
        if loan.status is not LoanStatus.RETURNED or loan.return_condition is not None:
            return redirect(url_for("touch.tools_mine"))
        view = _loan_view(session, loan)
    return render_template("touch/tools_condition.html", service=SERVICE, loan=view)


@resident_required
def report_condition(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    answer = ConditionForm.read().text("condition")
    failure: DomainError | None = None
    with database().write() as session:
        try:
            lending.report_condition(
                session, site_id=site.id, resident_id=resident.id, loan_id=loan_id,
                condition=answer, now=clock().now(),
            )  # fmt: skip
        except DomainError as error:
            failure = error
    if failure is not None:
        if failure.code == "loan_not_found":
            abort(404)
        flash(lending_words.refusal(failure, timezone=site.timezone), "error")
        if failure.code == "invalid_condition":
            return redirect(url_for("touch.tool_condition_form", loan_id=loan_id))
        return redirect(url_for("touch.tools_mine"))
    fine = answer == ReturnCondition.FINE.value
    flash(str(RETURNED_THANKS if fine else DAMAGE_NOTED), "info")
    return redirect(url_for("touch.tools_mine"))
