"""What the device side tells staff: offline devices, locker faults and refused messages become
staff alerts, in the ingest transaction, one open alert per cause."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from devices.fleet import registry
from tests.devices import test_ingest
from tests.devices.test_ingest import LOCKER, SITE, Feed

# The ingest tests' site, devices and message feed.
site = test_ingest.site
handlers = test_ingest.handlers
feed = test_ingest.feed


def open_alerts(database: Database) -> list[tuple[str, AlertSeverity, str, str | None]]:
    with database.read() as session:
        return [
            (a.kind, a.severity, a.subject, a.dedupe_key)
            for a in session.scalars(
                select(StaffAlert)
                .where(StaffAlert.status != AlertStatus.RESOLVED)
                .order_by(StaffAlert.id)
            )
        ]


def site_id(database: Database, slug: str = SITE) -> int:
    with database.read() as session:
        return int(session.scalar(select(Site.id).where(Site.slug == slug)) or 0)


def test_a_last_will_raises_a_device_offline_alert(feed: Feed, database: Database) -> None:
    feed.apply(feed.status(4, "online"), feed.birth(4))
    assert open_alerts(database) == []
    feed.apply(feed.status(4, "offline"))
    assert open_alerts(database) == [
        ("device.offline", AlertSeverity.WARNING, f"device:{LOCKER}", f"device.offline:{LOCKER}")
    ]


def test_a_device_never_seen_online_reporting_offline_raises_nothing(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.status(4, "offline"))
    assert open_alerts(database) == []


def test_going_offline_twice_before_staff_resolve_it_is_one_alert(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.status(4, "online"), feed.birth(4))
    feed.apply(feed.status(4, "offline"))
    feed.apply(feed.status(5, "online"), feed.birth(5))
    feed.apply(feed.status(5, "offline"))
    assert len(open_alerts(database)) == 1


def test_a_silent_device_marked_offline_by_the_job_raises_an_alert(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.status(4, "online"), feed.birth(4))
    clock.advance(timedelta(minutes=5))
    with database.write() as session:
        registry.mark_silent_devices_offline(session, clock.now())
    assert [kind for kind, *_ in open_alerts(database)] == ["device.offline"]


def test_a_forced_open_door_raises_an_urgent_alert_for_that_compartment(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.status(4, "online"), feed.birth(4))
    feed.apply(feed.event(4, 1, "forced_open", compartment=2))
    assert open_alerts(database) == [
        ("locker.forced_open", AlertSeverity.URGENT, f"device:{LOCKER}", f"forced_open:{LOCKER}:2")
    ]


def test_a_repeated_fault_report_is_one_alert(feed: Feed, database: Database) -> None:
    feed.apply(feed.status(4, "online"), feed.birth(4))
    feed.apply(feed.event(4, 1, "door_left_open", compartment=1, open_seconds=60))
    feed.apply(feed.event(4, 2, "door_left_open", compartment=1, open_seconds=120))
    assert [key for *_, key in open_alerts(database)] == [f"door_left_open:{LOCKER}:1"]


def test_a_jam_raises_a_warning(feed: Feed, database: Database) -> None:
    feed.apply(feed.status(4, "online"), feed.birth(4))
    feed.apply(feed.event(4, 1, "jammed", compartment=1, command_id=None))
    assert [(kind, severity) for kind, severity, *_ in open_alerts(database)] == [
        ("locker.jammed", AlertSeverity.WARNING)
    ]


def test_refused_messages_raise_one_alert_per_reason_at_the_topic_site(
    feed: Feed, database: Database
) -> None:
    feed.apply(
        feed.raw(f"linli/v1/{SITE}/{LOCKER}/event", b"not json"),
        feed.raw(f"linli/v1/{SITE}/{LOCKER}/event", b"{still not"),
        feed.raw(f"linli/v1/{SITE}/ghost-1/event", b"nope"),
    )
    found = open_alerts(database)
    assert [(kind, key) for kind, _, _, key in found] == [
        ("device.dead_letter", "device.dead_letter:not_json")
    ]
    with database.read() as session:
        alert = session.scalars(select(StaffAlert)).one()
        assert alert.site_id == site_id(database)


def test_a_refused_message_of_no_known_site_raises_no_alert(feed: Feed, database: Database) -> None:
    feed.apply(feed.raw("linli/v1/nowhere/ghost-1/event", b"nope"))
    assert open_alerts(database) == []


def alert_params(database: Database) -> list[tuple[str, dict[str, object]]]:
    with database.read() as session:
        return [
            (a.kind, a.params) for a in session.scalars(select(StaffAlert).order_by(StaffAlert.id))
        ]


def test_device_alerts_keep_the_words_the_console_translates(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.status(4, "online"), feed.birth(4))
    feed.apply(feed.event(4, 1, "forced_open", compartment=2))
    feed.apply(feed.status(5, "offline"))
    (fault_kind, fault), (offline_kind, offline) = alert_params(database)
    assert (fault_kind, fault["compartment"]) == ("locker.forced_open", 2)
    assert fault["device"]
    assert offline_kind == "device.offline" and offline["device_id"] == LOCKER
