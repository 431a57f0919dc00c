"""The one command sender of a worker of many centres (devices.commands.group) writes their
links' beats together: one transaction a centre, every 5 s, put a district's 200 beats in
front of the next command in the thread that sends them."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from booking.core.clock import SystemClock
from booking.core.db import Database
from devices.commands.dispatcher import CommandDispatcher
from devices.commands.group import DispatcherGroup
from devices.fleet import link_status
from devices.models.links import DeviceLink, LinkState

CENTRES = [f"c{n}" for n in range(5)]


def links(database: Database) -> dict[str, LinkState]:
    with database.read() as session:
        return {link.site: link.state for link in session.scalars(select(DeviceLink))}


def test_the_beats_of_every_centre_are_written_together_round_after_round(
    any_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(link_status, "BEAT_EVERY", timedelta(seconds=0.2))
    group = DispatcherGroup(any_database, fallback_poll=0.1)
    connected = threading.Event()
    connected.set()
    lanes = [
        CommandDispatcher(
            any_database,
            site,
            SystemClock(),
            client_id=f"server-{site}",
            send=lambda topic, payload: None,
            connected=connected,
            count=lambda name, n: None,
            group=group,
        )
        for site in CENTRES
    ]
    written: list[int] = []  # for each statement that wrote beats, how many it wrote

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
             many: bool) -> None:  # fmt: skip
        if statement.startswith("UPDATE device_links"):
            written.append(len(parameters) if many else 1)

    for lane in lanes:
        lane.start()
    try:
        deadline = time.monotonic() + 10
        while len(links(any_database)) < len(CENTRES) and time.monotonic() < deadline:
            time.sleep(0.05)
        event.listen(any_database.engine, "before_cursor_execute", note)
        time.sleep(1.5)
        event.remove(any_database.engine, "before_cursor_execute", note)
        seen = links(any_database)
    finally:
        for lane in lanes:
            lane.stop()
        group.stop()
    assert seen == dict.fromkeys(CENTRES, LinkState.CONNECTED)
    # Several rounds of every centre's beat, nearly all of them in joint statements (one a
    # beat would make the two counts equal).
    assert sum(written) >= 2 * len(CENTRES)
    assert sum(written) >= 3 * len(written)
