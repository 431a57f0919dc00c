"""The committer threads a worker's bridges share (devices/ingest/committers.py): at most
``threads`` transactions at once, the batches waiting when a committer is free committed
together but a device's reply first, each bridge getting its own batch's outcome, and a batch
whose bridge stops before a committer took it never committed."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from test_bridge import TestDevice, add_locker, event_seqs, wait_for

from booking.core.clock import SystemClock
from booking.core.db import Database
from devices.bridge import Bridge
from devices.ingest import committers as module
from devices.ingest.apply import Inbound
from devices.ingest.committers import Committers
from devices.ingest.reactions import Handlers

CLOCK = SystemClock()


def commit_from(
    shared: Committers,
    topics: list[str],
    stop: threading.Event | None = None,
    hurry: Callable[[], bool] | None = None,
) -> Any:
    items = [Inbound(topic, b"{}", CLOCK.now()) for topic in topics]
    return shared.commit(items, Handlers(), retry_delay=0.1,
                         stop=stop or threading.Event(), hurry=hurry)  # fmt: skip


def topics(batches: list[Any]) -> list[str]:
    """The first topic of each batch a committer was given."""
    return [items[0].topic for items, _handlers in batches]


def test_at_most_threads_transactions_at_once_and_each_bridge_gets_its_own_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, most, started, lock = 0, 0, 0, threading.Lock()
    # The first two transactions wait for each other: both committers busy at once, however
    # slowly the machine lets the threads start.
    both_busy = threading.Barrier(2, timeout=5)

    def commit(database: Any, batches: list[Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal running, most, started
        with lock:
            running += 1
            most = max(most, running)
            started += 1
            first_two = started <= 2
        if first_two:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_busy.wait()
        time.sleep(0.01)
        with lock:
            running -= 1
        return [("committed", topic) for topic in topics(batches)]

    monkeypatch.setattr(module, "commit_batches", commit)
    # One batch a transaction: else the first committer free could take all eight at once.
    shared = Committers(object(), threads=2, max_items=1, reply_threads=0)  # type: ignore[arg-type]
    outcomes: dict[int, Any] = {}

    def bridge(n: int) -> None:
        outcomes[n] = commit_from(shared, [f"linli/v1/site-{n}/event"])

    threads = [threading.Thread(target=bridge, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    shared.stop()
    assert outcomes == {n: ("committed", f"linli/v1/site-{n}/event") for n in range(8)}
    assert most == 2


def test_batches_waiting_for_a_committer_are_committed_together_up_to_max_items(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release, calls, clocks = threading.Event(), [], []

    def commit(database: Any, batches: list[Any], clock: Any, **kwargs: Any) -> Any:
        calls.append(topics(batches))
        clocks.append(clock)
        release.wait(5)
        return [("committed", topic) for topic in topics(batches)]

    monkeypatch.setattr(module, "commit_batches", commit)
    clock = SystemClock()
    shared = Committers(object(), clock, threads=1, max_items=3, reply_threads=0)  # type: ignore[arg-type]
    outcomes: dict[str, Any] = {}

    def bridge(site: str, size: int) -> None:
        topic = f"linli/v1/{site}/d/event"
        outcomes[site] = commit_from(shared, [topic] * size)

    first = threading.Thread(target=bridge, args=("a", 1))
    first.start()
    while not calls:  # the one committer is busy with "a"
        time.sleep(0.01)
    waiting = [threading.Thread(target=bridge, args=(site, size))
               for site, size in (("d", 1), ("c", 1), ("b", 1), ("e", 2))]  # fmt: skip
    for thread in waiting:
        thread.start()
        time.sleep(0.05)  # in this order
    release.set()
    for thread in [first, *waiting]:
        thread.join(5)
    shared.stop()
    # d, c and b waited together: one transaction, in the order of their centres; e's two
    # messages would have made four, so e waited for the next.
    assert [[topic.split("/")[2] for topic in call] for call in calls] == [
        ["a"], ["b", "c", "d"], ["e"],
    ]  # fmt: skip
    assert outcomes == {site: ("committed", f"linli/v1/{site}/d/event") for site in "abcde"}
    # Every transaction's moment is read from the committers' one clock: the bridges bring
    # none (a clock each kept every batch of `linli worker` in a transaction of its own).
    assert clocks == [clock] * 3


def test_a_batch_holding_a_reply_is_committed_before_the_others_and_without_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release, calls = threading.Event(), []

    def commit(database: Any, batches: list[Any], *args: Any, **kwargs: Any) -> Any:
        calls.append([topic for items, _handlers in batches for topic in (i.topic for i in items)])
        release.wait(5)
        return ["committed" for _batch in batches]

    monkeypatch.setattr(module, "commit_batches", commit)
    # No reply committer: the order among the others is what this shows.
    shared = Committers(object(), threads=1, reply_threads=0)  # type: ignore[arg-type]
    busy = threading.Thread(target=commit_from, args=(shared, ["linli/v1/a/d1/heartbeat"]))
    busy.start()
    while not calls:  # the one committer is busy with "a"
        time.sleep(0.01)
    batches = (
        ["linli/v1/b/d2/heartbeat", "linli/v1/b/d3/heartbeat"],
        ["linli/v1/c/d4/heartbeat", "linli/v1/c/d5/reply"],
        ["linli/v1/d/d6/event"],
        ["linli/v1/e/d7/reply"],
    )
    waiting = [threading.Thread(target=commit_from, args=(shared, batch)) for batch in batches]
    for thread in waiting:
        thread.start()
        time.sleep(0.05)  # in this order
    release.set()
    for thread in [busy, *waiting]:
        thread.join(5)
    shared.stop()
    assert calls == [
        ["linli/v1/a/d1/heartbeat"],
        ["linli/v1/c/d4/heartbeat", "linli/v1/c/d5/reply", "linli/v1/e/d7/reply"],
        ["linli/v1/b/d2/heartbeat", "linli/v1/b/d3/heartbeat", "linli/v1/d/d6/event"],
    ]


def events_hold_every_committer(
    monkeypatch: pytest.MonkeyPatch, release: threading.Event, threads: int
) -> tuple[Committers, list[threading.Thread], list[list[str]]]:
    """Committers each busy with a transaction that lasts until ``release`` (a batch of a
    locker ``busy``); the rest are quick."""
    calls: list[list[str]] = []

    def commit(database: Any, batches: list[Any], *args: Any, **kwargs: Any) -> Any:
        batch_topics = [item.topic for items, _handlers in batches for item in items]
        calls.append(batch_topics)
        if any("/busy/" in topic for topic in batch_topics):
            release.wait(5)
        return ["committed" for _batch in batches]

    monkeypatch.setattr(module, "commit_batches", commit)
    shared = Committers(object(), threads=threads)  # type: ignore[arg-type]
    busy = [
        threading.Thread(target=commit_from, args=(shared, [f"linli/v1/{site}/busy/event"]))
        for site in "ab"[:threads]
    ]
    for thread in busy:
        thread.start()
        while len(calls) < busy.index(thread) + 1:  # each committer busy, one after the other
            time.sleep(0.01)
    return shared, busy, calls


def let_the_busy_finish(
    shared: Committers, busy: list[threading.Thread], release: threading.Event
) -> None:
    release.set()
    for thread in busy:
        thread.join(5)
    shared.stop()


def test_a_reply_is_committed_at_once_while_every_other_committer_is_in_a_long_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In the 200-centre district bench the four committers were in joint transactions of up
    # to 500 messages when a reply came, and it waited seconds for one of them.
    release = threading.Event()
    shared, busy, calls = events_hold_every_committer(monkeypatch, release, threads=2)
    started = time.monotonic()
    outcome = commit_from(shared, ["linli/v1/c/d/reply"])
    assert outcome == "committed" and time.monotonic() - started < 2
    let_the_busy_finish(shared, busy, release)
    assert calls[2] == ["linli/v1/c/d/reply"]


def test_a_batch_behind_which_a_reply_waits_at_its_bridge_is_committed_at_once_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its bridge sends the reply's batch only once this one is committed.
    release = threading.Event()
    shared, busy, calls = events_hold_every_committer(monkeypatch, release, threads=1)
    reply_behind = threading.Event()
    outcome: list[Any] = []
    bridge = threading.Thread(target=lambda: outcome.append(
        commit_from(shared, ["linli/v1/c/d/event"], hurry=reply_behind.is_set)
    ))  # fmt: skip
    bridge.start()
    time.sleep(0.2)
    assert not outcome, "an event's batch waits its turn while nothing waits behind it"
    started = time.monotonic()
    reply_behind.set()  # as the bridge's inbox says once the reply is in it
    shared.nudge()
    bridge.join(5)
    assert outcome == ["committed"] and time.monotonic() - started < 2
    let_the_busy_finish(shared, busy, release)
    assert calls[1] == ["linli/v1/c/d/event"]


def test_a_batch_handed_over_after_the_reply_behind_it_arrived_is_committed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The reply came (and nudged) while its bridge was handing this batch over: no nudge
    # follows, so the batch's arrival must wake the reply committer itself.
    release = threading.Event()
    shared, busy, _calls = events_hold_every_committer(monkeypatch, release, threads=1)
    started = time.monotonic()
    outcome = commit_from(shared, ["linli/v1/c/d/event"], hurry=lambda: True)
    assert outcome == "committed" and time.monotonic() - started < 2
    let_the_busy_finish(shared, busy, release)


def test_a_batch_whose_bridge_stops_before_a_committer_takes_it_is_not_committed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release, taken, committed = threading.Event(), threading.Event(), []

    def commit(database: Any, batches: list[Any], *args: Any, **kwargs: Any) -> Any:
        taken.set()
        release.wait(5)
        committed.extend(topics(batches))
        return ["committed" for _batch in batches]

    monkeypatch.setattr(module, "commit_batches", commit)
    shared = Committers(object(), threads=1)  # type: ignore[arg-type]
    busy = threading.Thread(target=commit_from, args=(shared, ["linli/v1/a/first"]))
    busy.start()
    # Only once the one committer is busy with "a" does "b" wait: on a loaded machine the busy
    # thread could otherwise reach the queue after "b", and "b" would be taken (with "a").
    assert taken.wait(5)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    outcome = commit_from(shared, ["linli/v1/b/second"], stop)
    assert outcome is None and time.monotonic() - started < 2
    release.set()
    busy.join(5)
    shared.stop()
    assert committed == ["linli/v1/a/first"]


def test_a_bridge_of_shared_committers_reads_their_clock_and_refuses_another(
    database: Database,
) -> None:
    """A joint transaction reads one ``now``: the committers' (kiosk.worker's bridges)."""
    shared = Committers(database, SystemClock())
    try:
        bridge = Bridge(database, "mqtt://127.0.0.1:1", "yongsheng", committers=shared)
        assert bridge.clock is shared.clock
        with pytest.raises(ValueError, match="reads their clock"):
            Bridge(database, "mqtt://127.0.0.1:1", "yongsheng", committers=shared,
                   clock=SystemClock())  # fmt: skip
    finally:
        shared.stop()


def test_a_reply_reaching_a_bridge_hurries_the_batch_it_waits_behind(
    mqtt_url: str, mqtt_site: str, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over a real broker: the bridge tells the committers a reply came (Committers.nudge), and
    # its batch in hand, waiting behind the one busy committer, is committed by the reply's.
    release, busy_taken = threading.Event(), threading.Event()
    real_commit = module.commit_batches

    def commit(database_: Any, batches: list[Any], *args: Any, **kwargs: Any) -> Any:
        if any("/busy/" in item.topic for items, _handlers in batches for item in items):
            busy_taken.set()
            release.wait(10)
            return ["committed" for _batch in batches]
        return real_commit(database_, batches, *args, **kwargs)

    monkeypatch.setattr(module, "commit_batches", commit)
    shared = Committers(database, SystemClock(), threads=1)
    busy = threading.Thread(target=commit_from, args=(shared, ["linli/v1/x/busy/event"]))
    busy.start()
    assert busy_taken.wait(5)
    device_id = f"{mqtt_site}-locker"
    add_locker(database, mqtt_site, device_id)
    bridge = Bridge(database, mqtt_url, mqtt_site, committers=shared).start()
    locker = TestDevice(mqtt_url, mqtt_site, device_id, session=1)
    try:
        seq = locker.event("door_closed", compartment=1)
        time.sleep(0.5)
        assert event_seqs(database, device_id) == [], "the event waits behind the busy committer"
        reply = {**locker.envelope(), "command_id": str(uuid.uuid4()), "status": "done"}
        locker.client.publish(locker.topic("reply"), json.dumps(reply).encode(), qos=1)
        wait_for(lambda: event_seqs(database, device_id) == [seq], "the event committed", 3)
    finally:
        release.set()
        busy.join(5)
        locker.stop()
        bridge.stop()
        shared.stop()
