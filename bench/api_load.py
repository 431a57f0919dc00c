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
printed before and after. The last line is
``name=availability-<db> rps=… bare_rps=… ratio=… target=0.5 ok=yes|no``
(``bench/harness/gunicorn_ratio.py``, shared with the kiosk home and lending records benches).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import gunicorn_ratio as ratio_bench  # noqa: E402
from harness.gunicorn_ratio import BARE, Target  # noqa: E402
from harness.schemas import fresh_schema  # noqa: E402

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
TARGET_RATIO = 0.5


@contextmanager
def fresh_database_url(postgres_url: str | None, workdir: Path) -> Iterator[str]:
    if postgres_url is None:
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    with fresh_schema(postgres_url) as url:
        yield url


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--history-days", type=int, default=60)
    ratio_bench.add_arguments(parser, port=18731)
    args = parser.parse_args()

    print(f"load average before: {ratio_bench.load_average()}", flush=True)
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
        env = {
            "LINLI_DATABASE_URL": url,
            "LINLI_SECRET_KEY": "bench-secret",
            "LINLI_INSTANCE_PATH": tmp,
        }
        targets = {
            "availability": Target(
                "linli",
                f"/api/v1/spaces/{study_id}/seats?{query}",
                {"Cookie": f"linli_staff={token}"},
            ),
            # The floor: Linli's app with no sign-in and one trivial query.
            "health": Target("linli", "/api/v1/health"),
            BARE: Target(BARE, "/bare"),
        }
        results = ratio_bench.measure(targets, args, env)
    print(f"load average after: {ratio_bench.load_average()}")
    db = "postgresql" if args.postgres else "sqlite"
    print(f"health_rps={results['health'].rps:.0f} (Linli's app, no sign-in, SELECT 1)")
    print(
        f"db={db} workers={args.workers} threads={args.threads} clients={args.clients} "
        f"rounds={args.rounds}"
    )
    print(
        ratio_bench.result_line(
            results, "availability", label=f"availability-{db}", target=TARGET_RATIO
        )
    )


if __name__ == "__main__":
    main()
