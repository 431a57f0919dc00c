"""How `linli worker` runs one centre's bridge: a thread each, until its stop is set.

A runner takes the database, the broker's URL, the centre, its stop (a
:class:`~devices.sharing.BridgeStop`, which says whether the bridge may publish the server's
`offline` as it goes) and the bridge's role. Tests pass runners of their own to
:class:`kiosk.worker.Worker`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from booking.core.db import Database
from devices.commands.group import Shared
from devices.sharing import Role, drain_cut, drain_seconds, says_offline

# A bridge runs until ``stop`` is set, then says goodbye to the broker and returns.
BridgeRunner = Callable[[Database, str, str, threading.Event, Role], None]


def default_bridge(
    database: Database, url: str, site: str, stop: threading.Event, role: Role
) -> None:
    from devices.bridge import Bridge

    # Commits in a process of their own (devices/ingest/batch_process.py), which makes its own
    # handlers: the lending and health reactions of devices.ingest.handlers.
    handlers = "devices.ingest.handlers:default_handlers"
    bridge = Bridge(database, url, site, commit_process_handlers=handlers, role=role).start()
    try:
        stop.wait()
    finally:
        bridge.stop(say_offline=says_offline(stop))


def district_bridge(
    database: Database,
    url: str,
    site: str,
    stop: threading.Event,
    role: Role,
    *,
    shared: Shared | None = None,
) -> None:
    """A bridge of one of several centres. A commit process each, as one centre's bridge has,
    would make a worker of a district dozens of processes, and a commit thread and a command
    sender each made it 400 connections for 200 centres (docs/scaling.md): its batches go to
    the worker's few committers and its commands to the worker's one sender, and its network
    is run by the worker's one network thread (``shared``).
    """
    from devices.bridge import Bridge
    from devices.ingest.handlers import default_handlers

    shared = shared or Shared(database)
    # The bridge reads its committers' clock: a joint transaction has one ``now``.
    bridge = Bridge(database, url, site, handlers=default_handlers(), role=role,
                    committers=shared.committers, dispatchers=shared.dispatchers,
                    network=shared.network)  # fmt: skip
    bridge.start()
    try:
        stop.wait()
    finally:
        bridge.stop(say_offline=says_offline(stop), drain_s=drain_seconds(stop),
                    drain_cut=drain_cut(stop))  # fmt: skip
