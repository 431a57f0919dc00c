"""The console's insight charts over a year of history: how long each query takes.

Seeds one centre (24 study seats, 4 activity rooms, 9 tool types, 2,000 residents) with
``--days`` of history (default 365): about 100 seat bookings a day (used, no-shows,
cancelled), 8 room bookings a day, 40 loans a day and a few blood-pressure alerts a week,
bulk-inserted (Core ``executemany``). Then it runs each chart's query through the real code
(``booking.insights.figures``) for the default 8-week range and for a whole year, ``--repeat`` times
each, and prints p50/p95 per query.

    .venv/bin/python bench/insights.py
    .venv/bin/python bench/insights.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

With ``--postgres`` (or LINLI_TEST_DATABASE_URL set) PostgreSQL runs too, in a schema of its
own that is dropped afterwards. The last line (over every query, range and database) is
``p95_ms=… max_ms=… bookings=… dbs=…``; the target is p95 < 500 ms for the year range,
which is what the insights page asks when staff pick a whole year.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from harness.schemas import fresh_schema  # noqa: E402

import devices.models  # noqa: E402,F401  (so create_all makes every table)
import kiosk.models  # noqa: E402,F401
from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert  # noqa: E402
from booking.core.db import Base, Database  # noqa: E402
from booking.core.models.sites import Site  # noqa: E402
from booking.insights import figures as insights  # noqa: E402
from booking.insights.local_time import DateRange  # noqa: E402
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus  # noqa: E402
from booking.lending.models.tool_types import ToolType  # noqa: E402
from booking.lending.models.tools import Item  # noqa: E402
from booking.people.models.residents import Resident  # noqa: E402
from booking.spaces.models.bookings import Booking, BookingStatus  # noqa: E402
from booking.spaces.models.seats import Seat  # noqa: E402
from booking.spaces.models.spaces import Space, SpaceKind  # noqa: E402

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
TODAY = date(2026, 11, 24)
SEATS = 24
ROOMS = 4
TOOL_TYPES = 9
RESIDENTS = 2000
TARGET_P95_MS = 500.0


def seed(database: Database, days: int, rng: random.Random) -> tuple[int, int]:
    """The centre and its history; returns (site id, bookings inserted)."""
    with database.write() as session:
        site = Site(slug="bench", name_zh="基准站", name_en="Bench centre")
        session.add(site)
        session.flush()
        study = Space(site_id=site.id, code="study", kind=SpaceKind.STUDY, name_zh="自习室",
                      name_en="Study room", capacity=SEATS)  # fmt: skip
        study.seats = [Seat(number=n) for n in range(1, SEATS + 1)]
        rooms = [
            Space(
                site_id=site.id,
                code=f"room-{n}",
                kind=SpaceKind.ACTIVITY,
                name_zh=f"活动室{n}",
                name_en=f"Room {n}",
                capacity=10,
            )  # fmt: skip
            for n in range(ROOMS)
        ]
        session.add_all([study, *rooms])
        tools = [
            ToolType(site_id=site.id, code=f"tool-{n}", name_zh=f"工具{n}", name_en=f"Tool {n}")
            for n in range(TOOL_TYPES)
        ]
        session.add_all(tools)
        session.flush()
        session.execute(
            insert(Item),
            [{"site_id": site.id, "tool_type_id": t.id, "asset_tag": f"B-{t.id}-{n}",
              "condition": "good"} for t in tools for n in range(20)],
        )  # fmt: skip
        session.execute(
            insert(Resident),
            [{"name": f"居民{n}", "phone": f"139{n:08d}", "pin_hash": "x",
              "created_at": NOW - timedelta(days=days + 1)} for n in range(RESIDENTS)],
        )  # fmt: skip
        people = list(session.scalars(select(Resident.id)))
        items = session.execute(select(Item.id, Item.tool_type_id)).all()
        seat_ids = [seat.id for seat in study.seats]
        site_id, study_id, room_ids = site.id, study.id, [room.id for room in rooms]

    bookings: list[dict[str, Any]] = []
    loans: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    first_day = NOW - timedelta(days=days)
    for day in range(days):
        midnight = first_day.replace(hour=0, minute=0) + timedelta(days=day)  # 08:00 local
        for _ in range(100):
            starts = midnight + timedelta(minutes=30 * rng.randrange(0, 24))
            ends = starts + timedelta(minutes=30 * rng.randrange(2, 7))
            roll = rng.random()
            status = (
                BookingStatus.COMPLETED if roll < 0.8
                else BookingStatus.NO_SHOW if roll < 0.9 else BookingStatus.CANCELLED
            )  # fmt: skip
            bookings.append(
                {"site_id": site_id, "space_id": study_id, "seat_id": rng.choice(seat_ids),
                 "resident_id": rng.choice(people), "status": status, "starts_at": starts,
                 "ends_at": ends, "created_at": starts - timedelta(days=1),
                 "checked_in_at": starts if status is BookingStatus.COMPLETED else None,
                 "finished_at": ends if status is BookingStatus.COMPLETED else None}
            )  # fmt: skip
        for _ in range(8):
            starts = midnight + timedelta(hours=rng.randrange(0, 12))
            bookings.append(
                {"site_id": site_id, "space_id": rng.choice(room_ids), "seat_id": None,
                 "resident_id": rng.choice(people), "status": BookingStatus.COMPLETED,
                 "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                 "created_at": starts - timedelta(days=2)}
            )  # fmt: skip
        for _ in range(40):
            item_id, type_id = rng.choice(items)
            started = midnight + timedelta(minutes=rng.randrange(0, 780))
            late = rng.random() < 0.1
            loans.append(
                {"site_id": site_id, "item_id": item_id, "tool_type_id": type_id,
                 "resident_id": rng.choice(people), "channel": LoanChannel.LOCKER,
                 "status": LoanStatus.RETURNED, "started_at": started,
                 "due_at": started + timedelta(days=3),
                 "returned_at": started + timedelta(days=5 if late else 2),
                 "overdue_since": started + timedelta(days=3) if late else None}
            )  # fmt: skip
        if rng.random() < 0.4:
            alerts.append(
                {"site_id": site_id, "kind": rng.choice(("bp.urgent", "bp.follow_up")),
                 "severity": AlertSeverity.URGENT, "status": AlertStatus.RESOLVED, "summary": "m",
                 "created_at": midnight + timedelta(hours=rng.randrange(0, 12))}
            )  # fmt: skip
    with database.write() as session:
        for rows, model in ((bookings, Booking), (loans, Loan), (alerts, StaffAlert)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(model), rows[start : start + 5000])
    return site_id, len(bookings)


QUERIES: dict[str, Callable[..., object]] = {
    "occupancy": insights.seat_occupancy,
    "rooms": insights.room_bookings_per_week,
    "no_shows": insights.no_show_rate_per_week,
    "loans": insights.loans_per_tool_type,
    "bp_alerts": insights.bp_alerts_per_week,
}


def measure(database: Database, site_id: int, repeat: int) -> dict[tuple[str, str], list[float]]:
    ranges = {
        "8 weeks": DateRange.recent_weeks(TODAY, 8),
        "year": DateRange(TODAY - timedelta(days=365), TODAY),
    }
    timings: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeat):
        for range_name, within in ranges.items():
            for name, query in QUERIES.items():
                with database.read() as session:
                    began = time.perf_counter()
                    query(session, site_id=site_id, within=within)
                    elapsed = (time.perf_counter() - began) * 1000
                timings.setdefault((name, range_name), []).append(elapsed)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def run(name: str, url: str, args: argparse.Namespace) -> tuple[list[float], int]:
    database = Database(url)
    Base.metadata.create_all(database.engine)
    began = time.perf_counter()
    site_id, bookings = seed(database, args.days, random.Random(args.seed))
    if database.engine.dialect.name == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(f"[{name}] seeded {bookings} bookings in {time.perf_counter() - began:.1f} s")
    timings = measure(database, site_id, args.repeat)
    for (query, range_name), values in timings.items():
        print(
            f"[{name}] {query:<10} {range_name:<8} p50={statistics.median(values):7.1f} ms "
            f"p95={p95(values):7.1f} ms"
        )
    database.dispose()
    return [v for values in timings.values() for v in values], bookings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("LINLI_TEST_DATABASE_URL"))
    args = parser.parse_args()
    everything: list[float] = []
    dbs = []
    with tempfile.TemporaryDirectory() as tmp:
        values, bookings = run("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
        everything += values
        dbs.append("sqlite")
    if args.postgres:
        with fresh_schema(args.postgres) as url:
            values, bookings = run("postgresql", url, args)
            everything += values
            dbs.append("postgresql")
    overall = p95(everything)
    verdict = "met" if overall < TARGET_P95_MS else "NOT met"
    print(f"target p95 < {TARGET_P95_MS:.0f} ms: {verdict}")
    print(
        f"p95_ms={overall:.1f} max_ms={max(everything):.1f} bookings={bookings} dbs={'+'.join(dbs)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
