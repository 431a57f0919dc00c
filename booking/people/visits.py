"""A resident of one centre using another centre of the district.

One deployment serves one district, and every centre on it is the district's. A resident
enrolled at their home centre signs in at any centre's kiosk with the same phone and PIN,
and books from their phone at any centre. The first time they do, that centre gets a
visitor membership (:func:`visit`): from then on its rules, its lists and its staff find
them like a member, and everything they do there is that centre's alone.

Each centre's rules stay its own. A visitor books and borrows under the visited centre's
rules, limits and policy; its no-show strikes and suspensions are its own, so a suspension
at the home centre does not follow the resident to another (nor one from there home):
suspensions, strikes, loans and bookings are all counted per centre already
(``booking.spaces.strikes``, ``booking.lending.eligibility``). The sign-in throttle is
counted per account and client, never per centre (``booking.people.sign_in_guard``), so
guessing one phone's PIN at several centres' pages from one client is one count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import NotFound
from booking.core.models.sites import Site
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident


def home_membership(resident: Resident) -> ResidentMembership | None:
    """Where the resident was enrolled first: their home centre's membership (None for an
    account that only visits, which enrolment never makes)."""
    enrolled = [m for m in resident.memberships if not m.visitor]
    if not enrolled:
        return None
    return min(enrolled, key=lambda m: (m.joined_at, m.id))


def home_site_id(resident: Resident) -> int | None:
    membership = home_membership(resident)
    return membership.site_id if membership is not None else None


def of_the_district(session: Session, phone: str) -> Resident | None:
    """The active resident with ``phone`` enrolled at any centre of the district (the
    deployment), or None."""
    return session.scalar(
        select(Resident)
        .join(ResidentMembership)
        .where(
            Resident.phone == phone,
            Resident.deactivated_at.is_(None),
            ResidentMembership.visitor.is_(False),
        )
        .limit(1)
    )


def visit(session: Session, *, resident: Resident, site_id: int, now: datetime) -> bool:
    """Make sure ``resident`` may use ``site_id``: a member already, or a visitor from now
    on (audited at the visited centre). True when this is their first visit there.

    Raises :class:`NotFound` for a site that does not exist or a resident with no home
    centre in the district."""
    if session.get(Site, site_id) is None:
        raise NotFound("no such centre")
    if any(m.site_id == site_id for m in resident.memberships):
        return False
    home = home_site_id(resident)
    if home is None or not resident.is_active:
        raise NotFound("no such resident in the district")
    resident.memberships.append(ResidentMembership(site_id=site_id, joined_at=now, visitor=True))
    session.flush()
    audit.record(
        session, action="resident.first_visit", actor=f"resident:{resident.id}",
        site_id=site_id, now=now, subject=f"resident:{resident.id}",
        detail={"home_site_id": home},
    )  # fmt: skip
    return True


@dataclass(frozen=True)
class Standing:
    """How staff of a centre see a resident: a member, or a visitor from their home centre."""

    visitor: bool
    home_site_id: int | None
    home_name_zh: str
    home_name_en: str


def standing(session: Session, *, resident: Resident, site_id: int) -> Standing:
    """The resident as seen from ``site_id``: whether they are a visitor there, and their
    home centre (shown on their record at every centre)."""
    here = next((m for m in resident.memberships if m.site_id == site_id), None)
    home_id = home_site_id(resident)
    home = session.get(Site, home_id) if home_id is not None else None
    return Standing(
        visitor=here is not None and here.visitor,
        home_site_id=home_id,
        home_name_zh=home.name_zh if home is not None else "",
        home_name_en=home.name_en if home is not None else "",
    )


def visitors_here(session: Session, *, site_id: int, resident_ids: list[int]) -> dict[int, Site]:
    """Of ``resident_ids``, those who are visitors at ``site_id``: resident id -> their home
    centre (for a page of residents, in two statements)."""
    if not resident_ids:
        return {}
    visiting = list(
        session.scalars(
            select(Resident)
            .join(ResidentMembership)
            .where(
                ResidentMembership.site_id == site_id,
                ResidentMembership.visitor.is_(True),
                Resident.id.in_(resident_ids),
            )
        )
    )
    homes = {r.id: home_site_id(r) for r in visiting}
    wanted = {home for home in homes.values() if home is not None}
    found = {site.id: site for site in session.scalars(select(Site).where(Site.id.in_(wanted)))}
    return {rid: found[home] for rid, home in homes.items() if home in found}
