"""Staff accounts of the centre, for its admins; a district admin also grants and revokes the
other centres an account works at (a centre's admin sees the grants, changes none)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import or_, select

from booking.core import sites
from booking.core.errors import Conflict, NotFound, NotPermitted
from booking.people import staff_sites
from booking.people.models.staff import StaffAccount
from booking.people.models.staff_site_access import StaffSiteAccess
from kiosk.extensions import clock, database
from kiosk.staff.auth import admin_required
from kiosk.staff.forms import SiteGrantForm, SiteRevokeForm
from kiosk.staff.people.colleague_forms import ColleagueForm, ColleagueSwitchForm
from kiosk.staff.session import console_site_id
from kiosk.staff.site_switch import site_name


@admin_required
def accounts() -> ResponseReturnValue:
    return accounts_page()


def accounts_page(add_form: FlaskForm | None = None, status: int = 200) -> ResponseReturnValue:
    """The centre's accounts, with the admin's forms (``add_form``: one refused, shown again)."""
    site_id = console_site_id()
    with database().read() as session:
        # Those at home here, and those of other centres granted this one.
        found = list(
            session.scalars(
                select(StaffAccount)
                .where(
                    or_(
                        StaffAccount.site_id == site_id,
                        StaffAccount.id.in_(
                            select(StaffSiteAccess.staff_id).where(
                                StaffSiteAccess.site_id == site_id
                            )
                        ),
                    )
                )
                .order_by(StaffAccount.username)
            )
        )
        granted = {
            account.id: [
                (site.id, site.slug, site_name(site), as_admin)
                for site, as_admin in staff_sites.granted_sites(session, staff_id=account.id)
            ]
            for account in found
        }
        all_sites = [(site.slug, site_name(site)) for site in sites.all_sites(session)]
        return render_template(
            "staff/accounts.html", accounts=found, granted=granted, all_sites=all_sites,
            may_grant=g.staff.is_district_admin, here=site_id,
            grant_form=SiteGrantForm(), revoke_form=SiteRevokeForm(),
            add_form=add_form or ColleagueForm(formdata=None), switch_form=ColleagueSwitchForm(),
            me=g.staff.id,
        ), status  # fmt: skip


# Why a grant changed nothing, in the words the page shows (booking.people.staff_sites).
_CONFLICTS = {
    "home_centre": _l("That is the account's home centre."),
    "district_admin": _l("A district admin works at every centre already."),
}
_ALREADY = _l("That account works at that centre already, in that role.")


@admin_required
def grant_site(staff_id: int) -> ResponseReturnValue:
    form = SiteGrantForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with database().write() as session:
            site = sites.get_site_by_slug(session, form.site.data or "")
            staff_sites.grant_site(
                session, by=g.staff, staff_id=staff_id, site_id=site.id, now=clock().now(),
                as_admin=bool(form.as_admin.data),
            )  # fmt: skip
            name = site_name(site)
    except NotPermitted:
        flash(_("Only a district admin gives staff other centres."), "error")
        return redirect(url_for("staff.accounts")), 303
    except NotFound:
        abort(404)
    except Conflict as error:
        flash(str(_CONFLICTS.get(str(error.details.get("reason")), _ALREADY)), "error")
        return redirect(url_for("staff.accounts")), 303
    if form.as_admin.data:
        flash(_("The account may now work at %(centre)s and manage it.", centre=name), "info")
    else:
        flash(_("The account may now work at %(centre)s.", centre=name), "info")
    return redirect(url_for("staff.accounts")), 303


@admin_required
def revoke_site(staff_id: int, site_id: int) -> ResponseReturnValue:
    if not SiteRevokeForm().validate_on_submit():
        abort(400)
    try:
        with database().write() as session:
            staff_sites.revoke_site(
                session, by=g.staff, staff_id=staff_id, site_id=site_id, now=clock().now()
            )
    except NotPermitted:
        flash(_("Only a district admin takes other centres away from staff."), "error")
        return redirect(url_for("staff.accounts")), 303
    except NotFound:
        abort(404)
    flash(_("The account no longer works at that centre."), "info")
    return redirect(url_for("staff.accounts")), 303
