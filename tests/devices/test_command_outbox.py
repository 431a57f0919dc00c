"""The command outbox's wake-ups on both databases, a broker the bridge cannot reach, and the
broker URLs every server client parses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from device_rows import T0, add_device

from booking.core.clock import FrozenClock, SystemClock
from booking.core.db import Database
from booking.core.models.sites import Site
from devices.bridge import Bridge
from devices.commands import operations as commands
from devices.commands import outbox as command_outbox
from devices.commands import waiting
from devices.commands.dispatcher import CommandDispatcher
from devices.commands.waiting import OutcomeResult
from devices.fleet import link_status
from devices.models.commands import CommandState
from devices.models.device import Device, DeviceKind
from devices.models.links import LinkState
from devices.mqtt_client import BrokerUrl

WAIT_S = 5.0


@pytest.fixture
def woken(any_database: Database) -> Iterator[threading.Event]:
    """Set when the "demo" site's dispatcher publishes: it polls only once a minute here, so
    nothing but a wake-up can make it publish within the test's wait."""
    add_device(any_database)
    event = threading.Event()

    def send(topic: str, payload: bytes) -> threading.Event:
        event.set()
        return threading.Event()

    connected = threading.Event()
    connected.set()
    dispatcher = CommandDispatcher(
        any_database, "demo", FrozenClock(T0), client_id="linli-server-demo", send=send,
        connected=connected, count=lambda name, n: None, fallback_poll=60.0,
    )  # fmt: skip
    dispatcher.start()
    time.sleep(0.3)  # its first look (and, on PostgreSQL, its LISTEN) is done
    yield event
    dispatcher.stop()


def issue(database: Database, *, then_fail: bool = False) -> None:
    with database.write() as session:
        commands.issue(session, "locker-1", "open", {"compartment": 1}, T0,
                       requested_by="staff:3")  # fmt: skip
        if then_fail:
            raise RuntimeError("the rest of the transaction failed")


def test_a_queued_command_wakes_the_bridge_once_committed(
    any_database: Database, woken: threading.Event
) -> None:
    issue(any_database)
    assert woken.wait(WAIT_S)


def test_a_command_rolled_back_wakes_nobody(any_database: Database, woken: threading.Event) -> None:
    with pytest.raises(RuntimeError):
        issue(any_database, then_fail=True)
    assert not woken.wait(0.5)


def test_a_command_of_another_site_wakes_nobody(
    any_database: Database, woken: threading.Event
) -> None:
    with any_database.write() as session:
        site = Site(slug="elsewhere", name_zh="别处", name_en="Elsewhere")
        session.add(site)
        session.flush()
        session.add(Device(site_id=site.id, device_id="far-locker", kind=DeviceKind.LOCKER,
                           name="", mqtt_password_hash="$7$unused", online=True,
                           capabilities={"compartments": 8}, created_at=T0))  # fmt: skip
    with any_database.write() as session:
        commands.issue(session, "far-locker", "open", {"compartment": 1}, T0,
                       requested_by="staff:3")  # fmt: skip
    assert not woken.wait(0.5)


def test_with_the_broker_away_the_bridge_takes_nothing_and_the_command_is_not_delivered(
    own_mosquitto: Any, database: Database
) -> None:
    add_device(database)
    bridge = Bridge(database, own_mosquitto.url, "demo").start()
    try:
        own_mosquitto.stop()
        wait_until(lambda: not bridge.connected.is_set(), "the bridge to notice")
        outcome = waiting.send_and_wait(
            database, "locker-1", "open", {"compartment": 1}, ttl=timedelta(milliseconds=300),
            requested_by="staff:3", clock=SystemClock(),
        )  # fmt: skip
        assert (outcome.result, outcome.reason) == (OutcomeResult.TIMED_OUT, "not_delivered")
        assert outcome.state is CommandState.TIMED_OUT
        # And the web can tell, before offering anything.
        wait_until(lambda: link(database).reason is link_status.LinkDown.BROKER_DISCONNECTED,
                   "the link recorded as disconnected")  # fmt: skip
    finally:
        bridge.stop(timeout=1.0)
    assert link(database).reason is link_status.LinkDown.NOT_RUNNING


def link(database: Database) -> link_status.LinkStatus:
    with database.read() as session:
        return link_status.link_status(session, site="demo", now=datetime.now(UTC))


def wait_until(condition: Any, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_the_link_is_live_only_while_the_bridge_beats_connected(database: Database) -> None:
    def status_at(seconds: float) -> link_status.LinkStatus:
        with database.read() as session:
            return link_status.link_status(session, site="demo",
                                           now=T0 + timedelta(seconds=seconds))  # fmt: skip

    def record(state: LinkState, seconds: float) -> None:
        with database.write() as session:
            link_status.record_link(session, site="demo", client_id="linli-server-demo",
                                    state=state, now=T0 + timedelta(seconds=seconds))  # fmt: skip

    assert status_at(0).reason is link_status.LinkDown.NOT_RUNNING  # never ran
    record(LinkState.CONNECTED, 0)
    assert status_at(15).live
    assert status_at(15.001).reason is link_status.LinkDown.NOT_BEATING  # killed, or hangs
    record(LinkState.DISCONNECTED, 20)
    assert status_at(21).reason is link_status.LinkDown.BROKER_DISCONNECTED
    record(LinkState.STOPPED, 22)
    assert status_at(22).reason is link_status.LinkDown.NOT_RUNNING


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1884", ("127.0.0.1", 1884, False, None, None)),
        ("mqtt://broker", ("broker", 1883, False, None, None)),
        ("mqtts://broker", ("broker", 8883, True, None, None)),
        (
            "mqtt://linli-server:p%2Fw@127.0.0.1:1884",
            ("127.0.0.1", 1884, False, "linli-server", "p/w"),
        ),
    ],
)
def test_broker_urls_give_host_port_tls_and_credentials(
    url: str, expected: tuple[object, ...]
) -> None:
    broker = BrokerUrl(url)
    assert (broker.host, broker.port, broker.tls, broker.username, broker.password) == expected


@pytest.mark.parametrize("url", ["http://broker", "broker:1883", "mqtt://"])
def test_a_url_that_is_not_a_broker_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="broker URL"):
        BrokerUrl(url)


@pytest.mark.postgres
def test_the_bridges_of_a_district_s_centres_share_one_listen_connection_and_wake_alone(
    postgres_database: Database,
) -> None:
    from sqlalchemy import text

    add_device(postgres_database)
    with postgres_database.write() as session:
        site = Site(slug="elsewhere", name_zh="别处", name_en="Elsewhere")
        session.add(site)
        session.flush()
        session.add(Device(site_id=site.id, device_id="far-locker", kind=DeviceKind.LOCKER,
                           name="", mqtt_password_hash="$7$unused", online=True,
                           capabilities={"compartments": 8}, created_at=T0))  # fmt: skip
    connected = threading.Event()
    connected.set()
    sent: dict[str, threading.Event] = {"demo": threading.Event(), "elsewhere": threading.Event()}

    def dispatcher(site: str) -> CommandDispatcher:
        def send(topic: str, payload: bytes) -> threading.Event:
            sent[site].set()
            return threading.Event()

        return CommandDispatcher(
            postgres_database, site, FrozenClock(T0), client_id=f"linli-server-{site}",
            send=send, connected=connected, count=lambda name, n: None, fallback_poll=60.0,
        )  # fmt: skip

    dispatchers = [dispatcher("demo"), dispatcher("elsewhere")]
    for each in dispatchers:
        each.start()
    try:
        time.sleep(0.5)  # both have looked once, and the LISTEN is made
        with postgres_database.engine.connect() as connection:
            listening = connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": command_outbox.listen_name()},
            )
        assert listening == 1
        with postgres_database.write() as session:
            commands.issue(session, "far-locker", "open", {"compartment": 1}, T0,
                           requested_by="staff:3")  # fmt: skip
        assert sent["elsewhere"].wait(WAIT_S)
        assert not sent["demo"].wait(0.3)
    finally:
        for each in dispatchers:
            each.stop()
