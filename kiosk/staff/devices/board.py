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

from booking.core.errors import DomainError
from devices.commands import waiting
from devices.commands.operations import DeviceOffline, InvalidCommand
from devices.commands.waiting import OutcomeResult
from devices.fleet import board as device_board
from devices.fleet import session_reset
from devices.locker import maintenance
from devices.models.compartments import DoorState, LockState
from devices.models.device import DeviceKind
from devices.models.faults import FaultKind
from devices.protocol.messages import Reason
from kiosk import device_link
from kiosk.extensions import clock, database
from kiosk.staff.auth import admin_required
from kiosk.staff.session import console_site_id

KIND_LABELS: dict[DeviceKind, LazyString] = {
    DeviceKind.LOCKER: _l("Smart locker"),
    DeviceKind.BP_TERMINAL: _l("Blood-pressure terminal"),
    DeviceKind.KIOSK_READER: _l("Kiosk card and QR reader"),
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
    FaultKind.DEVICE_CLOCK: _l("Device clock wrong: set it by NTP"),
    FaultKind.SESSION_BEHIND: _l("Session counter went back: not heard until reset"),
}
# Why messages were refused, in staff words; the payloads themselves are never shown.
REFUSAL_LABELS: dict[str, LazyString] = {
    Reason.SCHEMA: _l("not in the documented form"),
    Reason.NOT_JSON: _l("unreadable"),
    Reason.TOO_LARGE: _l("too large"),
    Reason.SPOOFED: _l("in another device's name"),
    Reason.WRONG_KIND: _l("of the wrong kind for this device"),
    Reason.IMPOSSIBLE_TIME: _l("with an impossible time"),
    Reason.RETAINED: _l("sent as retained"),
    Reason.HANDLER_ERROR: _l("could not be applied"),
    Reason.BEYOND_LEDGER: _l("re-sent after its record was deleted: not applied again"),
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
        rows = device_board.board(session, console_site_id())
    return (
        render_template(
            "staff/devices.html",
            devices=rows,
            form=form or MaintenanceOpenForm(formdata=None),
            kind_labels=KIND_LABELS,
            lock_labels=LOCK_LABELS,
            door_labels=DOOR_LABELS,
            fault_labels=FAULT_LABELS,
            refusal_labels=REFUSAL_LABELS,
            session_behind=FaultKind.SESSION_BEHIND,
        ),
        status,
    )


class SessionResetForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the confirmation is the button itself."""


@admin_required
def reset_session(device_id: str) -> ResponseReturnValue:
    """An admin forgets a device's session counter (its storage was lost), audited."""
    if not SessionResetForm().validate_on_submit():
        flash(_("The page had expired. Please try again."), "error")
        return redirect(url_for("staff.devices"), 303)
    try:
        with database().write() as session:
            session_reset.reset_session_counter(
                session, g.staff, device_id=device_id, now=clock().now()
            )
    except session_reset.CounterNotBehind:
        flash(_("The session counter of %(device)s has not gone back.", device=device_id), "error")
        return redirect(url_for("staff.devices"), 303)
    except DomainError:
        flash(_("No such device at this centre."), "error")
        return redirect(url_for("staff.devices"), 303)
    flash(
        _(
            "The session counter of %(device)s was reset: its next message starts anew.",
            device=device_id,
        ),
        "info",
    )
    return redirect(url_for("staff.devices") + f"#device-{device_id}", 303)


def maintenance_open(device_id: str, compartment: int) -> ResponseReturnValue:
    form = MaintenanceOpenForm()
    if not form.validate_on_submit() or not (form.reason.data or "").strip():
        if not form.reason.errors:
            form.reason.errors = [_("Say why the compartment must open.")]
        flash(_("The compartment was not opened: say why it must open."), "error")
        return board(form=form, status=400)
    try:
        # Before anything is issued or audited: without the worker nothing could open.
        device_link.ensure_live(console_site_id())
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
    # The worker's bridge publishes the command, queued with it; this waits for the answer.
    outcome = waiting.await_outcome(database(), command_id, clock=clock())
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
