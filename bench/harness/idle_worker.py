"""What one ``linli worker`` of a district costs with nothing to do: CPU and wake-ups.

A worker serves every centre of the database, a bridge each (its own MQTT connection, network
thread and worker thread: docs/scaling.md), so whatever each bridge does while idle is done
200 times over. This seeds ``--sites`` centres (one locker each, none connected) in a schema
of its own, starts a broker of its own and one worker, waits until its bridges settle, then
reads from /proc over ``--seconds``: the worker's CPU (its process group) and its threads'
voluntary context switches (each a wake-up from a wait).

    LINLI_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/harness/idle_worker.py --sites 200

The last line is ``sites=… threads=… wakeups_per_s=… idle_cpu_cores=…``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "firmware-sim")]

from district import start_broker, wait_until  # noqa: E402
from district_load import WorkerProcess  # noqa: E402
from district_seed import seed  # noqa: E402

from booking.core.db import Database  # noqa: E402
from harness.cpu_meter import Cpu  # noqa: E402
from harness.schemas import fresh_schema  # noqa: E402


def wakeups(pid: int) -> int:
    """Voluntary context switches of every thread of ``pid`` so far."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        for line in Path(f"/proc/{pid}/task/{task}/status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches"):
                total += int(line.split()[1])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=20.0, help="s after the bridges connect")
    parser.add_argument("--port", type=int, default=18899)
    parser.add_argument("--postgres", default=os.environ.get("LINLI_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if not args.postgres:
        parser.error("a worker of several centres needs PostgreSQL: --postgres URL")
    with (
        tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp,
        fresh_schema(args.postgres, "idle") as url,
    ):
        database = Database(url)
        district = seed(database, args.sites, 1, 0)
        database.dispose()
        broker = start_broker(Path(tmp), args.port)
        env = {**os.environ, "LINLI_DATABASE_URL": url, "LINLI_SECRET_KEY": "bench-secret",
               "LINLI_MQTT_URL": f"mqtt://127.0.0.1:{args.port}", "LINLI_SITE": district.sites[0],
               "LINLI_INSTANCE_PATH": tmp, "PYTHONPATH": f"{ROOT}:{ROOT / 'firmware-sim'}"}  # fmt: skip
        worker = WorkerProcess.start(
            [sys.executable, "-c", "from kiosk.cli import main; main(['worker'])"], env
        )
        try:
            wait_until("the worker's bridges", lambda: worker.said("bridge connected"), 120)
            time.sleep(args.settle)
            pid = worker.process.pid
            threads = len(os.listdir(f"/proc/{pid}/task"))
            # The worker's process group, as bench/district.py counts a worker's CPU.
            cpu, woken, began = Cpu({"worker": [pid]}), wakeups(pid), time.monotonic()
            time.sleep(args.seconds)
            cpu.sample()
            elapsed = time.monotonic() - began
            cores = cpu.totals()["worker"] / elapsed
            per_s = (wakeups(pid) - woken) / elapsed
        finally:
            worker.process.terminate()
            worker.process.wait(30)
            broker.terminate()
            broker.wait(10)
    print(f"sites={args.sites} threads={threads} wakeups_per_s={per_s:.0f} "
          f"idle_cpu_cores={cores:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
