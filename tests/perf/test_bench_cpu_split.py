"""The gunicorn ratio benches say where each request's CPU went: the server answering it, the
database server and the load generator (bench/harness/cpu_meter.py, read from /proc).

A ratio alone said that the availability API was slower than bare Flask, not why; these
figures, per target and per run, say how much of a request is the app's own work and how much
the database's, on the cores all three share (docs/benchmarks.md, thirty-first session)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, SKIP_NO_POSTGRES

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "bench")]

from harness.cpu_meter import Cpu  # noqa: E402

# A parent that starts a child which burns CPU, then waits: the child is counted with the
# parent's group, as gunicorn's workers are with their master.
_PARENT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", '''
import time
end = time.process_time() + 0.4
while time.process_time() < end:
    pass
time.sleep(30)
'''])
child.wait()
"""


def test_the_meter_counts_the_cpu_of_a_group_s_children() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT])
    meter = Cpu({"group": [parent.pid]})
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            meter.sample()
            if meter.totals()["group"] >= 0.4:
                break
            time.sleep(0.1)
        # The child's 0.4 s of spinning, not the parent's idle wait, is what the group spent.
        assert meter.totals()["group"] >= 0.4
        assert len(meter.owner) == 2
    finally:
        for pid in set(meter.owner) - {parent.pid}:
            subprocess.run(["kill", str(pid)], check=False)
        parent.kill()
        parent.wait(timeout=10)


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no two free ports in a row")


def _cpu_lines(output: str) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for target, parts in re.findall(r"^(\w+): CPU a request: (.+)$", output, re.MULTILINE):
        found[target] = {
            name.strip(): float(ms) for name, ms in re.findall(r"([a-z ]+?) ([0-9.]+) ms", parts)
        }
    return found


@pytest.mark.skipif(POSTGRES_URL is None, reason=SKIP_NO_POSTGRES)
def test_the_availability_bench_splits_each_request_s_cpu_between_server_database_and_client() -> (
    None
):
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "bench" / "api_load.py"), "--postgres", str(POSTGRES_URL),
            "--history-days", "1", "--seconds", "1.5", "--rounds", "1", "--warmup", "0.2",
            "--port", str(_free_port_pair()),
        ],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    split = _cpu_lines(done.stdout)
    assert set(split) == {"availability", "health", "bare"}, done.stdout
    for target in ("availability", "health"):
        assert set(split[target]) == {"server", "database", "load generator"}
        assert split[target]["server"] > 0 and split[target]["load generator"] > 0
        # Linli's requests read PostgreSQL; its processes' time is counted apart.
        assert split[target]["database"] > 0
    # Bare Flask asks no database: what PostgreSQL did meanwhile is a sliver of Linli's.
    assert split["bare"]["database"] < split["availability"]["database"]
