"""Staff alerts: one open alert per cause, acknowledged and resolved with notes, audited."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.alerts import history as alert_history
from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core import audit
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import Conflict, InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.people import staff
from booking.people.models.staff import StaffAccount, StaffRole


@pytest.fixture
def worker(database: Database, clock: FrozenClock) -> StaffAccount:
    with database.write() as session:
        site = Site(slug="demo", name_zh="演示中心", name_en="Demo centre")
        other = Site(slug="other", name_zh="别的中心", name_en="Other centre")
        session.add_all([site, other])
        session.flush()
        account = staff.create_staff(
            session,
            site_id=site.id,
            username="zhao",
            display_name="赵敏",
            password="correct horse battery",
            role=StaffRole.STAFF,
            now=clock.now(),
        )
        session.expunge(account)
        return account


def door_alert(database: Database, clock: FrozenClock, site_id: int) -> int:
    with database.write() as session:
        return alerts.raise_alert(
            session,
            site_id=site_id,
            kind="locker.door_left_open",
            severity=AlertSeverity.WARNING,
            summary="locker-a compartment 3 left open",
            subject="device:locker-a",
            dedupe_key="door_left_open:locker-a:3",
            now=clock.now(),
        ).id


def test_the_same_cause_raised_twice_is_one_open_alert(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    assert door_alert(database, clock, worker.site_id) == door_alert(
        database, clock, worker.site_id
    )


def test_the_same_cause_after_resolution_opens_a_new_alert(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    first = door_alert(database, clock, worker.site_id)
    with database.write() as session:
        alerts.resolve(session, session.merge(worker), first, now=clock.now(), note="closed it")
    assert door_alert(database, clock, worker.site_id) != first


def test_resolving_needs_a_note_and_changes_nothing_without_one(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    alert_id = door_alert(database, clock, worker.site_id)
    with pytest.raises(InvalidInput), database.write() as session:
        alerts.resolve(session, session.merge(worker), alert_id, now=clock.now(), note="  ")
    with database.read() as session:
        assert alerts.open_alerts(session, site_id=worker.site_id)[0].status is AlertStatus.OPEN


def test_acknowledging_then_resolving_records_who_when_and_the_notes(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    alert_id = door_alert(database, clock, worker.site_id)
    with database.write() as session:
        alerts.acknowledge(
            session, session.merge(worker), alert_id, now=clock.now(), note="on my way"
        )
    clock.advance(timedelta(minutes=5))
    with database.write() as session:
        alert = alerts.resolve(
            session, session.merge(worker), alert_id, now=clock.now(), note="door shut"
        )
        assert alert.status is AlertStatus.RESOLVED
        assert alert.resolved_at == clock.now()
        assert alert.acknowledged_at == clock.now() - timedelta(minutes=5)
        assert "on my way" in alert.note and "door shut" in alert.note
        actions = [e.action for e in audit.entries(session, site_id=worker.site_id)]
    assert actions == ["alert.resolved", "alert.acknowledged"]


def test_a_resolved_alert_cannot_be_resolved_again(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    alert_id = door_alert(database, clock, worker.site_id)
    with database.write() as session:
        alerts.resolve(session, session.merge(worker), alert_id, now=clock.now(), note="done")
    with pytest.raises(Conflict), database.write() as session:
        alerts.resolve(session, session.merge(worker), alert_id, now=clock.now(), note="again")


def test_staff_cannot_touch_another_sites_alert(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    with database.read() as session:
        from sqlalchemy import select

        other_site = session.scalar(select(Site.id).where(Site.slug == "other"))
    assert other_site is not None
    alert_id = door_alert(database, clock, other_site)
    with pytest.raises(NotFound), database.write() as session:
        alerts.acknowledge(session, session.merge(worker), alert_id, now=clock.now())


def test_open_alerts_list_urgent_ones_first(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    door_alert(database, clock, worker.site_id)
    with database.write() as session:
        alerts.raise_alert(
            session,
            site_id=worker.site_id,
            kind="bp.urgent",
            severity=AlertSeverity.URGENT,
            summary="urgent blood-pressure reading",
            now=clock.now(),
        )
    with database.read() as session:
        kinds = [a.kind for a in alerts.open_alerts(session, site_id=worker.site_id)]
    assert kinds == ["bp.urgent", "locker.door_left_open"]


def test_the_audit_log_filters_by_person_and_action_prefix(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    with database.write() as session:
        account = session.merge(worker)
        audit.record_staff(
            session, account, action="health.viewed", subject="resident:1", now=clock.now()
        )
        audit.record_staff(
            session, account, action="booking.approved", subject="booking:2", now=clock.now()
        )
        audit.record(
            session,
            action="health.viewed",
            actor="staff:other",
            site_id=worker.site_id,
            now=clock.now(),
        )
    with database.read() as session:
        mine = audit.entries(session, site_id=worker.site_id, actor="staff:zhao", action="health.")
        assert [(e.action, e.subject) for e in mine] == [("health.viewed", "resident:1")]


def test_acknowledging_and_resolving_move_the_changed_marker(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    alert_id = door_alert(database, clock, worker.site_id)
    raised_at = clock.now()
    with database.write() as session:
        clock.advance(timedelta(minutes=3))
        assert alerts.acknowledge(session, worker, alert_id, now=clock.now()).changed_at == (
            raised_at + timedelta(minutes=3)
        )
        clock.advance(timedelta(minutes=4))
        resolved = alerts.resolve(session, worker, alert_id, now=clock.now(), note="shut")
        assert resolved.changed_at == raised_at + timedelta(minutes=7)


def test_changed_since_lists_alerts_acted_on_but_not_new_ones(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    taken = door_alert(database, clock, worker.site_id)
    with database.write() as session:
        untouched = alerts.raise_alert(
            session,
            site_id=worker.site_id,
            kind="device.offline",
            severity=AlertSeverity.WARNING,
            summary="locker-b went offline",
            now=clock.now(),
        ).id
        clock.advance(timedelta(minutes=1))
        alerts.acknowledge(session, worker, taken, now=clock.now())
    with database.read() as session:
        found = alert_history.changed_since(session, site_id=worker.site_id, since=clock.now())
        assert [a.id for a in found] == [taken]
        assert untouched not in [a.id for a in found]
        later = alert_history.changed_since(
            session, site_id=worker.site_id, since=clock.now() + timedelta(seconds=1)
        )
        assert later == []


def test_an_alert_keeps_the_params_that_word_its_summary(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    with database.write() as session:
        alert = alerts.raise_alert(
            session,
            site_id=worker.site_id,
            kind="locker.jammed",
            severity=AlertSeverity.WARNING,
            summary="储物柜 A: compartment 2 jammed",
            params={"device": "储物柜 A", "compartment": 2},
            now=clock.now(),
        )
        alert_id = alert.id
    with database.read() as session:
        stored = session.get_one(StaffAlert, alert_id)
        assert stored.params == {"device": "储物柜 A", "compartment": 2}
        assert stored.changed_at == stored.created_at


def test_two_workers_raising_one_cause_at_once_make_one_alert(
    postgres_database: Database, clock: FrozenClock
) -> None:
    """The second transaction's insert waits for the first's, and then finds its alert."""
    with postgres_database.write() as session:
        site = Site(slug="demo", name_zh="演示中心", name_en="Demo centre")
        session.add(site)
        session.flush()
        site_id = site.id
    second: list[int] = []
    second_done = threading.Event()

    def second_worker() -> None:
        second.append(door_alert(postgres_database, clock, site_id))
        second_done.set()

    with postgres_database.write() as session:
        first = alerts.raise_alert(
            session, site_id=site_id, kind="locker.door_left_open",
            severity=AlertSeverity.WARNING, summary="locker-a compartment 3 left open",
            subject="device:locker-a", dedupe_key="door_left_open:locker-a:3", now=clock.now(),
        ).id  # fmt: skip
        thread = threading.Thread(target=second_worker)
        thread.start()
        assert not second_done.wait(timeout=1.0)  # waiting for the first to commit
    thread.join(timeout=10)
    assert second == [first]
    with postgres_database.read() as session:
        assert session.scalars(select(StaffAlert.id)).all() == [first]
