"""A long-running process leaves its start-up objects out of later garbage collections, once,
after warming up (kiosk.warm_process): a full collection visited all of them with every thread
stopped, 80-110 ms in a district worker."""

from __future__ import annotations

import gc
import os
import threading
import weakref
from pathlib import Path

import pytest

from kiosk import create_app, warm_process


@pytest.fixture
def unplanned(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in a fresh process: nothing planned yet.
    monkeypatch.setattr(warm_process, "_armed_in", None)


class Cycle:
    me: object = None


def test_a_freeze_leaves_every_object_alive_now_out_of_later_collections() -> None:
    earlier = Cycle()
    earlier.me = earlier
    kept = weakref.ref(earlier)
    try:
        frozen = warm_process.freeze()
        # The number frozen. A frozen object that dies later leaves the count (freed by the log
        # line, or by a thread an earlier test left running), so it can only have shrunk since:
        # CI once saw 1,479,352 left of 1,479,355.
        assert 0.99 * frozen < gc.get_freeze_count() <= frozen
        assert frozen > 10_000  # this test process's modules, at least
        del earlier
        gc.collect()
        assert kept() is not None  # frozen: no collection visits it
        # Garbage made after the freeze is still reclaimed: a cycle only the collector frees.
        later = Cycle()
        later.me = later
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert kept() is None


@pytest.mark.usefixtures("unplanned")
def test_a_process_plans_its_freeze_once(monkeypatch: pytest.MonkeyPatch) -> None:
    done = threading.Event()
    frozen: list[int] = []

    def counted() -> int:
        frozen.append(os.getpid())
        done.set()
        return 0

    monkeypatch.setattr(warm_process, "freeze", counted)
    assert warm_process.freeze_when_warm(0.01) is True
    assert warm_process.freeze_when_warm(0.01) is False
    assert done.wait(5)
    assert frozen == [os.getpid()]


@pytest.mark.usefixtures("unplanned")
def test_a_web_process_plans_its_freeze_at_its_first_request_and_a_test_app_never(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    planned: list[float] = []

    def plan(after_s: float = warm_process.WARM_AFTER_S) -> bool:
        planned.append(after_s)
        warm_process._armed_in = os.getpid()
        return True

    monkeypatch.setattr(warm_process, "freeze_when_warm", plan)
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    settings = {"SECRET_KEY": "test-secret", "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}

    under_test = create_app({**settings, "TESTING": True}).test_client()
    assert under_test.get("/nowhere").status_code == 404
    assert planned == []

    served = create_app(settings).test_client()
    assert planned == []  # made, not yet asked anything
    for _ in range(3):
        assert served.get("/nowhere").status_code == 404
    assert planned == [warm_process.WARM_AFTER_S]
