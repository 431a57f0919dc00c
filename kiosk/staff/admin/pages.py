"""Administration pages, for admins only (others get 403): the index, opening hours, the
lending policy and devices. Spaces and seats are in ``spaces``, tool types and items in
``tools``. Each change goes through ``booking.admin`` (or
``devices.fleet.provisioning``) and is audited."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from booking.admin import centre as centre_admin
from booking.admin import tools as tools_admin
from booking.core import audit
from booking.core.errors import Conflict, InvalidInput
from booking.core.models.sites import Site
from booking.lending.policy import policy_for
from devices.fleet import provisioning
from devices.models.device import Device
from kiosk.extensions import clock, database
from kiosk.staff.admin import saving
from kiosk.staff.admin.forms import (
    DeviceForm,
    HoursForm,
    LendingPolicyForm,
)
from kiosk.staff.auth import admin_required


@admin_required
def index() -> ResponseReturnValue:
    return render_template("staff/admin/index.html")


@admin_required
def hours() -> ResponseReturnValue:
    with database().read() as session:
        site = session.get_one(Site, g.staff.site_id)
        current = {
            "name_zh": site.name_zh,
            "name_en": site.name_en,
            "address": site.address,
            "opens_at": site.opens_at,
            "closes_at": site.closes_at,
        }
    form = HoursForm(data=current)
    if form.validate_on_submit():
        if saving.save(
            form,
            lambda session: centre_admin.update_site(
                session,
                g.staff,
                name_zh=form.name_zh.data or "",
                name_en=form.name_en.data or "",
                address=form.address.data or "",
                opens_at=form.opens_at.data,
                closes_at=form.closes_at.data,
                now=clock().now(),
            ),
        ):
            flash(_("Centre saved."), "info")
            return redirect(url_for("staff.admin_hours"), 303)
    return saving.page("staff/admin/hours.html", form=form)


@admin_required
def policy() -> ResponseReturnValue:
    with database().read() as session:
        rules = policy_for(session, g.staff.site_id)
    current = {
        "max_items_on_loan": rules.max_items_on_loan,
        "hold_minutes": int(rules.hold.total_seconds() // 60),
        "door_open_timeout_s": int(rules.door_open_timeout.total_seconds()),
        "overdue_strikes": rules.overdue_strikes,
        "overdue_window_days": rules.overdue_window.days,
        "suspension_days": rules.suspension.days,
        "escalate_after_days": rules.escalate_after.days,
    }
    form = LendingPolicyForm(data=current)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in tools_admin.POLICY_LIMITS}
        if saving.save(
            form,
            lambda session: tools_admin.save_lending_policy(
                session, g.staff, now=clock().now(), **values
            ),
        ):
            flash(_("Lending rules saved."), "info")
            return redirect(url_for("staff.admin_policy"), 303)
    return saving.page("staff/admin/policy.html", form=form)


@admin_required
def devices() -> ResponseReturnValue:
    form = DeviceForm()
    registered: dict[str, str] | None = None
    if form.validate_on_submit():
        try:
            with database().write() as session:
                device, password = provisioning.register_device(
                    session,
                    g.staff.site_id,
                    form.device_id.data or "",
                    form.kind.data or "",
                    form.name.data or "",
                    clock().now(),
                )
                site = session.get_one(Site, g.staff.site_id)
                audit.record_staff(
                    session,
                    g.staff,
                    action="admin.device_registered",
                    now=clock().now(),
                    subject=f"device:{device.device_id}",
                    detail={"kind": device.kind.value, "name": device.name},
                )
                # Shown on this response only: never flashed (the session cookie would keep it).
                registered = {
                    "device_id": device.device_id,
                    "site": site.slug,
                    "password": password,
                }
        except (InvalidInput, Conflict) as error:
            saving.show_error(form, error)
        else:
            form = DeviceForm(formdata=None)
    with database().read() as session:
        rows = [
            {"device_id": d.device_id, "kind": d.kind.value, "name": d.name, "online": d.online}
            for d in session.scalars(
                select(Device).where(Device.site_id == g.staff.site_id).order_by(Device.device_id)
            )
        ]
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "staff/admin/devices.html", form=form, devices=rows, registered=registered
    ), status
