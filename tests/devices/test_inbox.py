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


def test_the_inbox_is_drained_only_once_its_worker_took_everything_and_waits_again() -> None:
    inbox = Inbox()
    inbox.put(received(1))
    # Nobody has taken it yet.
    assert not inbox.wait_drained(0.2)
    thread, result = take_in_thread(inbox, wait=10.0)
    thread.join(5)
    assert [r.mid for r in result[0]] == [1]  # type: ignore[attr-defined]
    # The worker came back for more and waits: everything it took is done with.
    thread, _ = take_in_thread(inbox, wait=10.0)
    assert inbox.wait_drained(5.0)
    inbox.wake()
    thread.join(5)


def test_the_inbox_says_a_reply_waits_from_its_arrival_until_a_batch_takes_it() -> None:
    # The committers hurry a bridge's batch in hand while a reply waits behind it.
    inbox = Inbox()
    inbox.put(received(1))
    assert not inbox.reply_waits()
    when = datetime.now(UTC)
    inbox.put(Received(Inbound("linli/v1/s/d/reply", b"{}", when), 2, 1, 0))
    assert inbox.reply_waits()
    assert len(inbox.take(1, 0.0, 0.0)) == 1
    assert inbox.reply_waits(), "the event was taken, not the reply"
    assert len(inbox.take(10, 0.0, 0.0)) == 1
    assert not inbox.reply_waits()
