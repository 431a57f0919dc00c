"""The demo district that `make demo DISTRICT=1` seeds: three centres on one deployment.

The first is the demo centre everyone knows (booking.demo.centre, unchanged); two more have
the same rooms and tool fleet, lockers and a blood-pressure terminal of their own (device
ids prefixed by the centre's slug, so each centre's simulated fleet has its own site slug),
residents of their own, a staff member and an admin each. Some residents are visitors at a
centre other than their home (booking.people.visits), and a district admin manages all
three. Idempotent, as the demo centre is: seeding twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.models.sites import Site
from booking.demo import centre as demo_centre
from booking.demo.centre import DemoLogin
from booking.lending.models.policies import LendingPolicy
from booking.people import residents, staff, visits
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount, StaffRole


@dataclass(frozen=True)
class DemoCentre:
    slug: str
    name_zh: str
    name_en: str
    lockers: tuple[str, ...]
    bp_terminals: tuple[str, ...]
    # name, phone, PIN
    residents: tuple[tuple[str, str, str], ...]
    # username, display name, password, role
    staff: tuple[tuple[str, str, str, StaffRole], ...]
    # Each centre's rules are its own: at most this many tools on loan at once.
    max_items_on_loan: int = 3

    @property
    def devices(self) -> tuple[str, ...]:
        return self.lockers + self.bp_terminals


FIRST = DemoCentre(
    slug=demo_centre.SITE_SLUG,
    name_zh="新华社区邻里中心",
    name_en="Xinhua Neighbourhood Centre",
    lockers=demo_centre.LOCKERS,
    bp_terminals=demo_centre.BP_TERMINALS,
    residents=tuple((name, phone, pin) for name, phone, pin, *_ in demo_centre.DEMO_RESIDENTS),
    staff=demo_centre.DEMO_STAFF,
)
CENTRES = (
    FIRST,
    DemoCentre(
        slug="hongqiao",
        name_zh="虹桥社区邻里中心",
        name_en="Hongqiao Neighbourhood Centre",
        lockers=("hongqiao-locker-a", "hongqiao-locker-b"),
        bp_terminals=("hongqiao-bp-1",),
        residents=(
            ("周淑芬", "13800000101", "731846"),
            ("吴国强", "13800000102", "842957"),
            ("郑小红", "13800000103", "953068"),
        ),
        staff=(
            ("hongqiao-staff", "钱丽 (社区工作者)", "linli-hongqiao-2026", StaffRole.STAFF),
            ("hongqiao-admin", "周站长", "linli-hongqiao-admin-2026", StaffRole.ADMIN),
        ),
        max_items_on_loan=2,
    ),
    DemoCentre(
        slug="jiangning",
        name_zh="江宁社区邻里中心",
        name_en="Jiangning Neighbourhood Centre",
        lockers=("jiangning-locker-a", "jiangning-locker-b"),
        bp_terminals=("jiangning-bp-1",),
        residents=(
            ("冯玉兰", "13800000201", "164285"),
            ("陈大海", "13800000202", "275396"),
        ),
        staff=(
            ("jiangning-staff", "孙强 (社区工作者)", "linli-jiangning-2026", StaffRole.STAFF),
            ("jiangning-admin", "李站长", "linli-jiangning-admin-2026", StaffRole.ADMIN),
        ),
        max_items_on_loan=1,
    ),
)
# Residents who use a centre other than their home: phone -> the slugs they visit.
VISITS = {
    "13800000001": ("hongqiao", "jiangning"),  # 王秀英 of Xinhua
    "13800000101": (demo_centre.SITE_SLUG,),  # 周淑芬 of Hongqiao
}
DISTRICT_ADMIN = ("district", "区级管理员 (District admin)", "linli-district-2026")


def seed(session: Session, *, now: datetime) -> list[DemoLogin]:
    """Create the demo district unless it exists; return the logins to print (the first
    centre's as the demo centre prints them, then each centre's staff, then the district
    admin)."""
    logins = demo_centre.seed(session, now=now)
    sites = {FIRST.slug: session.scalars(select(Site).where(Site.slug == FIRST.slug)).one()}
    for centre in CENTRES[1:]:
        sites[centre.slug] = _seed_centre(session, centre, now)
    for centre in CENTRES:
        _seed_policy(session, sites[centre.slug].id, centre.max_items_on_loan)
    for phone, slugs in VISITS.items():
        resident = session.scalars(select(Resident).where(Resident.phone == phone)).one()
        for slug in slugs:
            visits.visit(session, resident=resident, site_id=sites[slug].id, now=now)
    username, display, password = DISTRICT_ADMIN
    if session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)) is None:
        staff.create_staff(
            session, site_id=sites[FIRST.slug].id, username=username, display_name=display,
            password=password, role=StaffRole.DISTRICT_ADMIN, now=now,
        )  # fmt: skip
    for centre in CENTRES[1:]:
        logins += [
            DemoLogin(f"resident {name}", phone, pin) for name, phone, pin in centre.residents[:1]
        ]
        logins += [
            DemoLogin(f"{role.value} {display}", user, pw)
            for user, display, pw, role in centre.staff
        ]
    logins.append(DemoLogin(f"{StaffRole.DISTRICT_ADMIN.value} {display}", username, password))
    return logins


def _seed_centre(session: Session, centre: DemoCentre, now: datetime) -> Site:
    site = session.scalar(select(Site).where(Site.slug == centre.slug))
    if site is not None:
        return site
    site = Site(
        slug=centre.slug, name_zh=centre.name_zh, name_en=centre.name_en,
        timezone="Asia/Shanghai", opens_at=time(8, 0), closes_at=time(21, 0),
    )  # fmt: skip
    session.add(site)
    session.flush()
    demo_centre.seed_spaces(session, site)
    demo_centre.seed_tools(session, site, tag_prefix=centre.slug, lockers=centre.lockers)
    for name, phone, pin in centre.residents:
        residents.register_resident(
            session, site_id=site.id, name=name, phone=phone, pin=pin, now=now
        )
    for username, display, password, role in centre.staff:
        staff.create_staff(
            session, site_id=site.id, username=username, display_name=display,
            password=password, role=role, now=now,
        )  # fmt: skip
    return site


def _seed_policy(session: Session, site_id: int, max_items_on_loan: int) -> None:
    """Each centre's own lending limit, so a visitor meets the visited centre's rules."""
    if session.scalar(select(LendingPolicy.id).where(LendingPolicy.site_id == site_id)) is None:
        session.add(LendingPolicy(site_id=site_id, max_items_on_loan=max_items_on_loan))


def centre_of_device(device_id: str) -> DemoCentre:
    """The demo centre a demo device belongs to."""
    for centre in CENTRES:
        if device_id in centre.devices:
            return centre
    raise KeyError(device_id)
