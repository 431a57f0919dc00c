"""The commit process's end of the pipe: batches in order, a stop only when the parent says."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime

import pytest

from devices.ingest.apply import Inbound
from devices.ingest.batch_process import ParentLine, load_handlers
from devices.ingest.reactions import Handlers

BATCH = [Inbound("linli/v1/xinhua/locker-a/event", b"{}", datetime(2026, 11, 24, tzinfo=UTC))]


def test_a_batch_sent_while_a_commit_waits_to_retry_is_kept_not_taken_for_a_stop() -> None:
    parent, child = multiprocessing.Pipe()
    line = ParentLine(child)
    threading.Timer(0.05, parent.send, args=(BATCH,)).start()
    started = time.monotonic()
    assert line.wait_for_stop(0.3) is False
    assert time.monotonic() - started >= 0.29  # the whole retry delay, not cut short
    assert line.next_batch() == BATCH


def test_the_parents_stop_ends_a_retry_wait_at_once() -> None:
    parent, child = multiprocessing.Pipe()
    line = ParentLine(child)
    parent.send(None)
    assert line.wait_for_stop(5.0) is True
    assert line.next_batch() is None


def test_a_closed_pipe_is_a_stop() -> None:
    parent, child = multiprocessing.Pipe()
    line = ParentLine(child)
    parent.close()
    assert line.next_batch() is None
    assert line.wait_for_stop(0.01) is True


def test_batches_come_out_in_the_order_they_were_sent() -> None:
    parent, child = multiprocessing.Pipe()
    line = ParentLine(child)
    first, second = BATCH, [*BATCH, *BATCH]
    parent.send(first)
    parent.send(second)
    assert line.wait_for_stop(0.05) is False  # both arrive while waiting, kept in order
    assert line.next_batch() == first
    assert line.next_batch() == second


def test_handlers_are_made_by_the_named_function() -> None:
    assert isinstance(load_handlers("devices.ingest.handlers:default_handlers"), Handlers)


def test_a_name_that_makes_no_handlers_is_refused() -> None:
    with pytest.raises(TypeError, match="not Handlers"):
        load_handlers("builtins:dict")
