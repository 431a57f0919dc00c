"""Staff lending a tool for a resident from the resident's page (at the counter, on the
phone), and calling off a pickup before its compartment opened.

A locker tool goes the kiosk's way exactly: ``devices.locker.opening.start_pickup`` holds an
item by the lending rules and asks its compartment to open, and the loan exists only once the
locker reports the tool gone (the loan then names the staff member). Nothing here creates a
locker loan. For a resident who rings the desk ("keep a drill for me, I'll come this
afternoon"), staff hold an item instead (``hold_for_resident``): nothing opens, and the
resident opens its compartment at the kiosk before the hold runs out. A tool kept at the
counter is handed over by staff, who are its witness
(``booking.lending.operations.lend_at_counter``). A refusal shows the kiosk's own words."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import DomainError, NotFound
from booking.core.models.sites import Site
from booking.core.sites import local_time
from booking.lending import catalogue as lending_catalogue
from booking.lending import door_lookup
from booking.lending import operations as lending
from booking.lending.models.door_sessions import DoorSession, DoorSessionState
from booking.lending.models.loans import Loan
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.lending.policy import policy_for
from booking.people import residents as resident_service
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from devices.fleet import link_status
from devices.locker import opening as lending_locker
from kiosk import device_link
from kiosk.extensions import clock, database
from kiosk.staff.people.act_for_forms import ActForAResidentForm
from kiosk.staff.session import console_site_id
from kiosk.touch.lending import words as lending_words

# While the locker is still working, the pickup page reloads itself this often (seconds).
REFRESH_SECONDS = 2


@dataclass(frozen=True)
class ToolChoice:
    tool_type: ToolType
    in_lockers: int  # items whose locker can open for the resident now
    at_counter: list[Item]  # available items kept at the counter


def _member(session: Session, resident_id: int) -> Resident:
    return resident_service.get_member(session, site_id=console_site_id(), resident_id=resident_id)


def _site(session: Session) -> Site:
    return session.get_one(Site, console_site_id())


def tool_page(resident_id: int) -> ResponseReturnValue:
    """The centre's tools: open a locker for the resident, or hand over a counter item."""
    site_id = console_site_id()
    now = clock().now()
    with database().read() as session:
        member = _member(session, resident_id)
        offered = Counter(link_status.items_to_offer(session, site_id=site_id, now=now).values())
        counter_items: dict[int, list[Item]] = {}
        for item in session.scalars(
            select(Item)
            .where(
                Item.site_id == site_id,
                Item.status == ItemStatus.AVAILABLE,
                Item.locker_device_id.is_(None),
            )
            .order_by(Item.asset_tag)
        ):
            counter_items.setdefault(item.tool_type_id, []).append(item)
        tools = [
            ToolChoice(
                entry.tool_type,
                offered[entry.tool_type.id],
                counter_items.get(entry.tool_type.id, []),
            )  # fmt: skip
            for entry in lending_catalogue.catalogue(session, site_id=site_id)
        ]
        lockers_live = device_link.status_of(site_id, session).live
        return render_template(
            "staff/resident_lend.html",
            resident=member,
            tools=tools,
            lockers_live=lockers_live,
            hold_minutes=policy_for(session, site_id).hold // timedelta(minutes=1),
            form=ActForAResidentForm(),
        )


def _refusal(error: DomainError) -> str:
    with database().read() as session:
        timezone = _site(session).timezone
    return str(
        _(
            "Nothing was lent. The kiosk says: %(words)s",
            words=lending_words.refusal(error, timezone=timezone),
        )
    )


def lend_from_locker(resident_id: int, tool_type_id: int) -> ResponseReturnValue:
    """Hold a tool of the type for the resident and open its compartment, as the kiosk does."""
    back = redirect(url_for("staff.resident_lend", resident_id=resident_id), 303)
    if not ActForAResidentForm().validate_on_submit():
        flash(_("Nothing was lent: the form had expired. Please try again."), "error")
        return back
    try:
        device_link.ensure_live(console_site_id())
        with database().write() as session:
            member = _member(session, resident_id)
            lending_catalogue.get_tool_type(session, site_id=console_site_id(),
                                            tool_type_id=tool_type_id)  # fmt: skip
            door = lending_locker.start_pickup(
                session, site_id=console_site_id(), resident_id=member.id,
                tool_type_id=tool_type_id, now=clock().now(), staff=g.staff,
            )  # fmt: skip
            door_id = door.id
    except DomainError as error:
        if error.code in ("tool_type_not_found", "not_found"):
            abort(404)
        flash(_refusal(error), "error")
        return back
    return redirect(
        url_for("staff.resident_pickup", resident_id=resident_id, door_session_id=door_id), 303
    )


def hold_for_resident(resident_id: int, tool_type_id: int) -> ResponseReturnValue:
    """Keep a locker tool of the type for the resident to open at the kiosk later (they rang
    the desk): the kiosk's rules, and nothing opens now."""
    back = redirect(url_for("staff.resident_lend", resident_id=resident_id), 303)
    if not ActForAResidentForm().validate_on_submit():
        flash(_("Nothing was held: the form had expired. Please try again."), "error")
        return back
    try:
        with database().write() as session:
            member = _member(session, resident_id)
            tool_type = lending_catalogue.get_tool_type(session, site_id=console_site_id(),
                                                        tool_type_id=tool_type_id)  # fmt: skip
            door = lending_locker.hold_for_resident(
                session, site_id=console_site_id(), resident_id=member.id,
                tool_type_id=tool_type.id, now=clock().now(), staff=g.staff,
            )  # fmt: skip
            assert door.expires_at is not None  # a hold always has its end
            message = _(
                "%(tool)s %(tag)s is held for %(name)s until %(time)s: they open its compartment "
                "at the kiosk.",
                tool=_tool_name(tool_type),
                tag=session.get_one(Item, door.item_id).asset_tag,
                name=member.name,
                time=local_time(_site(session), door.expires_at).strftime("%H:%M"),
            )
    except DomainError as error:
        if error.code in ("tool_type_not_found", "not_found"):
            abort(404)
        flash(_held_refusal(error), "error")
        return back
    flash(message, "success")
    return redirect(url_for("staff.resident", resident_id=resident_id, _anchor="act-for"), 303)


def _held_refusal(error: DomainError) -> str:
    with database().read() as session:
        timezone = _site(session).timezone
    return str(
        _(
            "Nothing was held. The kiosk says: %(words)s",
            words=lending_words.refusal(error, timezone=timezone),
        )
    )


def _tool_name(tool_type: ToolType) -> str:
    return tool_type.name_en if str(get_locale() or "") == "en" else tool_type.name_zh


def lend_at_counter(resident_id: int, item_id: int) -> ResponseReturnValue:
    """Hand a counter item to the resident. A locker item leaves only through its locker."""
    back = redirect(url_for("staff.resident_lend", resident_id=resident_id), 303)
    if not ActForAResidentForm().validate_on_submit():
        flash(_("Nothing was lent: the form had expired. Please try again."), "error")
        return back
    try:
        with database().write() as session:
            member = _member(session, resident_id)
            item = lending_catalogue.get_item(session, site_id=console_site_id(), item_id=item_id)
            if item.locker_device_id is not None:
                flash(
                    _("This item is in a locker: open its compartment for the resident instead."),
                    "error",
                )
                return back
            loan = lending.lend_at_counter(
                session, staff=g.staff, item_id=item.id, resident_id=member.id, now=clock().now()
            )
            message = _(
                "%(tag)s lent to %(name)s, due back %(due)s.",
                tag=item.asset_tag,
                name=member.name,
                due=local_time(_site(session), loan.due_at).strftime("%Y-%m-%d %H:%M"),
            )
    except DomainError as error:
        if error.code in ("item_not_found", "not_found"):
            abort(404)
        flash(_refusal(error), "error")
        return back
    flash(message, "success")
    return redirect(url_for("staff.resident", resident_id=resident_id, _anchor="loans"), 303)


def _staff_pickup(session: Session, resident_id: int, door_session_id: int) -> DoorSession:
    """A pickup staff started for this resident at this centre, locked; else a 404."""
    try:
        door = door_lookup.get(session, door_session_id=door_session_id,
                               site_id=console_site_id(), resident_id=resident_id)  # fmt: skip
    except DomainError:
        abort(404)
    if not door.is_pickup or door.requested_by_staff_id is None:
        abort(404)
    return door


def _describe(door: DoorSession) -> tuple[str, bool]:
    """Where the pickup stands in the kiosk's words, and whether the locker is still at it."""
    n = door.compartment
    if door.loan_id is not None:
        return _("The locker reports the tool taken: the loan is recorded."), False
    if door.state is DoorSessionState.WAITING:
        return str(lending_words.CLOSING) % {"number": n}, True
    if door.state is DoorSessionState.RESERVED:
        # Staff held it: nothing opens until the resident asks at the kiosk.
        return _("Held for the resident: they open the compartment at the kiosk."), False
    if door.state is DoorSessionState.OPENING:
        if door.unlocked_at is None:
            return str(lending_words.OPENING) % {"number": n}, True
        return str(lending_words.OPEN_TAKE) % {"number": n}, True
    if door.state is DoorSessionState.DOOR_OPEN:
        return str(lending_words.DOOR_OPEN_TAKE), True
    return lending_words.ended(door.purpose, door.release_reason), False


def pickup(resident_id: int, door_session_id: int) -> ResponseReturnValue:
    """The pickup staff started, brought up to date with the locker on every look (as the
    kiosk's waiting screen does); it reloads itself until the locker has finished."""
    with database().write() as session:
        member = _member(session, resident_id)
        door = _staff_pickup(session, member.id, door_session_id)
        lending_locker.carry_on(session, door, clock().now())
        words, live = _describe(door)
        item = session.get_one(Item, door.item_id)
        loan = session.get(Loan, door.loan_id) if door.loan_id is not None else None
        return render_template(
            "staff/resident_pickup.html",
            resident=member,
            door=door,
            item=item,
            tool=session.get_one(ToolType, item.tool_type_id),
            loan=loan,
            words=words,
            live=live,
            can_cancel=door.state in (DoorSessionState.RESERVED, DoorSessionState.WAITING),
            refresh_seconds=REFRESH_SECONDS,
            form=ActForAResidentForm(),
        )


def cancel_pickup(resident_id: int, door_session_id: int) -> ResponseReturnValue:
    """Call off a pickup staff started, while its compartment has not opened yet."""
    here = url_for(
        "staff.resident_pickup", resident_id=resident_id, door_session_id=door_session_id
    )
    if not ActForAResidentForm().validate_on_submit():
        flash(_("Nothing was cancelled: the form had expired. Please try again."), "error")
        return redirect(here, 303)
    try:
        with database().write() as session:
            member = _member(session, resident_id)
            held = _staff_pickup(session, member.id, door_session_id).state is (
                DoorSessionState.RESERVED
            )
            lending.cancel_pickup(
                session, staff=g.staff, door_session_id=door_session_id, now=clock().now()
            )
    except NotFound:
        # No such resident at this centre: not found, as the pickup's page says, rather
        # than "already opening" about a pickup the console cannot see.
        raise
    except DomainError:
        flash(_("The compartment is already opening: the locker finishes this pickup."), "error")
        return redirect(here, 303)
    if held:
        flash(_("The hold is cancelled; the tool is free for others again."), "success")
    else:
        flash(_("The pickup is called off; the tool stays in the locker."), "success")
    return redirect(url_for("staff.resident", resident_id=resident_id, _anchor="loans"), 303)


def live_pickups(session: Session, member: Resident) -> list[DoorSession]:
    """The resident's pickups staff started that the locker has not finished (a hold not yet
    opened at the kiosk is listed with the holds instead)."""
    return [
        door
        for door in door_lookup.live_pickups(
            session, site_id=console_site_id(), resident_id=member.id
        )
        if door.requested_by_staff_id is not None and door.state is not DoorSessionState.RESERVED
    ]


@dataclass(frozen=True)
class HoldLine:
    """A tool held for the resident, on their page: what, until when, and by whom."""

    door: DoorSession
    tool: ToolType
    asset_tag: str
    until: datetime  # site local time
    held_by: str


def live_holds(session: Session, member: Resident) -> list[HoldLine]:
    """The tools staff hold for the resident that are still to be collected."""
    site = _site(session)
    lines = []
    for door in door_lookup.live_holds(
        session, site_id=site.id, resident_id=member.id, now=clock().now()
    ):
        item = session.get_one(Item, door.item_id)
        staff = session.get(StaffAccount, door.requested_by_staff_id)
        assert door.expires_at is not None  # a hold always has its end
        lines.append(
            HoldLine(
                door=door,
                tool=session.get_one(ToolType, item.tool_type_id),
                asset_tag=item.asset_tag,
                until=local_time(site, door.expires_at),
                held_by=staff.display_name if staff is not None else "",
            )
        )
    return lines
