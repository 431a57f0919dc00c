"""A device's offline alert resolves by itself when the device comes back, and stays in the
history; going offline again opens a new one. On PostgreSQL as on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from booking.alerts import history as alert_history
from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from devices.fleet import registry
from devices.models.device import Device, DeviceKind
from devices.protocol.messages import Status

LOCKER = "locker-a"


@pytest.fixture
def site_id(any_database: Database, clock: FrozenClock) -> int:
    with any_database.write() as session:
        site = Site(slug="nanshan", name_zh="南山站", name_en="Nanshan")
        session.add(site)
        session.flush()
        session.add(
            Device(
                site_id=site.id,
                device_id=LOCKER,
                kind=DeviceKind.LOCKER,
                name="工具柜 A",
                mqtt_password_hash="$7$unused",
                capabilities={},
                online=False,
                created_at=clock.now(),
            )
        )
        return site.id


def status(database: Database, online: bool, now: datetime, session_no: int = 4) -> None:
    with database.write() as session:
        device = session.scalars(select(Device).where(Device.device_id == LOCKER)).one()
        registry.apply_status(device, Status(LOCKER, session_no, online, now), now)


def alerts_of(database: Database) -> list[tuple[AlertStatus, datetime, datetime | None]]:
    with database.read() as session:
        return [
            (a.status, a.created_at, a.resolved_at)
            for a in session.scalars(select(StaffAlert).order_by(StaffAlert.id))
        ]


def test_an_offline_alert_resolves_by_itself_when_the_device_comes_back(
    any_database: Database, site_id: int, clock: FrozenClock
) -> None:
    t0 = clock.now()
    status(any_database, True, t0)
    status(any_database, False, t0 + timedelta(minutes=1))
    assert alerts_of(any_database) == [(AlertStatus.OPEN, t0 + timedelta(minutes=1), None)]

    back = t0 + timedelta(minutes=9)
    status(any_database, True, back, session_no=5)

    assert alerts_of(any_database) == [(AlertStatus.RESOLVED, t0 + timedelta(minutes=1), back)]
    with any_database.read() as session:
        alert = session.scalars(select(StaffAlert)).one()
        assert alert.resolved_by_staff_id is None
        assert "came back online" in alert.note
        audit = session.scalars(select(AuditEntry.action)).all()
        assert "alert.resolved_by_itself" in audit
        # Kept in the console's history, under its kind.
        history = alert_history.resolved_alerts(session, site_id=site_id, kind="device.")
        assert [a.id for a in history.alerts] == [alert.id]


def test_going_offline_again_after_coming_back_opens_a_new_alert_and_keeps_the_old(
    any_database: Database, site_id: int, clock: FrozenClock
) -> None:
    t0 = clock.now()
    status(any_database, True, t0)
    status(any_database, False, t0 + timedelta(minutes=1))
    status(any_database, True, t0 + timedelta(minutes=2), session_no=5)
    status(any_database, False, t0 + timedelta(minutes=3), session_no=5)

    assert [s for s, *_ in alerts_of(any_database)] == [AlertStatus.RESOLVED, AlertStatus.OPEN]


def test_an_alert_staff_already_resolved_is_left_as_they_left_it(
    any_database: Database, site_id: int, clock: FrozenClock
) -> None:
    t0 = clock.now()
    status(any_database, True, t0)
    status(any_database, False, t0 + timedelta(minutes=1))
    resolved_at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    with any_database.write() as session:
        alert = session.scalars(select(StaffAlert)).one()
        alert.status, alert.resolved_at, alert.note = AlertStatus.RESOLVED, resolved_at, "seen"

    status(any_database, True, t0 + timedelta(minutes=9), session_no=5)

    with any_database.read() as session:
        alert = session.scalars(select(StaffAlert)).one()
        assert (alert.resolved_at, alert.note) == (resolved_at, "seen")
