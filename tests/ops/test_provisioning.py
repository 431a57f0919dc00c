"""Registering devices and the Mosquitto password file and ACL generated from the registry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import Conflict, InvalidInput, NotFound
from booking.core.models.sites import Site
from devices.fleet import provisioning
from devices.models.device import Device, DeviceKind


def make_site(database: Database, slug: str = "xinhua") -> int:
    with database.write() as session:
        site = Site(slug=slug, name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        return site.id


def test_hash_is_what_mosquitto_passwd_itself_writes() -> None:
    salt = bytes(range(12))
    stored = provisioning.mosquitto_hash("secret", salt=salt)
    assert stored.startswith("$7$101$AAECAwQFBgcICQoL$")
    assert provisioning.verify_mosquitto_hash(stored, "secret")
    assert not provisioning.verify_mosquitto_hash(stored, "Secret")


def test_hash_made_by_mosquitto_passwd_verifies_with_ours(tmp_path: Path) -> None:
    tool = "/usr/bin/mosquitto_passwd"
    if not Path(tool).exists():
        pytest.skip("Mosquitto not installed: mosquitto_passwd is missing")
    passwd = tmp_path / "passwd"
    subprocess.run([tool, "-c", "-b", str(passwd), "u", "s3cret"], check=True)
    stored = passwd.read_text().strip().split(":", 1)[1]
    assert provisioning.verify_mosquitto_hash(stored, "s3cret")


def test_registering_a_device_returns_a_password_that_only_its_hash_remembers(
    database: Database, clock: FrozenClock
) -> None:
    site_id = make_site(database)
    with database.write() as session:
        device, password = provisioning.register_device(
            session, site_id, "locker-a", "locker", "Locker A", clock.now()
        )
    assert device.kind is DeviceKind.LOCKER
    assert password not in device.mqtt_password_hash
    assert provisioning.verify_mosquitto_hash(device.mqtt_password_hash, password)


def test_rotating_a_password_makes_the_old_one_stop_matching(
    database: Database, clock: FrozenClock
) -> None:
    site_id = make_site(database)
    now = clock.now()
    with database.write() as session:
        _, old = provisioning.register_device(session, site_id, "bp-1", "bp_terminal", "", now)
    with database.write() as session:
        device, new = provisioning.rotate_password(session, "bp-1")
    assert provisioning.verify_mosquitto_hash(device.mqtt_password_hash, new)
    assert not provisioning.verify_mosquitto_hash(device.mqtt_password_hash, old)


@pytest.mark.parametrize(
    ("device_id", "kind", "name", "error"),
    [
        ("Locker-A", "locker", "", InvalidInput),
        ("-locker", "locker", "", InvalidInput),
        ("locker/a", "locker", "", InvalidInput),
        ("a" * 41, "locker", "", InvalidInput),
        ("server", "locker", "", InvalidInput),
        ("linli-server", "locker", "", InvalidInput),
        ("locker-a", "fridge", "", InvalidInput),
        ("locker-a", "locker", "x" * 101, InvalidInput),
        ("locker-z", "locker", "", Conflict),
    ],
)
def test_bad_registration_is_refused_and_changes_nothing(
    database: Database,
    clock: FrozenClock,
    device_id: str,
    kind: str,
    name: str,
    error: type[Exception],
) -> None:
    site_id = make_site(database)
    now = clock.now()
    with database.write() as session:
        provisioning.register_device(session, site_id, "locker-z", "locker", "", now)
    with pytest.raises(error), database.write() as session:
        provisioning.register_device(session, site_id, device_id, kind, name, now)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 1


def test_registration_at_an_unknown_site_is_refused(database: Database, clock: FrozenClock) -> None:
    with pytest.raises(NotFound), database.write() as session:
        provisioning.register_device(session, 999, "locker-a", "locker", "", clock.now())


def test_acl_gives_each_device_only_its_own_topics(database: Database, clock: FrozenClock) -> None:
    site_id = make_site(database)
    now = clock.now()
    with database.write() as session:
        provisioning.register_device(session, site_id, "locker-a", "locker", "", now)
        acl = provisioning.mosquitto_acl(session)
    section = acl.split("user locker-a\n", 1)[1].strip().splitlines()
    assert section == [
        "topic write linli/v1/xinhua/locker-a/status",
        "topic write linli/v1/xinhua/locker-a/birth",
        "topic write linli/v1/xinhua/locker-a/state",
        "topic write linli/v1/xinhua/locker-a/event",
        "topic write linli/v1/xinhua/locker-a/reply",
        "topic write linli/v1/xinhua/locker-a/heartbeat",
        "topic read linli/v1/xinhua/locker-a/cmd",
        "topic read linli/v1/xinhua/locker-a/ack",
        "topic read linli/v1/xinhua/server/status",
    ]
    assert "user linli-server\ntopic readwrite linli/v1/#\n" in acl
