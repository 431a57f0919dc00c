"""The web's view of the device link: read from what the worker's bridge records, never from
a broker connection of the web's own (the web publishes nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from devices.fleet import link_status
from devices.models.links import LinkState
from kiosk import device_link
from kiosk.extensions import database


@pytest.fixture
def site_id(app: Flask) -> int:
    with app.app_context(), database().write() as session:
        site = Site(slug="linktest", name_zh="测试站", name_en="Test centre")
        session.add(site)
        session.flush()
        return site.id


def beat(app: Flask, clock: FrozenClock, state: LinkState) -> None:
    with app.app_context(), database().write() as session:
        link_status.record_link(session, site="linktest", client_id="linli-server-linktest",
                                state=state, now=clock.now())  # fmt: skip


def test_without_a_worker_the_link_is_down_and_says_why(app: Flask, site_id: int) -> None:
    with app.app_context():
        assert device_link.status_of(site_id).reason is link_status.LinkDown.NOT_RUNNING
        with pytest.raises(device_link.DevicesUnavailable) as raised:
            device_link.ensure_live(site_id)
    assert raised.value.code == "devices_unavailable"
    assert raised.value.details["reason"] == "not_running"


def test_a_bridge_beating_connected_makes_the_link_live(
    app: Flask, clock: FrozenClock, site_id: int
) -> None:
    beat(app, clock, LinkState.CONNECTED)
    with app.app_context():
        assert device_link.ensure_live(site_id).live


def test_a_worker_killed_without_a_word_is_noticed_by_its_silence(
    app: Flask, clock: FrozenClock, site_id: int
) -> None:
    beat(app, clock, LinkState.CONNECTED)
    clock.advance(link_status.STALE_AFTER + timedelta(seconds=1))
    with app.app_context():
        assert device_link.status_of(site_id).reason is link_status.LinkDown.NOT_BEATING


def test_a_bridge_without_its_broker_is_not_a_live_link(
    app: Flask, clock: FrozenClock, site_id: int
) -> None:
    beat(app, clock, LinkState.DISCONNECTED)
    with app.app_context():
        status = device_link.status_of(site_id)
    assert (status.live, status.reason) == (False, link_status.LinkDown.BROKER_DISCONNECTED)
