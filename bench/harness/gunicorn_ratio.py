"""A page of Linli against a bare Flask endpoint, both under gunicorn with the same settings.

Both apps run side by side on this machine (``--workers``, gthread ``--threads``,
keep-alive); one load generator (``--clients`` Python threads, each on one keep-alive
connection) asks one target at a time, after a warm-up, in ``--rounds`` alternating rounds,
``--seconds`` per target in all. Each rate is the median of its rounds, and a ratio the
median of the rounds' ratios (the page over bare of the same round), so a burst of other
work on the machine shifts neither much. The load generator shares the CPU with the
servers, so both rates are lower than from a separate client machine; the ratio is what
these benchmarks measure.

Every target's summary also says where its CPU went, per request answered (on Linux, from
``/proc``): the gunicorn serving it (master and workers), the database server (every
PostgreSQL process, when Linli runs on PostgreSQL; SQLite's work is the server's own) and the
load generator (this process). A ratio that will not move is explained by those: the app's
own cost a request against bare Flask's, on cores the other two share.

Every benchmark built on this ends with one line,
``name=… rps=… bare_rps=… ratio=… target=… ok=yes|no`` (``make bench`` prints it).
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from harness import cpu_meter

ROOT = Path(__file__).resolve().parent.parent.parent
BARE = "bare"


@dataclass(frozen=True)
class Target:
    """One page to ask: its port (``linli`` or ``bare``), path and request headers. A
    ``refresh`` is called before each round, for what would go stale between rounds."""

    app: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    refresh: Callable[[], dict[str, str]] | None = None


@dataclass
class Load:
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0
    rounds: list[float] = field(default_factory=list)
    # CPU seconds spent while this target was asked: its server, the database, this process.
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return statistics.median(self.rounds) if self.rounds else 0.0

    def cpu_per_request(self) -> str:
        """``server 0.87 ms, database 0.00 ms, load generator 0.14 ms`` (empty without /proc)."""
        if not self.cpu or not self.requests:
            return ""
        return ", ".join(
            f"{part} {seconds / self.requests * 1000:.3f} ms" for part, seconds in self.cpu.items()
        )


def load_average() -> str:
    return " ".join(f"{figure:.1f}" for figure in os.getloadavg())


def add_arguments(parser: argparse.ArgumentParser, *, port: int) -> None:
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="per target, in all")
    parser.add_argument("--rounds", type=int, default=10, help="alternations of the targets")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=port)


@contextmanager
def gunicorn(
    app: str, port: int, args: argparse.Namespace, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        "--pythonpath",
        f"{ROOT},{ROOT / 'bench'}",
        app,
    ]
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(port: int, path: str, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status == 200:
                return
            raise SystemExit(f"{path} answered {response.status}: {body[:300]!r}")
        except (ConnectionError, OSError):
            time.sleep(0.2)
    raise SystemExit(f"gunicorn on port {port} did not answer in {timeout} s")


def hammer(
    port: int, path: str, headers: dict[str, str], clients: int, seconds: float
) -> tuple[int, int, float]:
    """``clients`` threads, each asking over its own keep-alive connection until time is up:
    (answered 200, failed, seconds)."""
    counts = [0] * clients
    failures = [0] * clients
    start_gate = threading.Barrier(clients + 1)
    stop_at = 0.0

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start_gate.wait()
        while time.monotonic() < stop_at:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    counts[n] += 1
                else:
                    failures[n] += 1
            except (ConnectionError, OSError, http.client.HTTPException):
                failures[n] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    stop_at = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join()
    return sum(counts), sum(failures), time.monotonic() - began


def measure(
    targets: dict[str, Target], args: argparse.Namespace, env: dict[str, str]
) -> dict[str, Load]:
    """Serve Linli (``kiosk:create_app()``) and the bare app, and ask every target in
    alternating rounds. A target whose requests fail stops the benchmark."""
    ports = {"linli": args.port, BARE: args.port + 1}
    results = {name: Load() for name in targets}
    with ExitStack() as stack:
        servers = {
            "linli": stack.enter_context(gunicorn("kiosk:create_app()", ports["linli"], args, env)),
            BARE: stack.enter_context(gunicorn("bare_flask:app", ports[BARE], args, env)),
        }
        for target in targets.values():
            headers = target.refresh() if target.refresh else target.headers
            wait_ready(ports[target.app], target.path, headers)
            hammer(ports[target.app], target.path, headers, args.clients, args.warmup)
        meter = _meter(servers, env)
        # Short alternating rounds, so that a burst of other work on the machine weighs on
        # every target alike rather than on whichever ran at the time.
        for _ in range(args.rounds):
            for name, target in targets.items():
                headers = target.refresh() if target.refresh else target.headers
                before = _cpu_now(meter)
                done, failed, seconds = hammer(
                    ports[target.app], target.path, headers, args.clients,
                    args.seconds / args.rounds,
                )  # fmt: skip
                load = results[name]
                load.requests += done
                load.failures += failed
                load.seconds += seconds
                load.rounds.append(done / seconds if seconds else 0.0)
                if meter is not None:
                    _add_cpu(load, target.app, before, _cpu_now(meter))
    for name, load in results.items():
        print(
            f"{name}: {load.requests} requests in {load.seconds:.1f} s, {load.failures} failed, "
            f"rounds {' '.join(f'{r:.0f}' for r in load.rounds)}/s",
            flush=True,
        )
        if load.cpu:
            print(f"{name}: CPU a request: {load.cpu_per_request()}", flush=True)
        if load.failures:
            raise SystemExit(f"{name}: {load.failures} requests failed")
    return results


DATABASE = "database"
CLIENT = "load generator"


def _postmaster(url: str) -> int | None:
    """The PostgreSQL server's main process, the parent of every backend (None on SQLite, or
    when the server runs where this machine's ``/proc`` does not show it)."""
    if not url.startswith("postgresql"):
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            backend = connection.scalar(text("SELECT pg_backend_pid()"))
            # Read while the connection holds its backend: once it closes, the process is gone
            # (the bench then measured no database, now and then, under load).
            return _parent_if_postgres(int(backend))
    finally:
        engine.dispose()


def _parent_if_postgres(pid: int) -> int | None:
    try:
        # On another machine the backend's process id names some unrelated process here.
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if not f.read().startswith(b"postgres"):
                return None
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def _meter(
    servers: dict[str, subprocess.Popen[bytes]], env: dict[str, str]
) -> cpu_meter.Cpu | None:
    if not cpu_meter.readable():
        return None
    groups = {app: [process.pid] for app, process in servers.items()}
    postmaster = _postmaster(env.get("LINLI_DATABASE_URL", ""))
    if postmaster is not None:
        groups[DATABASE] = [postmaster]
    return cpu_meter.Cpu(groups)


def _cpu_now(meter: cpu_meter.Cpu | None) -> dict[str, float]:
    """Each group's CPU seconds so far, and this process's (the load generator)."""
    if meter is None:
        return {}
    meter.sample()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {**meter.totals(), CLIENT: usage.ru_utime + usage.ru_stime}


def _add_cpu(load: Load, app: str, before: dict[str, float], after: dict[str, float]) -> None:
    parts = {"server": app, DATABASE: DATABASE, CLIENT: CLIENT}
    for part, group in parts.items():
        if group in after:
            load.cpu[part] = load.cpu.get(part, 0.0) + after[group] - before[group]


def ratio(results: dict[str, Load], name: str) -> float:
    """The median over the rounds of ``name``'s rate over bare's in the same round."""
    pairs = zip(results[name].rounds, results[BARE].rounds, strict=True)
    return statistics.median(page / bare for page, bare in pairs if bare)


def result_line(results: dict[str, Load], name: str, *, label: str, target: float) -> str:
    """The benchmark's last line: ``name=… rps=… bare_rps=… ratio=… target=… ok=yes|no``."""
    found = ratio(results, name)
    return (
        f"name={label} rps={results[name].rps:.0f} bare_rps={results[BARE].rps:.0f} "
        f"ratio={found:.2f} target={target} ok={'yes' if found >= target else 'no'}"
    )
