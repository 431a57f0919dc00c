"""The console's counter actions on one item: lend it, take it back, and open its locker
compartment for maintenance. Each answers on the item's page (or the counter's), and a
refused action shows that page again with the form and the reason."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from booking.core.errors import DomainError
from booking.core.models.sites import Site
from booking.core.sites import local_time
from booking.lending import lookups as lending_lookups
from booking.lending import operations as lending
from booking.lending import records as lending_records
from booking.lending.errors import NotInLocker
from booking.lending.models.loans import ReturnCondition
from booking.lending.models.tools import Item
from booking.lending.records import NotAMember
from devices.commands import waiting
from devices.commands.operations import DeviceNotFound, DeviceOffline, InvalidCommand
from devices.commands.waiting import OutcomeResult
from devices.locker import maintenance
from kiosk import device_link
from kiosk.extensions import clock, database
from kiosk.staff.lending import words as lending_words
from kiosk.staff.lending.forms import CounterLendForm, CounterReturnForm, MaintenanceOpenForm
from kiosk.staff.lending.pages import item
from kiosk.staff.session import console_site_id

# --- counter lending --------------------------------------------------------------------------


def _back_to(item_id: int, form: CounterLendForm | CounterReturnForm) -> ResponseReturnValue:
    target = form.back.data == "counter"
    return redirect(
        url_for("staff.lending_counter")
        if target
        else url_for("staff.lending_item", item_id=item_id),
        303,
    )


def lend(item_id: int) -> ResponseReturnValue:
    form = CounterLendForm()
    if not form.validate_on_submit():
        flash(_("Nothing was lent: enter the resident's phone."), "error")
        return item(item_id, forms={"lend": form}, status=400)
    now = clock().now()
    try:
        with database().write() as session:
            member = lending_lookups.borrower_by_phone(
                session, site_id=console_site_id(), phone=form.resident.data or "", now=now
            )
            if member is None:
                raise NotAMember("no member with that phone")
            loan = lending.lend_at_counter(
                session, staff=g.staff, item_id=item_id, resident_id=member.id, now=now
            )
            lent = session.get_one(Item, loan.item_id)
            site = session.get_one(Site, console_site_id())
            message = _(
                "%(tag)s lent to %(name)s, due back %(due)s.",
                tag=lent.asset_tag,
                name=member.name,
                due=local_time(site, loan.due_at).strftime("%Y-%m-%d %H:%M"),
            )
    except DomainError as error:
        flash(str(lending_words.refusal(error.code)), "error")
        return item(item_id, forms={"lend": form}, status=error.status)
    flash(message, "info")
    return _back_to(item_id, form)


def take_back(loan_id: int) -> ResponseReturnValue:
    form = CounterReturnForm()
    with database().read() as session:
        row = lending_records.loan_row(session, site_id=console_site_id(), loan_id=loan_id)
    if not form.validate_on_submit():
        flash(_("Nothing was returned: say what condition the item is in."), "error")
        return item(row.item_id, forms={"return": form}, status=400)
    try:
        with database().write() as session:
            loan = lending.return_at_counter(
                session,
                staff=g.staff,
                loan_id=loan_id,
                condition=form.condition.data or "",
                now=clock().now(),
                note=form.note.data or "",
            )
            condition = loan.return_condition
    except DomainError as error:
        flash(str(lending_words.refusal(error.code)), "error")
        return item(row.item_id, forms={"return": form}, status=error.status)
    if condition is ReturnCondition.FINE:
        flash(_("%(tag)s is back and can be lent again.", tag=row.asset_tag), "info")
    else:
        flash(
            _("%(tag)s is back and in maintenance; staff have been alerted.", tag=row.asset_tag),
            "info",
        )
    return _back_to(row.item_id, form)


# --- maintenance open -------------------------------------------------------------------------


def maintenance_open(item_id: int) -> ResponseReturnValue:
    """Open the compartment of a locker item, with a reason, and say plainly how it went."""
    form = MaintenanceOpenForm()
    if not form.validate_on_submit() or not (form.reason.data or "").strip():
        if not form.reason.errors:
            form.reason.errors = [_("Say why the compartment must open.")]
        flash(_("The compartment was not opened: say why it must open."), "error")
        return item(item_id, forms={"maintenance": form}, status=400)
    reason = (form.reason.data or "").strip()
    now = clock().now()
    try:
        with database().write() as session:
            found = lending_lookups.site_item(session, site_id=console_site_id(), item_id=item_id)
            if found.locker_device_id is None or found.compartment is None:
                raise NotInLocker("the item is kept at the counter")
            # The audit entry, the command (requested_by names staff and reason) and the
            # item's history are one transaction: a compartment never opens unrecorded.
            command = maintenance.open_for_maintenance(
                session,
                g.staff,
                device_id=found.locker_device_id,
                compartment=found.compartment,
                reason=reason,
                now=now,
            )
            # Without the worker nothing could open: then nothing is issued or audited either,
            # as this transaction rolls back.
            device_link.ensure_live(console_site_id(), session)
            command_id, device_id, number = command.id, found.locker_device_id, found.compartment
    except NotInLocker:
        flash(_("This item is kept at the counter, not in a locker."), "error")
        return item(item_id, forms={"maintenance": form}, status=409)
    except device_link.DevicesUnavailable:
        flash(_("The command could not be sent: the device link is not running."), "error")
        return redirect(url_for("staff.lending_item", item_id=item_id), 303)
    except DeviceOffline:
        flash(_("The locker is offline: it cannot open now."), "error")
        return item(item_id, forms={"maintenance": form}, status=503)
    except (DeviceNotFound, InvalidCommand):
        flash(_("This item's locker or compartment is not known to the centre."), "error")
        return item(item_id, forms={"maintenance": form}, status=409)
    # The worker's bridge publishes the command, queued with it; this waits for the answer.
    outcome = waiting.await_outcome(database(), command_id, clock=clock())
    if outcome.result is OutcomeResult.DONE:
        flash(_("Compartment %(n)d of %(device)s is open.", n=number, device=device_id), "info")
    elif outcome.result is OutcomeResult.TIMED_OUT:
        flash(_("The locker did not answer in time. Check it before trying again."), "error")
    else:
        flash(
            _(
                "The locker did not open compartment %(n)d (%(reason)s).",
                n=number,
                reason=outcome.reason or outcome.result.value,
            ),
            "error",
        )
    return redirect(url_for("staff.lending_item", item_id=item_id), 303)
