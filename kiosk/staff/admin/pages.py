"""Administration pages, for admins only (others get 403): the index, opening hours, the
lending policy. Spaces and seats are in ``spaces``, tool types and items in ``tools``,
devices in ``devices``. Each change goes through ``booking.admin`` and is audited."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from booking.admin import centre as centre_admin
from booking.admin import tools as tools_admin
from booking.core.models.sites import Site
from booking.lending.policy import policy_for
from kiosk.extensions import clock, database
from kiosk.staff.admin import saving
from kiosk.staff.admin.forms import (
    HoursForm,
    LendingPolicyForm,
)
from kiosk.staff.auth import admin_required
from kiosk.staff.session import console_site_id


@admin_required
def index() -> ResponseReturnValue:
    return render_template("staff/admin/index.html")


@admin_required
def hours() -> ResponseReturnValue:
    with database().read() as session:
        site = session.get_one(Site, console_site_id())
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
        rules = policy_for(session, console_site_id())
    current = {
        "max_items_on_loan": rules.max_items_on_loan,
        "hold_minutes": int(rules.hold.total_seconds() // 60),
        "door_open_timeout_s": int(rules.door_open_timeout.total_seconds()),
        "overdue_strikes": rules.overdue_strikes,
        "overdue_window_days": rules.overdue_window.days,
        "suspension_days": rules.suspension.days,
        "escalate_after_days": rules.escalate_after.days,
        "max_renewals": rules.max_renewals,
        "no_show_strikes": int(rules.no_show_strikes),
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
