"""The console's current centre: the switcher in the header for staff of several centres.

``POST /staff/site`` (``staff.switch_site``) with ``site=<slug>`` is the one way to change
it; the district overview's "open this centre's console" buttons post here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from booking.core import sites
from booking.core.errors import NotFound, NotPermitted
from booking.core.models.sites import Site
from booking.people import staff_sites
from booking.people.models.staff import StaffAccount
from kiosk.extensions import clock, database
from kiosk.staff.forms import SiteSwitchForm
from kiosk.staff.session import console_site_id


@dataclass(frozen=True)
class SiteChoice:
    slug: str
    name: str


def site_name(site: Site) -> str:
    return site.name_zh if str(get_locale() or "").startswith("zh") else site.name_en


def choices_for(staff: StaffAccount | None) -> list[SiteChoice]:
    """The centres the header offers: none for staff of one centre (nothing to switch)."""
    if staff is None or staff.works_at_home_only:
        # The sign-in check already read that no other centre is granted: no read here.
        return []
    with database().read() as session:
        found = staff_sites.work_sites(session, staff=staff)
        if len(found) < 2:
            return []
        current = console_site_id()
        found.sort(key=lambda site: site.id != current)  # the current centre first, selected
        return [SiteChoice(site.slug, site_name(site)) for site in found]


def switch_site() -> ResponseReturnValue:
    form = SiteSwitchForm()
    if not form.validate_on_submit():
        abort(400)
    refused = _("You do not work at that centre; the console stays where it was.")
    try:
        with database().write() as session:
            site = sites.get_site_by_slug(session, form.site.data or "")
            staff_sites.switch_site(
                session, staff=g.staff, token=g.staff_token, site_id=site.id, now=clock().now()
            )
            site_id, name = site.id, site_name(site)
    except (NotFound, NotPermitted):
        # An unknown slug and another district's centre read the same: nothing to learn.
        flash(refused, "error")
        return redirect(url_for("staff.overview")), 303
    g.staff.work_at(site_id)
    flash(_("You are now working at %(centre)s.", centre=name), "info")
    return redirect(url_for("staff.overview")), 303
