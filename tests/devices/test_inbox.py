"""The inbox between paho's network thread and the bridge's worker: a waiting worker wakes
for a message, and for a stop, without polling for either."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from devices.inbox import Inbox, Received
from devices.ingest.apply import Inbound


def received(n: int) -> Received:
    inbound = Inbound(f"linli/v1/s1/d1/event/{n}", b"{}", datetime.now(UTC))
    return Received(inbound, mid=n, qos=1, generation=0)


def take_in_thread(inbox: Inbox, wait: float) -> tuple[threading.Thread, list[object]]:
    """A worker taking from ``inbox``; what it took and how long that took, once it ends."""
    result: list[object] = []

    def work() -> None:
        began = time.monotonic()
        result.append(inbox.take(10, 0.0, wait))
        result.append(time.monotonic() - began)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, result


def test_a_waiting_worker_takes_a_message_as_it_arrives() -> None:
    inbox = Inbox()
    thread, result = take_in_thread(inbox, wait=10.0)
    time.sleep(0.1)
    inbox.put(received(1))
    thread.join(5)
    assert [r.mid for r in result[0]] == [1]  # type: ignore[attr-defined]
    assert result[1] < 5  # type: ignore[operator]


def test_waking_ends_a_long_wait_at_once_with_nothing_taken() -> None:
    inbox = Inbox()
    thread, result = take_in_thread(inbox, wait=10.0)
    time.sleep(0.1)
    inbox.wake()
    thread.join(5)
    assert not thread.is_alive()
    assert result[0] == []
    assert result[1] < 5  # type: ignore[operator]


def test_a_wake_before_the_wait_is_not_lost() -> None:
    # The stop may come between the worker's look at it and the start of its wait.
    inbox = Inbox()
    inbox.wake()
    began = time.monotonic()
    assert inbox.take(10, 0.0, 10.0) == []
    assert time.monotonic() - began < 5


def test_after_a_wake_messages_are_still_taken_and_a_rearmed_inbox_waits_again() -> None:
    inbox = Inbox()
    inbox.wake()
    inbox.put(received(1))
    assert [r.mid for r in inbox.take(10, 0.0, 10.0)] == [1]
    inbox.rearm()
    began = time.monotonic()
    assert inbox.take(10, 0.0, 0.2) == []
    assert time.monotonic() - began >= 0.15


def message(device: str, kind: str, n: int) -> Received:
    inbound = Inbound(f"linli/v1/s1/{device}/{kind}", b"{}", datetime.now(UTC))
    return Received(inbound, mid=n, qos=1, generation=0)


def test_a_reply_behind_a_backlog_comes_next_with_its_devices_earlier_messages() -> None:
    # Someone waits for a reply; the other lockers' events can wait. The replying device's
    # messages keep their order: its events before the reply come with it, those after stay.
    inbox = Inbox()
    queued = [message("d1", "event", 1), message("d2", "event", 2), message("d3", "event", 3),
              message("d2", "event", 4), message("d3", "event", 5), message("d2", "reply", 6),
              message("d2", "event", 7), message("d4", "event", 8)]  # fmt: skip
    for m in queued:
        inbox.put(m)
    first = [m.mid for m in inbox.take(2, 0.0, 0.0)]
    assert first == [1, 2, 4, 6]
    assert [m.mid for m in inbox.take(10, 0.0, 0.0)] == [3, 5, 7, 8]


def test_a_reply_already_in_the_batch_pulls_nothing_more() -> None:
    inbox = Inbox()
    for m in [message("d1", "reply", 1), message("d2", "event", 2), message("d1", "event", 3)]:
        inbox.put(m)
    assert [m.mid for m in inbox.take(1, 0.0, 0.0)] == [1]
    assert [m.mid for m in inbox.take(1, 0.0, 0.0)] == [2]
    assert [m.mid for m in inbox.take(1, 0.0, 0.0)] == [3]
