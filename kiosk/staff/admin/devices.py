"""Administration of devices (admins only): register a locker or a terminal, give one new
broker credentials, or revoke them. Each goes to the registry and the broker together
(``devices.fleet.credentials``) and is audited.

The password is on the response that made it, the printable provisioning sheet, and nowhere
else: the sheet has no URL of its own, is never cached, and the registry keeps only a hash.
"""

from __future__ import annotations

import json
from typing import Any

import segno
from flask import current_app, flash, g, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import Conflict, InvalidInput
from booking.core.models.sites import Site
from devices.fleet import credentials, provisioning
from devices.fleet.broker_accounts import BrokerAccountsError
from devices.fleet.credentials import Credentials
from devices.models.device import Device, DeviceKind
from devices.mqtt_client import BrokerUrl
from kiosk import config, screen_site
from kiosk.extensions import broker_accounts, clock, database
from kiosk.staff.admin import saving
from kiosk.staff.admin.forms import DeviceActionForm, DeviceForm
from kiosk.staff.auth import admin_required
from kiosk.staff.devices.board import KIND_LABELS
from kiosk.staff.session import console_site_id

# The linli-sim command that plays each kind on the provisioning sheet.
SIM_COMMANDS = {
    DeviceKind.LOCKER: "locker",
    DeviceKind.BP_TERMINAL: "bp",
    DeviceKind.KIOSK_READER: "reader",
}


def _audit(action: str, **detail: Any) -> credentials.Record:
    def record(session: Session, device: Device) -> None:
        audit.record_staff(
            session,
            g.staff,
            action=action,
            now=clock().now(),
            subject=f"device:{device.device_id}",
            detail={"kind": device.kind.value, "name": device.name, **detail},
        )

    return record


def _broker_message(error: BrokerAccountsError) -> str:
    message: str = _(
        "The broker did not take the change, so nothing was changed: %(reason)s. "
        "Check that Mosquitto is running with its dynamic security plugin, then try again.",
        reason=error.message,
    )
    return message


@admin_required
def devices() -> ResponseReturnValue:
    form = DeviceForm()
    status = 200
    if form.validate_on_submit():
        locker = form.kind.data == "locker"
        try:
            made = credentials.register(
                database(),
                broker_accounts(),
                site_id=console_site_id(),
                device_id=form.device_id.data or "",
                kind=form.kind.data or "",
                name=form.name.data or "",
                compartments=form.compartments.data if locker else None,
                now=clock().now(),
                record=_audit(
                    "admin.device_registered",
                    compartments=form.compartments.data if locker else None,
                ),
            )
        except (InvalidInput, Conflict) as error:
            saving.show_error(form, error)
        except BrokerAccountsError as error:
            form.form_errors.append(_broker_message(error))
            status = 503
        else:
            return _sheet(made, registered=True)
    if status == 200 and (form.errors or form.form_errors):
        status = 400
    return render_template(
        "staff/admin/devices.html",
        form=form,
        action_form=DeviceActionForm(formdata=None),
        devices=_rows(),
        immediate=broker_accounts_immediate(),
        site_name=_site_name(),
    ), status


def _site_name() -> str:
    with database().read() as session:
        site = session.get_one(Site, console_site_id())
        return site.name_zh if str(get_locale() or "").startswith("zh") else site.name_en


def broker_accounts_immediate() -> bool:
    try:
        return broker_accounts().immediate
    except BrokerAccountsError:
        return False


def _rows() -> list[dict[str, Any]]:
    with database().read() as session:
        return [
            {
                "device_id": d.device_id,
                "kind": d.kind.value,
                "kind_label": KIND_LABELS[d.kind],
                "name": d.name,
                "online": d.online,
                "revoked": d.credentials_revoked_at is not None,
                "compartments": (d.capabilities or {}).get("compartments"),
            }
            for d in session.scalars(
                select(Device).where(Device.site_id == console_site_id()).order_by(Device.device_id)
            )
        ]


@admin_required
def rotate(device_id: str) -> ResponseReturnValue:
    """New credentials for a device: the old password stops working at once."""
    if not DeviceActionForm().validate_on_submit():
        return _refused(_("The form expired: nothing was changed. Try again."))
    try:
        made = credentials.rotate(
            database(),
            broker_accounts(),
            device_id=device_id,
            site_id=console_site_id(),
            record=_audit("admin.device_credentials_rotated"),
        )
    except BrokerAccountsError as error:
        return _refused(_broker_message(error), 503)
    return _sheet(made, registered=False)


@admin_required
def revoke(device_id: str) -> ResponseReturnValue:
    """The device may not sign in any more, and is disconnected now."""
    if not DeviceActionForm().validate_on_submit():
        return _refused(_("The form expired: nothing was changed. Try again."))
    try:
        credentials.revoke(
            database(),
            broker_accounts(),
            device_id=device_id,
            site_id=console_site_id(),
            now=clock().now(),
            record=_audit("admin.device_credentials_revoked"),
        )
    except Conflict:
        flash(_("Its credentials were revoked already."), "info")
    except BrokerAccountsError as error:
        return _refused(_broker_message(error), 503)
    else:
        flash(
            _("The credentials of %(device)s are revoked: it can no longer connect.",
              device=device_id),
            "info",
        )  # fmt: skip
    return redirect(url_for("staff.admin_devices"), 303)


def _refused(message: str, status: int = 400) -> ResponseReturnValue:
    form = DeviceForm(formdata=None)
    form.form_errors.append(message)
    return render_template(
        "staff/admin/devices.html",
        form=form,
        action_form=DeviceActionForm(formdata=None),
        devices=_rows(),
        immediate=broker_accounts_immediate(),
        site_name=_site_name(),
    ), status


def settings_for(made: Credentials, broker_url: str) -> dict[str, Any]:
    """What the device is set up with: the sheet shows it and its QR code carries it."""
    broker = BrokerUrl(broker_url)
    return {
        "broker": broker_url,
        "host": broker.host,
        "port": broker.port,
        "tls": broker.tls,
        "site": made.site,
        "device_id": made.device_id,
        "username": made.username,
        "client_id": made.device_id,
        "password": made.password,
    }


def _sheet(made: Credentials, *, registered: bool) -> ResponseReturnValue:
    broker_url = config.device_broker_url(current_app.config)
    settings = settings_for(made, broker_url)
    qr = segno.make(json.dumps(settings, separators=(",", ":")), error="m")
    kind = SIM_COMMANDS[made.kind]
    sim = [
        "linli-sim", kind, "--broker", broker_url, "--site", made.site,
        "--device-id", made.device_id, "--username", made.username,
        "--password", made.password,
    ]  # fmt: skip
    if made.compartments:
        sim += ["--compartments", str(made.compartments)]
    sim += ["--state-dir", f"./{made.device_id}-state"]
    response = make_response(
        render_template(
            "staff/admin/device_sheet.html",
            made=made,
            settings=settings,
            registered=registered,
            reads=[made.topic(s) for s in provisioning.DEVICE_READS]
            + [f"linli/v1/{made.site}/server/status"],
            writes=[made.topic(s) for s in provisioning.DEVICE_WRITES],
            qr_svg=qr.svg_inline(scale=4, omitsize=False),
            sim_command=" ".join(sim),
            kind_label=KIND_LABELS[made.kind],
        )
    )
    # The password is on this response alone: no cache, no history copy to come back to.
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_required
def use_as_kiosk_screen() -> ResponseReturnValue:
    """Make this browser a kiosk screen of the console's centre (one app serves every
    centre's screens, kiosk.screen_site): staff do it once on the kiosk's own browser."""
    if not DeviceActionForm().validate_on_submit():
        return redirect(url_for("staff.admin_devices"), 303)
    with database().write() as session:
        site = session.get_one(Site, console_site_id())
        audit.record_staff(session, g.staff, action="kiosk.screen_set_up", now=clock().now(),
                           subject=site.slug)  # fmt: skip
        slug = site.slug
    return screen_site.set_up(redirect(url_for("touch.home"), 303), slug)
