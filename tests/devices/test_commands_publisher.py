"""The command publisher against a broker of the test's own, which the test stops and restarts."""

from __future__ import annotations

import os
import socket
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking.clock import SystemClock
from booking.db import Database
from booking.models import Site
from devices import commands
from devices.command_publisher import BrokerUrl, CommandPublisher
from devices.commands import OutcomeResult
from devices.models import CommandState, Device, DeviceKind


@pytest.fixture
def publisher(own_mosquitto: Any) -> Iterator[CommandPublisher]:
    with CommandPublisher(own_mosquitto.url) as publisher:
        assert publisher.connected
        yield publisher


def add_online_locker(database: Database) -> None:
    with database.write() as session:
        site = Site(slug="pubtest", name_zh="测试站", name_en="Test centre")
        session.add(site)
        session.flush()
        session.add(
            Device(
                site_id=site.id,
                device_id="pub-locker",
                kind=DeviceKind.LOCKER,
                name="pub-locker",
                mqtt_password_hash="$7$unused",
                capabilities={"compartments": 8},
                online=True,
                created_at=datetime.now(UTC),
            )
        )


def test_a_command_the_broker_never_acknowledged_times_out_as_not_delivered(
    own_mosquitto: Any, publisher: CommandPublisher, database: Database
) -> None:
    add_online_locker(database)
    own_mosquitto.stop()
    outcome = commands.send_and_wait(
        database,
        publisher,
        "pub-locker",
        "open",
        {"compartment": 1},
        ttl=timedelta(milliseconds=300),
        requested_by="staff:3",
        clock=SystemClock(),
    )
    assert (outcome.result, outcome.reason) == (OutcomeResult.TIMED_OUT, "not_delivered")
    assert outcome.state is CommandState.TIMED_OUT


def test_the_publisher_reconnects_by_itself_after_a_broker_restart(
    own_mosquitto: Any, publisher: CommandPublisher
) -> None:
    own_mosquitto.restart()
    # paho retries after 1 s at first; a publish made meanwhile waits in its queue.
    assert publisher.publish("linli/v1/pubtest/pub-locker/cmd", b"{}", timeout=10)
    deadline = time.monotonic() + 5
    while not publisher.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    assert publisher.connected


def test_the_publisher_turns_nagle_off_so_back_to_back_commands_are_not_held(
    publisher: CommandPublisher,
) -> None:
    sock = publisher._client.socket()  # the one way to see the option paho left us to set
    assert sock is not None
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_publisher_started_before_a_fork_refuses_to_publish_in_the_child(
    publisher: CommandPublisher,
) -> None:
    # gunicorn --preload forks after create_app: paho's network thread stays in the parent.
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a threaded process: that hazard is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        try:
            publisher.publish("linli/v1/pubtest/pub-locker/cmd", b"{}", timeout=0.1)
            os.write(write_end, b"published")
        except RuntimeError:
            os.write(write_end, b"refused")
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    assert os.read(read_end, 20) == b"refused"
    os.close(read_end)


def test_the_publisher_refuses_a_payload_over_the_protocol_limit(
    publisher: CommandPublisher,
) -> None:
    with pytest.raises(ValueError, match="exceeds"):
        publisher.publish("linli/v1/pubtest/pub-locker/cmd", b"x" * (8 * 1024 + 1), timeout=1)


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
