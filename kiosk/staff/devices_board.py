"""The device board: every device online or not and since when, faults, locker compartments;
and opening a compartment for maintenance, with a required reason."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from booking.errors import DomainError
from devices import board as device_board
from devices import commands, maintenance
from devices.commands import DeviceOffline, InvalidCommand, OutcomeResult
from devices.models import DeviceKind, DoorState, FaultKind, LockState
from kiosk.device_link import command_publisher
from kiosk.extensions import clock, database

KIND_LABELS: dict[DeviceKind, LazyString] = {
    DeviceKind.LOCKER: _l("Smart locker"),
    DeviceKind.BP_TERMINAL: _l("Blood-pressure terminal"),
}
LOCK_LABELS: dict[LockState, LazyString] = {
    LockState.LOCKED: _l("Locked"),
    LockState.UNLOCKED: _l("Unlocked"),
    LockState.LOCKING: _l("Locking"),
    LockState.UNLOCKING: _l("Unlocking"),
    LockState.JAMMED: _l("Jammed"),
    LockState.OPEN: _l("Open"),
}
DOOR_LABELS: dict[DoorState, LazyString] = {
    DoorState.OPEN: _l("Door open"),
    DoorState.CLOSED: _l("Door closed"),
}
FAULT_LABELS: dict[FaultKind, LazyString] = {
    FaultKind.JAMMED: _l("Lock jammed"),
    FaultKind.DOOR_LEFT_OPEN: _l("Door left open"),
    FaultKind.FORCED_OPEN: _l("Door forced open"),
}


class MaintenanceOpenForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(_l("Say why the compartment must open.")),
            Length(
                max=maintenance.MAX_REASON,
                message=_l("The reason is at most %(max)d characters.", max=maintenance.MAX_REASON),
            ),
        ],
    )


def board(form: MaintenanceOpenForm | None = None, status: int = 200) -> ResponseReturnValue:
    with database().read() as session:
        rows = device_board.board(session, g.staff.site_id)
    return (
        render_template(
            "staff/devices.html",
            devices=rows,
            form=form or MaintenanceOpenForm(formdata=None),
            kind_labels=KIND_LABELS,
            lock_labels=LOCK_LABELS,
            door_labels=DOOR_LABELS,
            fault_labels=FAULT_LABELS,
        ),
        status,
    )


def maintenance_open(device_id: str, compartment: int) -> ResponseReturnValue:
    form = MaintenanceOpenForm()
    if not form.validate_on_submit() or not (form.reason.data or "").strip():
        if not form.reason.errors:
            form.reason.errors = [_("Say why the compartment must open.")]
        flash(_("The compartment was not opened: say why it must open."), "error")
        return board(form=form, status=400)
    try:
        # Before anything is issued or audited: without a device link nothing could open.
        publisher = command_publisher()
    except DomainError:
        flash(_("The command could not be sent: the device link is not running."), "error")
        return redirect(url_for("staff.devices"), 303)
    try:
        with database().write() as session:
            command = maintenance.open_for_maintenance(
                session,
                g.staff,
                device_id=device_id,
                compartment=compartment,
                reason=form.reason.data or "",
                now=clock().now(),
            )
            command_id = command.id
    except DeviceOffline:
        flash(_("The locker is offline: it cannot open now."), "error")
        return redirect(url_for("staff.devices"), 303)
    except InvalidCommand:
        flash(_("That locker has no such compartment."), "error")
        return redirect(url_for("staff.devices"), 303)
    try:
        outcome = commands.retry(database(), publisher, command_id, clock=clock())
    except DomainError:  # expired before it could be sent
        flash(_("The locker did not answer in time."), "error")
        return redirect(url_for("staff.devices"), 303)
    if outcome.result is OutcomeResult.DONE:
        flash(
            _("Compartment %(n)d of %(device)s is open.", n=compartment, device=device_id),
            "info",
        )
    else:
        flash(
            _(
                "The locker did not open compartment %(n)d (%(reason)s).",
                n=compartment,
                reason=outcome.reason or outcome.result.value,
            ),
            "error",
        )
    return redirect(url_for("staff.devices") + f"#device-{device_id}", 303)
