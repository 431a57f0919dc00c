"""Which centre of the district the phone page books at: the resident chooses.

The phone page belongs to one centre (LINLI_SITE), but a resident of the district may book
at any of its centres, under that centre's rules (booking.people.visits). The choice is
kept in this browser's session, so the seats, the rooms and "my bookings" follow it until
the resident chooses another; the first booking at a centre not their own makes them its
visitor, as signing in at its kiosk does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import flash, g, redirect, url_for
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from wtforms import StringField

from booking.core import sites
from booking.core.errors import NotFound
from booking.core.models.sites import Site
from booking.people import visits
from booking.people.models.residents import Resident
from kiosk.extensions import database
from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.forms import KioskForm
from kiosk.touch.session import KioskSite

CENTRE_KEY = "phone_centre"
# The pages a centre is chosen on, and where the choice goes back to.
BACK_TO = {"seats": "mobile.seats", "rooms": "mobile.rooms", "bookings": "mobile.my_bookings"}
NO_SUCH_CENTRE = _l("There is no such centre. Please choose one from the list.")


class CentreForm(KioskForm):
    centre = StringField()
    back = StringField()


@dataclass(frozen=True)
class CentreOption:
    slug: str
    name: str
    chosen: bool
    own: bool  # the centre this phone page belongs to


def _name(site: Site) -> str:
    return site.name_zh if str(get_locale() or "").startswith("zh") else site.name_en


def chosen_site() -> KioskSite:
    """The centre the resident books at: their choice, else the phone page's own centre."""
    if "phone_centre_site" in g:
        chosen: KioskSite = g.phone_centre_site
        return chosen
    own = phone_session.current_site()
    chosen = own
    slug = browser_session.get(CENTRE_KEY)
    if isinstance(slug, str) and slug != own.slug:
        with database().read() as session:
            try:
                site = sites.get_site_by_slug(session, slug)
                chosen = KioskSite(site.id, site.slug, site.name_zh, site.name_en, site.timezone)
            except NotFound:
                browser_session.pop(CENTRE_KEY, None)  # a centre since removed: back home
    g.phone_centre_site = chosen
    return chosen


def options(session: Session) -> list[CentreOption]:
    """Every centre of the district, the chosen one marked; one centre is no choice."""
    found = sites.all_sites(session)
    if len(found) < 2:
        return []
    chosen, own = chosen_site(), phone_session.current_site()
    return [CentreOption(s.slug, _name(s), s.id == chosen.id, s.id == own.id) for s in found]


def make_visitor_if_new(session: Session, resident: PhoneResident, now: datetime) -> None:
    """Booking at a centre not the resident's own makes them its visitor (audited there)."""
    visits.visit(
        session, resident=session.get_one(Resident, resident.id), site_id=chosen_site().id, now=now
    )


@resident_required
def choose(resident: PhoneResident) -> ResponseReturnValue:
    form = CentreForm.read()
    back = BACK_TO.get(form.text("back"), "mobile.seats")
    with database().read() as session:
        slugs = {site.slug for site in sites.all_sites(session)}
    slug = form.text("centre")
    if slug not in slugs:
        flash(str(NO_SUCH_CENTRE), "error")
        return redirect(url_for(back))
    if slug == phone_session.current_site().slug:
        browser_session.pop(CENTRE_KEY, None)
    else:
        browser_session[CENTRE_KEY] = slug
    return redirect(url_for(back))
