"""The committer threads a worker's bridges share (devices/ingest/committers.py): at most
``threads`` batches commit at once, each bridge gets its own batch's outcome, and a batch
whose bridge stops before a committer took it is never committed."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from booking.core.clock import SystemClock
from devices.ingest import committers as module
from devices.ingest.committers import Committers
from devices.ingest.reactions import Handlers


def test_at_most_threads_batches_commit_at_once_and_each_gets_its_own_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, most, lock = 0, 0, threading.Lock()

    def commit(database: Any, items: list[Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return ("committed", items[0])

    monkeypatch.setattr(module, "commit_batch", commit)
    shared = Committers(object(), threads=2)  # type: ignore[arg-type]
    outcomes: dict[int, Any] = {}

    def bridge(n: int) -> None:
        items: Any = [n]
        outcomes[n] = shared.commit(items, SystemClock(), Handlers(), retry_delay=0.1,
                                    stop=threading.Event())  # fmt: skip

    threads = [threading.Thread(target=bridge, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    shared.stop()
    assert outcomes == {n: ("committed", n) for n in range(8)}
    assert most == 2


def test_a_batch_whose_bridge_stops_before_a_committer_takes_it_is_not_committed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release, committed = threading.Event(), []

    def commit(database: Any, items: list[Any], *args: Any, **kwargs: Any) -> Any:
        release.wait(5)
        committed.append(items[0])
        return "committed"

    monkeypatch.setattr(module, "commit_batch", commit)
    shared = Committers(object(), threads=1)  # type: ignore[arg-type]
    busy = threading.Thread(target=shared.commit, args=(["first"], SystemClock(), Handlers()),
                            kwargs={"retry_delay": 0.1, "stop": threading.Event()})  # fmt: skip
    busy.start()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    outcome = shared.commit(["second"], SystemClock(), Handlers(), retry_delay=0.1, stop=stop)  # type: ignore[list-item]
    assert outcome is None and time.monotonic() - started < 2
    release.set()
    busy.join(5)
    shared.stop()
    assert committed == ["first"]
