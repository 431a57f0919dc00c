"""The staff's lending-records page with 100,000 loans: its queries, then the page under load.

Seeds one centre with ``--loans`` loans (default 100,000) over two years, bulk-inserted in
batches (Core ``executemany``), with 5,000 residents, 9 tool types and 300 items, then runs
the page's typical filtered queries through the real code path
(``booking.lending.records.loan_page``: the page of 50 rows with names, plus the total
count) ``--repeat`` times each and prints per-query p50/p95.

    .venv/bin/python bench/lending_records.py
    .venv/bin/python bench/lending_records.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

With ``--postgres`` (or LINLI_TEST_DATABASE_URL set) PostgreSQL runs too, in a schema of its
own that is dropped afterwards. The queries' line (over every query of every database) is
``p95_ms=… p50_ms=… max_ms=… loans=… dbs=…``; their target is p95 < 200 ms.

Then the page itself, ``GET /staff/lending`` as a signed-in staff member of that centre (no
filter: the newest 50 loans and the count), over the last database seeded (PostgreSQL when
given), under gunicorn beside a bare Flask endpoint in alternating rounds
(``bench/harness/gunicorn_ratio.py``, the same as ``bench/api_load.py``). The console's
floor runs in the same rounds, ``/staff/password`` (a page with one small form and no table),
as ``bench/api_load.py`` runs the health check: its line ``floor_rps=… floor_ratio=…`` says how
near bare Flask a console page gets here with almost no work of its own. The last line is
``name=lending_records-<db> rps=… bare_rps=… ratio=… target=0.25 ok=yes|no``
(``--no-load`` leaves the page out; ``--queries 0`` the per-query timings).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import gunicorn_ratio as ratio_bench  # noqa: E402
from harness.gunicorn_ratio import BARE, Target  # noqa: E402
from harness.schemas import fresh_schema  # noqa: E402

from booking.core.db import Base, Database  # noqa: E402
from booking.core.models.sites import Site  # noqa: E402
from booking.lending import records as lending_records  # noqa: E402
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus  # noqa: E402
from booking.lending.models.tool_types import ToolType  # noqa: E402
from booking.lending.models.tools import Item  # noqa: E402
from booking.lending.records import LoanFilter  # noqa: E402
from booking.people import auth_sessions  # noqa: E402
from booking.people.models.memberships import ResidentMembership  # noqa: E402
from booking.people.models.residents import Resident  # noqa: E402
from booking.people.models.staff import StaffAccount, StaffRole  # noqa: E402

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
SPAN = timedelta(days=730)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英建国伟静桂兰明华芳丽强军敏洁勇艳杰娟涛超"
TOOLS = (
    ("drill", "电钻", "Electric drill", 3, 60),
    ("ladder", "折叠梯", "Folding ladder", 2, 40),
    ("toolbox", "维修工具箱", "Repair toolbox", 3, 50),
    ("first-aid", "急救包", "First-aid kit", 7, 30),
    ("glue-gun", "热熔胶枪", "Hot glue gun", 3, 30),
    ("cart", "拖板车", "Drag cart", 1, 20),
    ("long-ladder", "长人字梯", "Long step ladder", 1, 10),
    ("saw", "手锯", "Hand saw", 3, 30),
    ("sewing", "缝纫机", "Sewing machine", 7, 30),
)
RESIDENTS = 5000
TARGET_RATIO = 0.25


@dataclass
class Seeded:
    site: Site
    tool_type_ids: list[int]
    item_tags: list[str]
    resident_names: list[str]
    resident_phones: list[str]
    middle_loan_id: int


def seed(database: Database, loans: int, rng: random.Random) -> Seeded:
    """One centre and its lending history, bulk-inserted (minutes through the ORM)."""
    with database.write() as session:
        site = Site(slug="bench", name_zh="基准站", name_en="Bench centre")
        session.add(site)
        session.flush()
        types = [
            ToolType(site_id=site.id, code=code, name_zh=zh, name_en=en, loan_days=days)
            for code, zh, en, days, _count in TOOLS
        ]
        session.add_all(types)
        session.flush()
        items: list[dict[str, Any]] = []
        for tool, (code, *_rest, count) in zip(types, TOOLS, strict=True):
            for n in range(1, count + 1):
                items.append(
                    {"site_id": site.id, "tool_type_id": tool.id,
                     "asset_tag": f"BENCH-{code.upper()}-{n:03d}", "condition": "good"}
                )  # fmt: skip
        session.execute(insert(Item), items)
        names = [
            rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) for _ in range(RESIDENTS)
        ]
        phones = [f"139{i:08d}" for i in range(RESIDENTS)]
        session.execute(
            insert(Resident),
            [{"name": n, "phone": p, "pin_hash": "x", "created_at": NOW - SPAN}
             for n, p in zip(names, phones, strict=True)],
        )  # fmt: skip
        resident_ids = list(session.scalars(select(Resident.id).order_by(Resident.id)))
        session.execute(
            insert(ResidentMembership),
            [{"resident_id": r, "site_id": site.id, "joined_at": NOW - SPAN} for r in resident_ids],
        )
        item_rows = session.execute(
            select(Item.id, Item.tool_type_id, Item.asset_tag).where(Item.site_id == site.id)
        ).all()
        days_of = {tool.id: tool.loan_days for tool in types}
        site_id = site.id
        tool_type_ids = [tool.id for tool in types]
        session.expunge(site)
    # Loans in start order, so ids grow with time as they do in production.
    step = SPAN / loans
    batch: list[dict[str, Any]] = []
    open_items: set[int] = set()
    start = NOW - SPAN
    for n in range(loans):
        started = start + step * n + timedelta(seconds=rng.randint(0, 59))
        item_id, type_id, _tag = rng.choice(item_rows)
        due = started + timedelta(days=days_of[type_id])
        age = NOW - started
        status = LoanStatus.RETURNED
        returned: datetime | None = started + timedelta(days=rng.uniform(0.1, 4))
        if age < timedelta(days=4) and rng.random() < 0.6:
            status, returned = LoanStatus.ACTIVE, None
            if due < NOW:
                status = LoanStatus.OVERDUE
        elif age < timedelta(days=60) and rng.random() < 0.02:
            status, returned = LoanStatus.OVERDUE, None
        elif rng.random() < 0.002:
            status, returned = LoanStatus.LOST, None
        batch.append(
            {"site_id": site_id, "item_id": item_id, "tool_type_id": type_id,
             "resident_id": rng.choice(resident_ids),
             "channel": LoanChannel.COUNTER if type_id == tool_type_ids[5] else LoanChannel.LOCKER,
             "status": status, "started_at": started, "due_at": due, "returned_at": returned,
             "return_note": ""}
        )  # fmt: skip
        if len(batch) == 5000:
            _insert_loans(database, batch, open_items)
            batch = []
    if batch:
        _insert_loans(database, batch, open_items)
    with database.write() as session:
        # Planner statistics, as a production database has them (autovacuum, `PRAGMA optimize`).
        session.execute(text("ANALYZE"))
        middle = session.scalar(select(Loan.id).order_by(Loan.id).offset(loans // 2).limit(1))
    return Seeded(
        site=site,
        tool_type_ids=tool_type_ids,
        item_tags=[tag for _id, _type, tag in item_rows],
        resident_names=names,
        resident_phones=phones,
        middle_loan_id=int(middle or 0),
    )


def _insert_loans(database: Database, batch: list[dict[str, Any]], open_items: set[int]) -> None:
    # An item has at most one open loan (ux_loans_open_item): the first open loan drawn for
    # an item stays open, later ones are returned on their due date.
    for row in batch:
        if row["returned_at"] is None and row["status"] is not LoanStatus.LOST:
            if row["item_id"] in open_items:
                row["status"], row["returned_at"] = LoanStatus.RETURNED, row["due_at"]
            else:
                open_items.add(row["item_id"])
    with database.write() as session:
        session.execute(insert(Loan), batch)


Query = tuple[str, Callable[[Seeded, random.Random], dict[str, Any]]]


def _local_days(seeded: Seeded, first: date, last: date) -> dict[str, Any]:
    start, end = lending_records.local_day_bounds(seeded.site, first, last)
    return {"where": LoanFilter(started_from=start, started_before=end)}


QUERIES: tuple[Query, ...] = (
    ("newest, no filter", lambda s, r: {"where": LoanFilter()}),
    ("deep page (cursor at the middle)",
     lambda s, r: {"where": LoanFilter(), "before": s.middle_loan_id}),
    ("resident name part", lambda s, r: {"where": LoanFilter(resident=r.choice(s.resident_names)[:2])}),
    ("resident phone part", lambda s, r: {"where": LoanFilter(resident=r.choice(s.resident_phones)[-6:])}),
    ("tool type", lambda s, r: {"where": LoanFilter(tool_type_id=r.choice(s.tool_type_ids))}),
    ("asset tag", lambda s, r: {"where": LoanFilter(asset_tag=r.choice(s.item_tags))}),
    ("status returned", lambda s, r: {"where": LoanFilter(status=LoanStatus.RETURNED)}),
    ("status lost", lambda s, r: {"where": LoanFilter(status=LoanStatus.LOST)}),
    ("one month", lambda s, r: _local_days(s, date(2025, 6, 1), date(2025, 6, 30))),
    ("overdue only", lambda s, r: {"where": LoanFilter(overdue_only=True)}),
    ("tool type + one month",
     lambda s, r: {"where": LoanFilter(
         tool_type_id=r.choice(s.tool_type_ids),
         started_from=lending_records.local_day_bounds(s.site, date(2025, 3, 1), None)[0],
         started_before=lending_records.local_day_bounds(s.site, None, date(2025, 3, 31))[1])}),
    ("resident + status returned",
     lambda s, r: {"where": LoanFilter(resident=r.choice(s.resident_phones), status=LoanStatus.RETURNED)}),
)  # fmt: skip


def run_queries(database: Database, seeded: Seeded, repeat: int, rng: random.Random) -> list[float]:
    every: list[float] = []
    print(f"{'query':38} {'rows':>5} {'total':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name, make in QUERIES:
        timings: list[float] = []
        rows = total = 0
        for _ in range(repeat):
            args = make(seeded, rng)
            started = time.perf_counter()
            with database.read() as session:
                page = lending_records.loan_page(session, site_id=seeded.site.id, now=NOW, **args)
            timings.append((time.perf_counter() - started) * 1000)
            rows, total = len(page.rows), page.total
        every += timings
        print(
            f"{name:38} {rows:>5} {total:>7} {statistics.median(timings):8.1f} {p95(timings):8.1f}"
        )
    return every


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


@contextmanager
def sqlite_database() -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        Base.metadata.create_all(database.engine)
        try:
            yield database
        finally:
            database.dispose()


@contextmanager
def postgres_database(base_url: str) -> Iterator[Database]:
    with fresh_schema(base_url) as url:
        database = Database(url)
        try:
            Base.metadata.create_all(database.engine)
            yield database
        finally:
            database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", default=os.environ.get("LINLI_TEST_DATABASE_URL"))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-load", action="store_true", help="the queries only, no page load")
    ratio_bench.add_arguments(parser, port=18751)
    args = parser.parse_args(argv)
    if args.loans < 100 or args.repeat < 0:
        parser.error("--loans must be at least 100 and --repeat not negative")

    import devices.models  # noqa: F401  (create_all makes every table, as in production)
    import kiosk.models  # noqa: F401

    every: list[float] = []
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", sqlite_database)]
    if args.postgres:
        # The page under load runs on the last one seeded: PostgreSQL, as the task asks.
        backends = [("postgresql", lambda: postgres_database(args.postgres))]
        if args.repeat:
            backends.insert(0, ("sqlite", sqlite_database))
    print(f"load average before: {ratio_bench.load_average()}", flush=True)
    last = ""
    for name, opener in backends:
        rng = random.Random(args.seed)
        with opener() as database:
            started = time.perf_counter()
            seeded = seed(database, args.loans, rng)
            print(f"\n{name}: seeded {args.loans} loans in {time.perf_counter() - started:.1f} s")
            if args.repeat:
                every += run_queries(database, seeded, args.repeat, rng)
            if not args.no_load and (name, opener) == backends[-1]:
                last = page_under_load(database, seeded, name, args)
    if every:
        print(
            f"p95_ms={p95(every):.1f} p50_ms={statistics.median(every):.1f} "
            f"max_ms={max(every):.1f} loans={args.loans} dbs={'+'.join(n for n, _ in backends)}"
        )
    if last:
        print(f"load average after: {ratio_bench.load_average()}")
        print(last)
    return 0


def page_under_load(database: Database, seeded: Seeded, db: str, args: argparse.Namespace) -> str:
    """``GET /staff/lending`` as a staff member of the seeded centre, against bare Flask."""
    with database.write() as session:
        staff = StaffAccount(
            site_id=seeded.site.id, username="bench", display_name="基准", password_hash="x",
            role=StaffRole.STAFF, created_at=NOW, password_changed_at=NOW,
        )  # fmt: skip
        session.add(staff)
        session.flush()
        token = auth_sessions.start_staff_session(session, staff=staff, now=datetime.now(UTC))
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "LINLI_DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
            "LINLI_SECRET_KEY": "bench-secret",
            "LINLI_INSTANCE_PATH": tmp,
        }
        signed_in = {"Cookie": f"linli_staff={token}"}
        targets = {
            "records": Target("linli", "/staff/lending", signed_in),
            # The console's floor: its page with one small form (three fields) and no table,
            # through the same sign-in check, header and frame as the records.
            "floor": Target("linli", "/staff/password", signed_in),
            BARE: Target(BARE, "/bare"),
        }
        results = ratio_bench.measure(targets, args, env)
    print(
        f"floor_rps={results['floor'].rps:.0f} floor_ratio={ratio_bench.ratio(results, 'floor'):.2f} "
        "(/staff/password: the console's frame and sign-in check with one small form, no table)"
    )
    print(
        f"db={db} loans={args.loans} workers={args.workers} threads={args.threads} "
        f"clients={args.clients} rounds={args.rounds}"
    )
    return ratio_bench.result_line(
        results, "records", label=f"lending_records-{db}", target=TARGET_RATIO
    )


if __name__ == "__main__":
    sys.exit(main())
