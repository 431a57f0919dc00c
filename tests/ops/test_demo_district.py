"""`make demo DISTRICT=1`: three centres of one district, seeded into the database with
their devices, staff, residents (some visiting another centre) and a district admin."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.demo import district as demo_district
from booking.lending import policy
from booking.lending.models.tools import Item
from booking.people import residents, staff, visits
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount, StaffRole
from booking.spaces.models.spaces import Space
from devices.models.device import Device
from kiosk import demo_fleet


def seed_district(database: Database, clock: FrozenClock, tmp_path: Path) -> list[str]:
    """Seed as `linli demo --district` does, and provision every centre's devices; the
    printed logins."""
    with database.write() as session:
        logins = demo_district.seed(session, now=clock.now())
    for centre in demo_district.CENTRES:
        demo_fleet.provision(database, clock, demo_fleet.devices_file_of(tmp_path, centre), centre)
    return [f"{login.login} {login.secret}" for login in logins]


def test_the_district_demo_has_three_centres_each_with_its_own_devices_staff_and_residents(
    any_database: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    seed_district(any_database, clock, tmp_path)
    with any_database.read() as session:
        sites = {site.slug: site for site in session.scalars(select(Site))}
        assert sorted(sites) == ["hongqiao", "jiangning", "xinhua"]
        for centre in demo_district.CENTRES:
            site_id = sites[centre.slug].id
            devices = session.scalars(select(Device.device_id).where(Device.site_id == site_id))
            assert sorted(devices) == sorted(centre.devices)
            lockers_used = session.scalars(
                select(Item.locker_device_id)
                .where(Item.site_id == site_id, Item.locker_device_id.is_not(None))
                .distinct()
            )
            assert sorted(lockers_used) == sorted(centre.lockers)
            spaces = session.scalar(select(func.count(Space.id)).where(Space.site_id == site_id))
            assert spaces == 5  # the study room and four activity rooms
            roles = session.execute(
                select(StaffAccount.username, StaffAccount.role).where(
                    StaffAccount.site_id == site_id, StaffAccount.role != StaffRole.DISTRICT_ADMIN
                )
            ).all()
            assert sorted(roles) == sorted((u, r) for u, _, _, r in centre.staff)
            members = session.scalars(
                select(Resident.phone)
                .join(ResidentMembership)
                .where(ResidentMembership.site_id == site_id, ResidentMembership.visitor.is_(False))
            )
            assert sorted(members) == sorted(phone for _, phone, _ in centre.residents)
            assert policy.policy_for(session, site_id).max_items_on_loan == centre.max_items_on_loan


def test_each_centres_simulated_fleet_has_its_own_site_slug(
    any_database: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    seed_district(any_database, clock, tmp_path)
    for centre in demo_district.CENTRES:
        entries = json.loads(demo_fleet.devices_file_of(tmp_path, centre).read_text())
        assert {entry["site"] for entry in entries} == {centre.slug}
        assert sorted(entry["device_id"] for entry in entries) == sorted(centre.devices)
    # The demo centre's file keeps the name the plain demo gives it.
    assert demo_fleet.devices_file_of(tmp_path, demo_district.FIRST).name == demo_fleet.DEVICES_FILE


def test_shared_residents_are_visitors_elsewhere_and_keep_their_home_centre(
    any_database: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    seed_district(any_database, clock, tmp_path)
    with any_database.read() as session:
        slugs = {site.id: site.slug for site in session.scalars(select(Site))}
        wang = session.scalars(select(Resident).where(Resident.phone == "13800000001")).one()
        zhou = session.scalars(select(Resident).where(Resident.phone == "13800000101")).one()
        assert slugs[visits.home_site_id(wang) or 0] == "xinhua"
        assert sorted(slugs[m.site_id] for m in wang.memberships if m.visitor) == [
            "hongqiao", "jiangning",
        ]  # fmt: skip
        assert slugs[visits.home_site_id(zhou) or 0] == "hongqiao"
        assert [slugs[m.site_id] for m in zhou.memberships if m.visitor] == ["xinhua"]


def test_the_district_admin_and_every_centres_staff_sign_in_with_the_printed_passwords(
    any_database: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    printed = seed_district(any_database, clock, tmp_path)
    username, _, password = demo_district.DISTRICT_ADMIN
    assert f"{username} {password}" in printed
    with any_database.write() as session:
        admin = staff.authenticate_staff(
            session, username=username, password=password, now=clock.now(), client="test"
        )
        assert admin.role is StaffRole.DISTRICT_ADMIN
        for centre in demo_district.CENTRES:
            for user, _, secret, _ in centre.staff:
                assert f"{user} {secret}" in printed
                staff.authenticate_staff(
                    session, username=user, password=secret, now=clock.now(), client="test"
                )
        # A resident printed for another centre signs in at the demo centre, as its visitor.
        name, phone, pin = demo_district.CENTRES[2].residents[0]
        assert f"{phone} {pin}" in printed
        xinhua = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        resident = residents.authenticate_resident(
            session, site_id=xinhua.id, phone=phone, pin=pin, now=clock.now(), client="test"
        )
        assert visits.standing(session, resident=resident, site_id=xinhua.id).visitor


def test_seeding_the_district_twice_changes_nothing(
    any_database: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    def counts() -> tuple[int, ...]:
        with any_database.read() as session:
            return tuple(
                session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Site, Resident, ResidentMembership, StaffAccount, Item, Device)
            )

    seed_district(any_database, clock, tmp_path)
    first = counts()
    seed_district(any_database, clock, tmp_path)
    assert counts() == first
