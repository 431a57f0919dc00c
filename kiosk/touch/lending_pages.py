"""The kiosk's tool pages: the catalogue, borrowing from a locker, my loans, returning.

Borrowing and returning follow one pattern: the POST records the pickup (or return) and
its open command in one transaction, hands the command to this process's publisher on a
background thread, and shows a screen that polls a JSON status until the locker has told
the server how it went. The locker's events, not this page, decide the outcome; a resident
who walks away changes nothing (the worker's job settles what is left).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking import lending
from booking.clock import Clock
from booking.db import Database
from booking.errors import DomainError
from booking.models import (
    Item,
    Loan,
    LoanStatus,
    ReleaseReason,
    Reservation,
    ReservationState,
    ReturnAttempt,
    ReturnCondition,
    ReturnState,
    ToolType,
)
from devices import commands, lending_locker
from devices.command_publisher import CommandPublisher
from devices.models import Device
from kiosk.device_link import command_publisher
from kiosk.extensions import clock, database
from kiosk.touch import lending_words
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import SERVICES_BY_SLUG
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
    db: Database, publisher: CommandPublisher, command_id: str, app_clock: Clock
) -> None:
    """Publish the open command and settle the attempt with its answer, off the request."""

    def run() -> None:
        try:
            commands.retry(db, publisher, command_id, clock=app_clock)
        except DomainError as error:
            log.info("open command %s: %s", command_id, error.code)
        except Exception:
            log.exception("publishing open command %s failed", command_id)
        try:
            with db.write() as session:
                lending_locker.settle_command(session, commands.get(session, command_id),
                                             app_clock.now())  # fmt: skip
        except Exception:
            log.exception("settling open command %s failed", command_id)

    threading.Thread(target=run, name=f"open-{command_id[:8]}", daemon=True).start()


def _publisher_or_message() -> CommandPublisher | None:
    try:
        return command_publisher()
    except DomainError as error:
        flash(lending_words.refusal(error, timezone=kiosk_session.current_site().timezone), "error")
        return None


# --- catalogue ----------------------------------------------------------------------------------


def catalogue() -> ResponseReturnValue:
    site = kiosk_session.current_site()
    with database().read() as session:
        tools = [
            _tool_view(entry.tool_type, entry.in_lockers, entry.at_counter)
            for entry in lending.catalogue(session, site_id=site.id)
        ]
    return render_template("touch/tools.html", service=SERVICE, tools=tools)


# --- a pickup or a return at a locker ----------------------------------------------------------

V = TypeVar("V", Reservation, ReturnAttempt)


@dataclass(frozen=True)
class LockerFlow(Generic[V]):
    """What differs between the pickup and the return screens; their steps are the same."""

    purpose: str  # the waiting screen's wording (tools_wait.html)
    id_arg: str  # the URL argument that names the pickup or return
    wait_endpoint: str
    status_endpoint: str
    refused_endpoint: str  # where a refused start sends the resident back to
    not_found_code: str  # the refusal meaning the URL named nothing of theirs: a 404
    unlocked_words: LazyString
    door_open_words: LazyString
    ended: Callable[[ReleaseReason | None], str]
    # The resident's own pickup or return: (session, its id, site id, resident id).
    find: Callable[[Session, int, int, int], V]
    settle: Callable[[Session, V, datetime], None]
    describe: Callable[[Session, V], dict[str, object]]

    def url(self, endpoint: str, visit_id: int) -> str:
        values: dict[str, Any] = {self.id_arg: visit_id}
        return url_for(endpoint, **values)


def _start(flow: LockerFlow[V], start: Callable[[Session, datetime], V]) -> ResponseReturnValue:
    """Record the pickup or return with its open command, send the command off the request,
    and show the waiting screen (or the refusal, back where the resident came from)."""
    site = kiosk_session.current_site()
    publisher = _publisher_or_message()
    if publisher is None:
        return redirect(url_for(flow.refused_endpoint))
    failure: DomainError | None = None
    with database().write() as session:
        try:
            visit = start(session, clock().now())
            visit_id, command_id = visit.id, visit.command_id
        except DomainError as error:
            failure = error
    if failure is not None:
        if failure.code == flow.not_found_code:
            abort(404)
        flash(lending_words.refusal(failure, timezone=site.timezone), "error")
        return redirect(url_for(flow.refused_endpoint))
    if command_id is not None:
        _send_in_background(database(), publisher, command_id, clock())
    return redirect(flow.url(flow.wait_endpoint, visit_id))


def _settled_state(
    flow: LockerFlow[V], resident: KioskResident, visit_id: int
) -> tuple[dict[str, object], int]:
    """Settle the pickup or return with its command and door clock, and say where it stands
    (and at which compartment)."""
    site = kiosk_session.current_site()
    with database().write() as session:
        try:
            visit = flow.find(session, visit_id, site.id, resident.id)
        except DomainError:
            abort(404)
        flow.settle(session, visit, clock().now())
        return flow.describe(session, visit), visit.compartment or 0


def _describe(
    flow: LockerFlow[V], visit: V, *, waiting: bool, door_open: bool, done_url: str | None
) -> dict[str, object]:
    """The status tools.js shows: the phase, the words for it, and where to go when done."""
    n = visit.compartment or 0
    state: dict[str, object] = {"state": visit.state.value, "open": True}
    if waiting:
        if visit.unlocked_at is None:
            state.update(phase="opening", message=str(lending_words.OPENING) % {"number": n})
        else:
            state.update(phase="unlocked", message=str(flow.unlocked_words) % {"number": n})
    elif door_open:
        state.update(phase="door_open", message=str(flow.door_open_words))
    elif done_url is not None:
        state.update(open=False, phase="done", done_url=done_url)
    else:
        state.update(open=False, phase="failed", message=flow.ended(visit.release_reason))
    return state


def _wait_page(flow: LockerFlow[V], resident: KioskResident, visit_id: int) -> ResponseReturnValue:
    state, compartment = _settled_state(flow, resident, visit_id)
    if "done_url" in state:
        return redirect(str(state["done_url"]))
    return render_template(
        "touch/tools_wait.html",
        service=SERVICE,
        state=state,
        compartment=compartment,
        purpose=flow.purpose,
        status_url=flow.url(flow.status_endpoint, visit_id),
    )


def _status(flow: LockerFlow[V], visit_id: int) -> ResponseReturnValue:
    """The waiting screen's status as JSON, or where a signed-out resident goes."""
    resident = kiosk_session.current_resident()
    if resident is None:
        return {"signed_in": False, "home": url_for("touch.home")}, 401
    state, _ = _settled_state(flow, resident, visit_id)
    return state


# --- borrowing ----------------------------------------------------------------------------------


def _describe_pickup(session: Session, reservation: Reservation) -> dict[str, object]:
    done_url = None
    if reservation.state is ReservationState.COMPLETED:
        loan_id = session.scalar(select(Loan.id).where(Loan.reservation_id == reservation.id))
        done_url = url_for("touch.tool_slip", loan_id=loan_id)
    return _describe(
        PICKUP,
        reservation,
        waiting=reservation.state in (ReservationState.RESERVED, ReservationState.OPENING),
        door_open=reservation.state is ReservationState.DOOR_OPEN,
        done_url=done_url,
    )


PICKUP: LockerFlow[Reservation] = LockerFlow(
    purpose="pickup",
    id_arg="reservation_id",
    wait_endpoint="touch.tool_pickup",
    status_endpoint="touch.tool_pickup_status",
    refused_endpoint="touch.tools",
    not_found_code="tool_type_not_found",
    unlocked_words=lending_words.OPEN_TAKE,
    door_open_words=lending_words.DOOR_OPEN_TAKE,
    ended=lending_words.pickup_ended,
    find=lambda session, reservation_id, site_id, resident_id: lending.get_reservation(
        session, reservation_id=reservation_id, site_id=site_id, resident_id=resident_id
    ),
    settle=lending_locker.settle_reservation,
    describe=_describe_pickup,
)


@resident_required
def borrow(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    """Reserve a tool of the type and open its compartment."""
    site_id = kiosk_session.current_site().id
    return _start(
        PICKUP,
        lambda session, now: lending_locker.start_pickup(
            session, site_id=site_id, resident_id=resident.id, tool_type_id=tool_type_id, now=now
        ),
    )


@resident_required
def pickup(resident: KioskResident, reservation_id: int) -> ResponseReturnValue:
    return _wait_page(PICKUP, resident, reservation_id)


def pickup_status(reservation_id: int) -> ResponseReturnValue:
    """Polled by the pickup screen (tools.js)."""
    return _status(PICKUP, reservation_id)


@resident_required
def slip(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    """The success screen and printable slip of a loan: what, where from, due when."""
    site = kiosk_session.current_site()
    with database().read() as session:
        try:
            loan = lending.get_loan(session, site_id=site.id, loan_id=loan_id,
                                    resident_id=resident.id)  # fmt: skip
        except DomainError:
            abort(404)
        view = _loan_view(session, loan)
    return render_template("touch/tools_slip.html", service=SERVICE, loan=view)


# --- my loans and returns -----------------------------------------------------------------------


@resident_required
def my_loans(resident: KioskResident) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    with database().read() as session:
        loans = [
            _loan_view(session, loan)
            for loan in lending.open_loans(session, site_id=site.id, resident_id=resident.id)
        ]
    return render_template("touch/tools_mine.html", service=SERVICE, loans=loans)


def _describe_return(session: Session, attempt: ReturnAttempt) -> dict[str, object]:
    done_url = None
    if attempt.state is ReturnState.RETURNED:
        done_url = url_for("touch.tool_condition_form", loan_id=attempt.loan_id)
    return _describe(
        RETURN,
        attempt,
        waiting=attempt.state is ReturnState.OPENING,
        door_open=attempt.state is ReturnState.DOOR_OPEN,
        done_url=done_url,
    )


RETURN: LockerFlow[ReturnAttempt] = LockerFlow(
    purpose="return",
    id_arg="return_id",
    wait_endpoint="touch.tool_return",
    status_endpoint="touch.tool_return_status",
    refused_endpoint="touch.tools_mine",
    not_found_code="loan_not_found",
    unlocked_words=lending_words.OPEN_PUT,
    door_open_words=lending_words.DOOR_OPEN_PUT,
    ended=lending_words.return_ended,
    find=lambda session, return_id, site_id, resident_id: lending.get_return(
        session, return_id=return_id, site_id=site_id, resident_id=resident_id
    ),
    settle=lending_locker.settle_return,
    describe=_describe_return,
)


@resident_required
def give_back(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    """Open the loaned tool's own compartment so it can be put back."""
    site_id = kiosk_session.current_site().id
    return _start(
        RETURN,
        lambda session, now: lending_locker.start_return(
            session, site_id=site_id, resident_id=resident.id, loan_id=loan_id, now=now
        ),
    )


@resident_required
def return_page(resident: KioskResident, return_id: int) -> ResponseReturnValue:
    return _wait_page(RETURN, resident, return_id)


def return_status(return_id: int) -> ResponseReturnValue:
    """Polled by the return screen (tools.js)."""
    return _status(RETURN, return_id)


@resident_required
def condition_form(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    with database().read() as session:
        try:
            loan = lending.get_loan(session, site_id=site.id, loan_id=loan_id,
                                    resident_id=resident.id)  # fmt: skip
        except DomainError:
            abort(404)
        if loan.status is not LoanStatus.RETURNED or loan.return_condition is not None:
            return redirect(url_for("touch.tools_mine"))
        view = _loan_view(session, loan)
    return render_template("touch/tools_condition.html", service=SERVICE, loan=view)


@resident_required
def report_condition(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    answer = request.form.get("condition", "")
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
