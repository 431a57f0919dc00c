"""The moving parts of bench/district.py: the worker processes, the CPU meter, the kiosks'
HTTP load and the command round trips."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from district_seed import Kiosk
from sqlalchemy import text

from booking.core.clock import SystemClock
from booking.core.db import Database
from devices.commands import waiting

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHECKOUT = Path(__file__).resolve().parent.parent


@dataclass
class WorkerProcess:
    """A worker in a process group of its own (a kill takes its commit process too, as a
    crash of its machine would), its log lines collected as they come."""

    process: subprocess.Popen[str]
    command: list[str]
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, command: list[str], env: dict[str, str]) -> WorkerProcess:
        # From this checkout: ``python -c`` puts the current directory first on sys.path,
        # ahead of PYTHONPATH, so a bench started from another checkout ran that one's worker.
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True, cwd=CHECKOUT)  # fmt: skip
        worker = cls(process, command, env)

        def collect() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                worker.lines.append(line)

        threading.Thread(target=collect, daemon=True).start()
        return worker

    def restarted(self) -> WorkerProcess:
        """The same worker started again, as its supervisor (systemd's Restart=) would."""
        return WorkerProcess.start(self.command, self.env)

    def why_stopped(self) -> str:
        for line in reversed(list(self.lines)):
            if "lost" in line or "Error" in line or "failed" in line:
                return line.strip()
        return f"exit {self.process.returncode}"

    def said(self, words: str) -> bool:
        return any(words in line for line in list(self.lines))

    def said_after(self, first: str, then: str) -> bool:
        lines = list(self.lines)
        for i, line in enumerate(lines):
            if first in line:
                return any(then in later for later in lines[i + 1 :])
        return False

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class KioskLoad:
    """One thread per kiosk site, each on a keep-alive connection with its site's token."""

    def __init__(self, port: int, kiosks: list[Kiosk], every_s: float) -> None:
        self.port, self.kiosks, self.every_s = port, kiosks, every_s
        self.latencies: list[float] = []
        self.ok = self.failed = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        for kiosk in self.kiosks:
            thread = threading.Thread(target=self._visits, args=(kiosk,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def counts(self) -> tuple[int, int]:
        return self.ok, self.failed

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0

    def _call(self, conn: http.client.HTTPConnection, kiosk: Kiosk, method: str, path: str,
              body: dict[str, object] | None = None) -> tuple[int, dict[str, object]]:  # fmt: skip
        headers = {"Authorization": f"Bearer {kiosk.token}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        started = time.perf_counter()
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        elapsed = time.perf_counter() - started
        good = response.status < 300 or response.status in (409, 422)
        with self._lock:
            self.latencies.append(elapsed)
            if good:
                self.ok += 1
            else:
                self.failed += 1
                if len(self.failures) < 5:
                    self.failures.append(f"{method} {path} {response.status} {raw[:200]!r}")
        try:
            return response.status, json.loads(raw) if raw else {}
        except ValueError:
            return response.status, {}

    def _visits(self, kiosk: Kiosk) -> None:
        rng = random.Random(kiosk.site)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        next_at = time.monotonic() + rng.uniform(0, self.every_s)
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            next_at += self.every_s
            try:
                self._visit(conn, kiosk, rng)
            except (OSError, http.client.HTTPException) as error:
                with self._lock:
                    self.failed += 1
                    self.failures.append(f"{kiosk.site}: {error!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()

    def _visit(self, conn: http.client.HTTPConnection, kiosk: Kiosk, rng: random.Random) -> None:
        def call(_label: str, method: str, path: str,
                 body: dict[str, object] | None = None) -> tuple[int, Any]:  # fmt: skip
            return self._call(conn, kiosk, method, path, body)

        kiosk_visit(kiosk, rng, call)


# (label, method, path, JSON body or None) -> (status, the answer's JSON)
KioskCall = Callable[[str, str, str, "dict[str, object] | None"], tuple[int, Any]]


def kiosk_visit(kiosk: Kiosk, rng: random.Random, call: KioskCall) -> None:
    """One resident's visit to a kiosk through the API: the seats free tomorrow at an hour,
    a booking of one (cancelled again when made), the tool catalogue and the resident's
    loans. ``call`` asks each, labelled; bench/harness/api_mix_cpu.py asks the same of an app
    in its own process."""
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date()
    hour = rng.randrange(9, 20)
    starts = datetime(tomorrow.year, tomorrow.month, tomorrow.day, hour, tzinfo=SHANGHAI)
    ends = starts + timedelta(hours=1)
    period = urlencode({"starts_at": starts.isoformat(), "ends_at": ends.isoformat()})
    call("seats", "GET", f"/api/v1/spaces/{kiosk.study_id}/seats?{period}", None)
    resident = rng.choice(kiosk.resident_ids)
    status, booking = call("book", "POST", "/api/v1/bookings", {
        "resident_id": resident, "seat_id": rng.choice(kiosk.seat_ids),
        "starts_at": starts.isoformat(), "ends_at": ends.isoformat()})  # fmt: skip
    if status == 201:
        call("cancel", "POST", f"/api/v1/bookings/{booking['id']}/cancel", None)
    call("tools", "GET", "/api/v1/lending/tools", None)
    call("loans", "GET", f"/api/v1/lending/loans?resident_id={resident}", None)


STEPS = ("out", "motor", "back", "poll")


class Commands:
    """``open`` commands to the d001 locker at a steady rate, each timed from the issue to
    the recorded final answer (devices.commands.waiting.send_and_wait, as a web request)."""

    def __init__(self, database: Database, device_id: str, per_s: float) -> None:
        self.database, self.device_id, self.per_s = database, device_id, per_s
        self.samples: list[tuple[float, float, bool]] = []  # (issued, ms, ok)
        self.ids: dict[float, str] = {}  # issued -> the command's id, for :meth:`stages`
        self.failed = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        clock = SystemClock()
        n = 0
        next_at = time.monotonic()
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            next_at += 1 / self.per_s
            issued = time.monotonic()
            outcome = waiting.send_and_wait(
                self.database, self.device_id, "open", {"compartment": n % 8 + 1},
                ttl=timedelta(seconds=10), requested_by="system:bench", clock=clock,
            )  # fmt: skip
            n += 1
            self.samples.append((issued, (time.monotonic() - issued) * 1000, outcome.ok))
            if outcome.command_id is not None:
                self.ids[issued] = outcome.command_id
            if not outcome.ok and len(self.failures) < 10:
                self.failures.append(f"{outcome.result} {outcome.reason}")

    def split(self, start: float | None, end: float | None
              ) -> tuple[list[tuple[float, float, bool]], list[tuple[float, float, bool]]]:  # fmt: skip
        """The samples issued within the handover [start, end], and the others."""
        if start is None:
            return [], list(self.samples)
        end = end if end is not None else float("inf")
        inside = [
            s for s in self.samples if start - 10.0 <= s[0] <= end and s[0] + s[1] / 1000 >= start
        ]
        outside = [s for s in self.samples if s not in inside]
        self.failed = sum(1 for s in outside if not s[2])
        return inside, outside

    @staticmethod
    def percentile(values: list[float], fraction: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    def stages(self, database: Database, samples: list[tuple[float, float, bool]]
               ) -> list[tuple[float, float, dict[str, float]]]:  # fmt: skip
        """Where the round trips of ``samples`` went, step by step (ms each), from the command
        rows and the ledger's replies (the devices' clock is this machine's): ``out`` from the
        issue to the device's ``accepted`` (the sender, the broker, the device), ``motor`` to
        its ``done``, ``back`` from its ``done`` to the start of the transaction that recorded
        it (the broker, a worker's bridge, the wait for a committer: the ledger's
        ``received_at`` is taken as that transaction begins), and ``poll`` until the caller saw
        it (the rest of that transaction and its commit, then the caller's wake-up and read).
        When the server keeps commit times (``track_commit_timestamp = on``, which takes a
        restart), ``poll`` is split too: ``commit`` until that transaction committed, ``wake``
        from there until the caller saw it.
        One (issued, ms, steps) for each command, in the order issued."""
        ids = {self.ids[issued]: (issued, ms) for issued, ms, _ok in samples if issued in self.ids}
        found: list[tuple[float, float, dict[str, float]]] = []
        with database.read() as session:
            split = session.scalar(text("SELECT current_setting('track_commit_timestamp')")) == "on"
            # The reply's ledger row was written by the transaction that recorded it.
            committed = "pg_xact_commit_timestamp(d.xmin)" if split else "NULL"
            rows = session.execute(text(
                f"SELECT c.id, c.created_at, a.device_ts, d.device_ts, d.received_at, {committed} "
                "FROM device_commands c "
                "JOIN device_messages a ON a.device_id = c.device_id AND a.kind = 'reply' "
                "AND a.payload->>'command_id' = c.id AND a.payload->>'status' = 'accepted' "
                "JOIN device_messages d ON d.device_id = c.device_id AND d.kind = 'reply' "
                "AND d.payload->>'command_id' = c.id AND d.payload->>'status' <> 'accepted' "
                "WHERE c.id = ANY(:ids)"
            ), {"ids": list(ids)})  # fmt: skip
            for command_id, created, accepted, done, recorded, commit in rows:
                issued, ms = ids[command_id]
                times = [created, accepted, done, recorded]
                steps = {name: (b - a).total_seconds() * 1000
                         for name, a, b in zip(STEPS[:3], times[:-1], times[1:], strict=True)}  # fmt: skip
                steps["poll"] = ms - (recorded - created).total_seconds() * 1000
                if commit is not None:
                    steps["commit"] = (commit - recorded).total_seconds() * 1000
                    steps["wake"] = steps["poll"] - steps["commit"]
                found.append((issued, ms, steps))
        return sorted(found, key=lambda row: row[0])
