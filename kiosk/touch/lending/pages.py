"""The kiosk's tool pages: the catalogue, borrowing from a locker, my loans, returning.

Borrowing and returning start one door session each; its waiting screen is ``door``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.lending import catalogue as lending_catalogue
from booking.lending import door_lookup, reservations
from booking.lending import eligibility as lending_eligibility
from booking.lending import loans as lending_loans
from booking.lending import operations as lending
from booking.lending import slip_tokens as loan_slips
from booking.lending.models.door_sessions import DoorSession
from booking.lending.models.loans import Loan, LoanStatus, ReturnCondition
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from devices.fleet import link_status
from devices.locker import opening as lending_locker
from kiosk.extensions import clock, database
from kiosk.touch import qr_code
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import SERVICES_BY_SLUG
from kiosk.touch.forms import ConditionForm
from kiosk.touch.lending import door, reserving
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
    # Kept in lockers (free or not): it can be reserved ahead, or queued for when none is free.
    reservable: bool = False


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
        locker_name = door.locker_name(session, item.locker_device_id)
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


@dataclass(frozen=True)
class HoldView:
    """A tool staff keep for the resident (they rang the desk): open it here until ``until``."""

    id: int
    tool: ToolView
    until: datetime
    compartment: int


def _holds(session: Session, resident_id: int | None, now: datetime) -> list[HoldView]:
    """The resident's live holds, shown first on the tool pages (none when nobody is signed in)."""
    if resident_id is None:
        return []
    return [
        _hold_view(session, door)
        for door in door_lookup.live_holds(
            session, site_id=kiosk_session.current_site().id, resident_id=resident_id, now=now
        )  # fmt: skip
    ]


def _hold_view(session: Session, door: DoorSession) -> HoldView:
    item = session.get_one(Item, door.item_id)
    assert door.expires_at is not None  # a hold always has its end
    return HoldView(
        id=door.id,
        tool=_tool_view(session.get_one(ToolType, item.tool_type_id)),
        until=_local(door.expires_at),
        compartment=door.compartment,
    )


# --- catalogue ----------------------------------------------------------------------------------


def offered_tools(
    session: Session, *, site_id: int, site_slug: str, resident_id: int | None, now: datetime
) -> tuple[list[ToolView], bool]:
    """The tool types offered here, each with how many the lockers can lend now, and whether
    the lockers are down (when any tool is kept in them): the kiosk's catalogue and the phone's
    "reserve a tool" read the same."""
    entries = lending_catalogue.catalogue(session, site_id=site_id)
    # A locker item is offered only where the locker can be used now; the others are
    # for the staff to hand over at the counter.
    offered = Counter(link_status.items_to_offer(session, site_id=site_id, now=now).values())
    lockers_down = not link_status.link_status(session, site=site_slug, now=now).live
    in_lockers = reservations.locker_tool_types(session, site_id=site_id)
    # What others' reservations and queue places need is not offered.
    free = reservations.free_now(
        session, site_id=site_id, tool_types=[entry.tool_type for entry in entries],
        usable=offered, resident_id=resident_id, now=now,
    )  # fmt: skip
    tools = [
        replace(
            _tool_view(
                entry.tool_type,
                free[entry.tool_type.id],
                entry.at_counter + entry.in_lockers - offered[entry.tool_type.id],
            ),
            reservable=entry.tool_type.id in in_lockers,
        )
        for entry in entries
    ]  # fmt: skip
    return tools, lockers_down and any(entry.in_lockers for entry in entries)


def catalogue() -> ResponseReturnValue:
    site = kiosk_session.current_site()
    now = clock().now()
    resident = kiosk_session.current_resident()
    with database().read() as session:
        holds = _holds(session, resident.id if resident is not None else None, now)
        tools, lockers_down = offered_tools(
            session, site_id=site.id, site_slug=site.slug,
            resident_id=resident.id if resident is not None else None, now=now,
        )  # fmt: skip
    return render_template(
        "touch/tools.html", service=SERVICE, tools=tools, holds=holds, lockers_down=lockers_down
    )


# --- borrowing ----------------------------------------------------------------------------------


@resident_required
def borrow(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    """Reserve a tool of the type and open its compartment."""
    site_id = kiosk_session.current_site().id
    return door.start(
        lambda session, now: lending_locker.start_pickup(
            session, site_id=site_id, resident_id=resident.id, tool_type_id=tool_type_id, now=now
        ),
        refused_endpoint="touch.tools",
        not_found_code="tool_type_not_found",
    )


@resident_required
def open_hold(resident: KioskResident, door_session_id: int) -> ResponseReturnValue:
    """Open the compartment of a tool staff held for the resident: the pickup's own waiting
    screen follows it, and the loan begins when the locker reports the tool taken."""
    site_id = kiosk_session.current_site().id
    return door.start(
        lambda session, now: lending_locker.open_hold(
            session, site_id=site_id, resident_id=resident.id, door_session_id=door_session_id,
            now=now,
        ),
        refused_endpoint="touch.tools",
        not_found_code="door_session_not_found",
    )  # fmt: skip


def _own_loan(session: Session, resident: KioskResident, loan_id: int) -> Loan:
    """The resident's loan the URL names, or a 404."""
    try:
        return lending_loans.get_loan(session, site_id=kiosk_session.current_site().id,
                                loan_id=loan_id, resident_id=resident.id)  # fmt: skip
    except DomainError:
        abort(404)


@resident_required
def slip(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    """The success screen and printable slip of a loan: what, where from, due when, and the
    QR code that starts its return at a kiosk's scanner (a write: the first slip gives the
    loan its token)."""
    with database().write() as session:
        loan = _own_loan(session, resident, loan_id)
        view = _loan_view(session, loan)
        code = loan_slips.slip_code(session, loan) if loan.is_open else None
    qr = None
    if code is not None:
        qr = qr_code.svg(code, label=_("QR code of loan %(number)d", number=view.id))
    return render_template("touch/tools_slip.html", service=SERVICE, loan=view, qr=qr)


# --- my loans and returns -----------------------------------------------------------------------


@resident_required
def my_loans(resident: KioskResident) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    now = clock().now()
    with database().read() as session:
        holds = _holds(session, resident.id, now)
        loans = [
            _loan_view(session, loan)
            for loan in lending_eligibility.open_loans(
                session, site_id=site.id, resident_id=resident.id
            )
        ]
        # A locker return is offered only into a compartment the locker can take it in now;
        # otherwise the loan shows the counter.
        loans = [
            loan if not loan.in_locker or _returnable(session, site.id, loan, now)
            else replace(loan, in_locker=False)
            for loan in loans
        ]  # fmt: skip
        lockers_down = not link_status.link_status(session, site=site.slug, now=now).live
        waiting = reserving.my_reservation_lines(session, site_id=site.id, resident_id=resident.id,
                                                 timezone=site.timezone)  # fmt: skip
    lockers_down = lockers_down and any(loan.locker_name for loan in loans)
    return render_template(
        "touch/tools_mine.html", service=SERVICE, loans=loans, holds=holds,
        lockers_down=lockers_down, reservations=waiting,
    )  # fmt: skip


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
    return door.start(
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
