"""Concurrent residents racing for seats: throughput, refusals and double bookings.

Each of ``--clients`` threads (its own ``Database.write()`` per attempt, as a kiosk request
would) books random seat periods (1–4 half-hours, today) over ``--seats`` seats for
``--attempts`` attempts, one fresh resident per attempt so only the slot rule can say no.
Strategies:

* ``service`` — the production path, ``booking.spaces.seats.book_seat``: resource row locked, overlap
  checked, insert (plus the exclusion constraint on PostgreSQL).
* ``exclusion`` (PostgreSQL only) — insert relying on the exclusion constraint alone, without
  the row lock: shows why the lock is there (deadlocks, SQLSTATE 40P01).
* ``grid`` — the alternative design: a bench-only table with a unique key on
  (seat, half-hour slot start), one row per occupied slot.

At the end every database is checked for overlapping active bookings of one seat.

    .venv/bin/python bench/booking_race.py
    .venv/bin/python bench/booking_race.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The last line per database is ``double_bookings=… bookings_per_s=… db=…`` (production path).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, UniqueConstraint, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError

ROOT = Path(__file__).resolve().parent.parent
# This checkout's code first (not the virtualenv's editable install), as the other benches do.
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from harness.schemas import fresh_schema  # noqa: E402

import devices.models  # noqa: E402,F401  (so create_all makes every table, as in production)
import kiosk.models  # noqa: E402,F401
from booking.core.db import Base, Database  # noqa: E402
from booking.core.errors import SlotTaken  # noqa: E402
from booking.core.models.sites import Site  # noqa: E402
from booking.people.models.memberships import ResidentMembership  # noqa: E402
from booking.people.models.residents import Resident  # noqa: E402
from booking.spaces import seats  # noqa: E402
from booking.spaces.models.bookings import Booking, BookingStatus  # noqa: E402
from booking.spaces.models.seats import Seat  # noqa: E402
from booking.spaces.models.spaces import Space, SpaceKind  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 07:00 in Shanghai: every slot of the day (08:00–21:00) lies ahead.
NOW = datetime(2026, 11, 24, 7, 0, tzinfo=SHANGHAI).astimezone(UTC)
OPENS = datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI).astimezone(UTC)
SLOTS = 26  # half-hours from 08:00 to 21:00
HALF_HOUR = timedelta(minutes=30)

grid_metadata = MetaData()
grid_slots = Table(
    "bench_grid_slots",
    grid_metadata,
    Column("seat_id", Integer, nullable=False),
    Column("slot_start", DateTime(timezone=True), nullable=False),
    Column("booking_id", Integer, nullable=False),
    UniqueConstraint("seat_id", "slot_start"),
)


@dataclass
class Result:
    strategy: str
    db: str
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    double_bookings: int = 0

    def line(self) -> str:
        booked = self.outcomes["booked"]
        attempts = sum(self.outcomes.values())
        others = {k: v for k, v in self.outcomes.items() if k not in ("booked", "slot_taken")}
        return (
            f"strategy={self.strategy} attempts={attempts} booked={booked} "
            f"slot_taken={self.outcomes['slot_taken']} other_errors={dict(others)} "
            f"ms_per_attempt_p50={statistics.median(self.latencies) * 1000:.1f} "
            f"ms_per_attempt_p99={statistics.quantiles(self.latencies, n=100)[98] * 1000:.1f} "
            f"attempts_per_s={attempts / self.elapsed:.0f} "
            f"double_bookings={self.double_bookings} bookings_per_s={booked / self.elapsed:.1f} "
            f"db={self.db}"
        )


@contextmanager
def fresh_database(kind: str, postgres_url: str | None) -> Iterator[Database]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            database = Database(f"sqlite:///{Path(directory) / 'race.sqlite3'}")
            yield database
            database.dispose()
        return
    assert postgres_url is not None
    with fresh_schema(postgres_url) as url:
        # A pool as large as the crowd, so clients wait on the database, not on the pool.
        database = Database(url, pool_size=64, max_overflow=0)
        try:
            yield database
        finally:
            database.dispose()


def seed(database: Database, n_seats: int, n_residents: int) -> tuple[list[int], list[int]]:
    Base.metadata.create_all(database.engine)
    grid_metadata.create_all(database.engine)
    with database.write() as session:
        site = Site(slug="bench", name_zh="基准", name_en="Bench")
        session.add(site)
        session.flush()
        study = Space(
            site_id=site.id,
            code="study",
            kind=SpaceKind.STUDY,
            name_zh="自习室",
            name_en="Study",
            capacity=n_seats,
        )
        study.seats = [Seat(number=n + 1) for n in range(n_seats)]
        session.add(study)
        session.flush()
        # Residents straight into the tables: registration (Argon2) is not what is measured.
        people = [
            Resident(name=f"R{n}", phone=f"1{n:010d}", pin_hash="-", created_at=NOW)
            for n in range(n_residents)
        ]
        session.add_all(people)
        session.flush()
        session.add_all(
            ResidentMembership(resident_id=p.id, site_id=site.id, joined_at=NOW) for p in people
        )
        return [s.id for s in study.seats], [p.id for p in people]


def attempt_service(
    database: Database, resident_id: int, seat_id: int, start: datetime, end: datetime
) -> None:
    with database.write() as session:
        seats.book_seat(
            session, resident_id=resident_id, seat_id=seat_id, starts_at=start, ends_at=end, now=NOW
        )


def attempt_exclusion(
    database: Database, resident_id: int, seat_id: int, start: datetime, end: datetime
) -> None:
    try:
        with database.write() as session:
            session.add(_booking(session, resident_id, seat_id, start, end))
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) == "23P01":
            raise SlotTaken() from error
        raise


def attempt_grid(
    database: Database, resident_id: int, seat_id: int, start: datetime, end: datetime
) -> None:
    try:
        with database.write() as session:
            booking = _booking(session, resident_id, seat_id, start, end)
            session.add(booking)
            session.flush()
            slot = start
            rows = []
            while slot < end:
                rows.append({"seat_id": seat_id, "slot_start": slot, "booking_id": booking.id})
                slot += HALF_HOUR
            session.execute(insert(grid_slots), rows)
    except IntegrityError as error:
        if (
            getattr(error.orig, "sqlstate", None) == "23P01"
            or "UNIQUE" in str(error.orig).upper()
            or getattr(error.orig, "sqlstate", None) == "23505"
        ):
            raise SlotTaken() from error
        raise


def _booking(
    session: object, resident_id: int, seat_id: int, start: datetime, end: datetime
) -> Booking:
    return Booking(
        site_id=1,
        space_id=1,
        seat_id=seat_id,
        resident_id=resident_id,
        status=BookingStatus.CONFIRMED,
        starts_at=start,
        ends_at=end,
        created_at=NOW,
    )


ATTEMPTS = {"service": attempt_service, "exclusion": attempt_exclusion, "grid": attempt_grid}


def race(
    database: Database,
    strategy: str,
    db: str,
    clients: int,
    attempts: int,
    n_seats: int,
    rng_seed: int,
) -> Result:
    seat_ids, residents = seed(database, n_seats, clients * attempts)
    result = Result(strategy, db)
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    attempt = ATTEMPTS[strategy]

    def client(number: int) -> None:
        rng = random.Random(rng_seed * 1000 + number)
        mine = residents[number * attempts : (number + 1) * attempts]
        barrier.wait()
        for resident_id in mine:
            length = rng.randint(1, 4)
            first = rng.randint(0, SLOTS - length)
            start = OPENS + first * HALF_HOUR
            began = time.perf_counter()
            try:
                attempt(
                    database, resident_id, rng.choice(seat_ids), start, start + length * HALF_HOUR
                )
                outcome = "booked"
            except SlotTaken:
                outcome = "slot_taken"
            except DBAPIError as error:
                outcome = (
                    f"sqlstate_{getattr(error.orig, 'sqlstate', None) or type(error.orig).__name__}"
                )
            with lock:
                result.outcomes[outcome] += 1
                result.latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - started
    with database.engine.connect() as conn:
        result.double_bookings = conn.execute(
            text(
                "SELECT count(*) FROM bookings a JOIN bookings b ON a.seat_id = b.seat_id "
                "AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
                "WHERE a.status IN ('confirmed','checked_in') AND b.status IN ('confirmed','checked_in')"
            )
        ).scalar_one()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--attempts", type=int, default=20, help="per client")
    parser.add_argument("--seats", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=os.environ.get("LINLI_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)
    databases = ["sqlite"] + (["postgresql"] if args.postgres else [])
    failed = False
    for db in databases:
        strategies = ["grid", "exclusion", "service"] if db == "postgresql" else ["grid", "service"]
        for strategy in strategies:
            with fresh_database(db, args.postgres) as database:
                result = race(
                    database, strategy, db, args.clients, args.attempts, args.seats, args.seed
                )
            print(result.line(), flush=True)
            failed |= result.double_bookings > 0
        booked = result.outcomes["booked"]
        print(
            f"double_bookings={result.double_bookings} "
            f"bookings_per_s={booked / result.elapsed:.1f} db={db}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
