"""The availability API under load, beside a bare Flask JSON endpoint on the same footing.

Both apps run under gunicorn with the same settings (``--workers``, gthread ``--threads``,
keep-alive) side by side on this machine; the same load generator (``--clients`` Python
threads, each on one keep-alive connection) asks one target at a time, after a warm-up, in
``--rounds`` alternating rounds, ``--seconds`` per target in all; each figure is the median
of its rounds' rates, and the ratio the median of the rounds' ratios (availability over
bare of the same round), so a burst of other work on the machine shifts neither much. Linli's ``/api/v1/health`` is measured
too, as the floor of the app itself. Linli is
asked ``GET /api/v1/spaces/<study>/seats?starts_at=…&ends_at=…`` as a signed-in staff
member (the session cookie is checked on every request, as in production) over the demo
centre with ``--history-days`` of past seat bookings, so the booking indexes matter.

    .venv/bin/python bench/api_load.py
    .venv/bin/python bench/api_load.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The load generator shares the CPU with the server, so both figures are lower than on a
separate client machine; the ratio is what this measures. The machine's load average is
printed before and after. The last line is exactly ``availability_rps=… bare_rps=… ratio=…``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import devices.models  # noqa: E402,F401  (so create_all makes every table)
import kiosk.models  # noqa: E402,F401
from booking.core.db import Base, Database  # noqa: E402
from booking.demo import centre as demo_centre  # noqa: E402
from booking.people import auth_sessions  # noqa: E402
from booking.people.models.residents import Resident  # noqa: E402
from booking.people.models.staff import StaffAccount  # noqa: E402
from booking.spaces.models.bookings import Booking, BookingStatus  # noqa: E402
from booking.spaces.models.seats import Seat  # noqa: E402
from booking.spaces.models.spaces import Space  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
TARGET_RATIO = 0.4


@dataclass
class Load:
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def load_average() -> str:
    return " ".join(f"{figure:.1f}" for figure in os.getloadavg())


@contextmanager
def fresh_database_url(postgres_url: str | None, workdir: Path) -> Iterator[str]:
    if postgres_url is None:
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(url: str, history_days: int) -> tuple[int, str]:
    """The demo centre, seat bookings for every past day and today, and a staff session.

    Bookings are inserted directly (not through ``book_seat``): this measures reading them.
    """
    database = Database(url)
    Base.metadata.create_all(database.engine)
    now = datetime.now(UTC)
    rng = random.Random(7)
    with database.write() as session:
        demo_centre.seed(session, now=now)
        study = session.scalars(select(Space).where(Space.code == "study")).one()
        seat_ids = list(session.scalars(select(Seat.id).where(Seat.space_id == study.id)))
        people = list(session.scalars(select(Resident.id)))
        today = now.astimezone(SHANGHAI).date()
        rows = []
        for back in range(history_days, -1, -1):
            day = today - timedelta(days=back)
            for seat_id in seat_ids:
                hour = 8
                while hour < 20:
                    length = rng.choice((1, 2, 3))
                    if rng.random() < 0.6:
                        start = datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)
                        rows.append(
                            Booking(
                                site_id=study.site_id,
                                space_id=study.id,
                                seat_id=seat_id,
                                resident_id=rng.choice(people),
                                status=BookingStatus.COMPLETED if back else BookingStatus.CONFIRMED,
                                starts_at=start.astimezone(UTC),
                                ends_at=(start + timedelta(hours=length)).astimezone(UTC),
                                created_at=now,
                            )
                        )
                    hour += length
        session.add_all(rows)
        staff = session.scalars(select(StaffAccount).where(StaffAccount.username == "zhao")).one()
        token = auth_sessions.start_staff_session(session, staff=staff, now=now)
        print(f"seeded {len(rows)} seat bookings over {history_days + 1} days", flush=True)
        study_id = study.id
    database.dispose()
    return study_id, token


@contextmanager
def gunicorn(app: str, port: int, args: argparse.Namespace, env: dict[str, str]) -> Iterator[None]:
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
        yield
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


def hammer(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> Load:
    """``clients`` threads, each asking over its own keep-alive connection until time is up."""
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
    return Load(sum(counts), sum(failures), time.monotonic() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="per target, in all")
    parser.add_argument("--rounds", type=int, default=10, help="alternations of the targets")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--history-days", type=int, default=60)
    parser.add_argument("--port", type=int, default=18731)
    args = parser.parse_args()

    print(f"load average before: {load_average()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, fresh_database_url(args.postgres, Path(tmp)) as url:
        study_id, token = seed(url, args.history_days)
        today = datetime.now(SHANGHAI).date()
        starts_at = datetime(today.year, today.month, today.day, 14, tzinfo=SHANGHAI)
        query = urlencode(
            {
                "starts_at": starts_at.isoformat(),
                "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
            }
        )
        availability_path = f"/api/v1/spaces/{study_id}/seats?{query}"
        cookie = {"Cookie": f"linli_staff={token}"}
        env = {
            "LINLI_DATABASE_URL": url,
            "LINLI_SECRET_KEY": "bench-secret",
            "LINLI_INSTANCE_PATH": tmp,
        }
        linli_port, bare_port = args.port, args.port + 1
        targets = {
            "availability": (linli_port, availability_path, cookie),
            # The floor: Linli's app with no sign-in and one trivial query.
            "health": (linli_port, "/api/v1/health", {}),
            "bare": (bare_port, "/bare", {}),
        }
        results = {name: Load() for name in targets}
        rounds: dict[str, list[float]] = {name: [] for name in targets}
        with (
            gunicorn("kiosk:create_app()", linli_port, args, env),
            gunicorn("bare_flask:app", bare_port, args, env),
        ):
            for port, path, headers in targets.values():
                wait_ready(port, path, headers)
                hammer(port, path, headers, args.clients, args.warmup)
            # Short alternating rounds, so that a burst of other work on the machine weighs
            # on every target alike rather than on whichever ran at the time.
            for _ in range(args.rounds):
                for name, (port, path, headers) in targets.items():
                    load = hammer(port, path, headers, args.clients, args.seconds / args.rounds)
                    results[name].requests += load.requests
                    results[name].failures += load.failures
                    results[name].seconds += load.seconds
                    rounds[name].append(load.rps)
        for name, load in results.items():
            print(
                f"{name}: {load.requests} requests in {load.seconds:.1f} s, "
                f"{load.failures} failed, rounds {' '.join(f'{r:.0f}' for r in rounds[name])}/s",
                flush=True,
            )
            if load.failures:
                raise SystemExit(f"{name}: {load.failures} requests failed")
    print(f"load average after: {load_average()}")
    median = {name: statistics.median(rates) for name, rates in rounds.items()}
    availability, bare = median["availability"], median["bare"]
    ratio = statistics.median(
        a / b for a, b in zip(rounds["availability"], rounds["bare"], strict=True) if b
    )
    db = "postgresql" if args.postgres else "sqlite"
    print(f"health_rps={median['health']:.0f} (Linli's app, no sign-in, SELECT 1)")
    print(
        f"db={db} workers={args.workers} threads={args.threads} clients={args.clients} "
        f"rounds={args.rounds} target_ratio={TARGET_RATIO}"
    )
    print(f"availability_rps={availability:.0f} bare_rps={bare:.0f} ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
