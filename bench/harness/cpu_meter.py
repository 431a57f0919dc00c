"""CPU time (user + system) of groups of processes, read from Linux's ``/proc``.

The benchmarks' rates swing with whatever else the machine runs; the CPU each process spent
on a request or an event does much less, and it says which process the time went to (the
web's, the database's, the load generator's). Shared by bench/district.py and the gunicorn
ratio benches (``harness/gunicorn_ratio.py``).
"""

from __future__ import annotations

import os
import threading

TICKS = os.sysconf("SC_CLK_TCK")


def readable() -> bool:
    """Whether this system has the ``/proc`` this reads (Linux)."""
    return os.path.exists(f"/proc/{os.getpid()}/stat")


class Cpu:
    """CPU time (user + system) of process groups, from /proc, sampled every second so a
    killed process's last figure is kept."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.owner: dict[int, str] = {}
        self._stop = threading.Event()
        self.sample(first=True)

    def _pids(self) -> dict[int, str]:
        """Every process whose group or parent is one of ours (gunicorn's workers, a
        worker's commit process, a fleet process's own)."""
        found: dict[int, str] = {}
        roots = {pid: name for name, pids in self.groups.items() for pid in pids}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid, pgrp = int(entry), int(fields[1]), int(fields[2])
            for root in (pid, ppid, pgrp):
                if root in roots:
                    found[pid] = roots[root]
                    break
        return found

    def sample(self, first: bool = False) -> None:
        for pid, name in self._pids().items():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds = (int(fields[11]) + int(fields[12])) / TICKS
            self.owner[pid] = name
            if first:
                self.first[pid] = seconds
            self.last[pid] = seconds

    def start(self) -> None:
        self.sample(first=True)

        def loop() -> None:
            while not self._stop.wait(1.0):
                self.sample()

        threading.Thread(target=loop, daemon=True).start()

    def used(self) -> dict[str, float]:
        self._stop.set()
        return self.totals()

    def totals(self) -> dict[str, float]:
        """CPU seconds of each group since ``start``."""
        totals = dict.fromkeys(self.groups, 0.0)
        for pid, seconds in self.last.items():
            totals[self.owner[pid]] += seconds - self.first.get(pid, 0.0)
        return totals
