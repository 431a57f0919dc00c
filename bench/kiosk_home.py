"""The kiosk's home screen under load, beside a bare Flask endpoint on the same footing.

Linli and a bare Flask JSON endpoint (``bench/bare_flask.py``) under gunicorn with the same
settings, asked in alternating rounds (``bench/harness/gunicorn_ratio.py``): ``GET /kiosk/``
of the demo centre as nobody signed in, and as a signed-in resident (the ``linli_kiosk``
cookie of a live session, checked against the database on every request, as in
production).

    .venv/bin/python bench/kiosk_home.py
    .venv/bin/python bench/kiosk_home.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The signed-out figures come first; the last line is the signed-in resident's,
``name=kiosk_home-<db> rps=… bare_rps=… ratio=… target=0.3 ok=yes|no``, and says ``ok=yes``
only if the signed-out page met the target too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

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
from booking.core.models.sites import Site  # noqa: E402
from booking.demo import centre as demo_centre  # noqa: E402
from booking.people import auth_sessions  # noqa: E402
from booking.people.models.resident_sessions import SessionChannel  # noqa: E402
from booking.people.models.residents import Resident  # noqa: E402

TARGET_RATIO = 0.3
DEMO_PHONE = "13800000001"  # 王秀英 in booking.demo.centre


def seed(url: str) -> None:
    database = Database(url)
    Base.metadata.create_all(database.engine)
    with database.write() as session:
        demo_centre.seed(session, now=datetime.now(UTC))
    database.dispose()


def resident_cookie(url: str) -> dict[str, str]:
    """A fresh kiosk session of the demo resident: made when the round starts, since the
    kiosk ends a session after a minute without requests."""
    database = Database(url)
    with database.write() as session:
        resident = session.scalars(select(Resident).where(Resident.phone == DEMO_PHONE)).one()
        site_id = session.scalars(select(Site.id)).first()
        assert site_id is not None
        token = auth_sessions.start_resident_session(
            session, resident=resident, site_id=site_id, now=datetime.now(UTC),
            channel=SessionChannel.KIOSK,
        )  # fmt: skip
    database.dispose()
    return {"Cookie": f"linli_kiosk={token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: a fresh SQLite file)")
    ratio_bench.add_arguments(parser, port=18741)
    args = parser.parse_args()

    print(f"load average before: {ratio_bench.load_average()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        with (
            fresh_schema(args.postgres)
            if args.postgres
            else nullcontext(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        ) as url:
            seed(url)
            env = {
                "LINLI_DATABASE_URL": url,
                "LINLI_SECRET_KEY": "bench-secret",
                "LINLI_INSTANCE_PATH": tmp,
            }
            targets = {
                "signed_out": Target("linli", "/kiosk/"),
                "signed_in": Target("linli", "/kiosk/", refresh=lambda: resident_cookie(url)),
                BARE: Target(BARE, "/bare"),
            }
            results = ratio_bench.measure(targets, args, env)
    print(f"load average after: {ratio_bench.load_average()}")
    db = "postgresql" if args.postgres else "sqlite"
    print(
        f"db={db} workers={args.workers} threads={args.threads} clients={args.clients} "
        f"rounds={args.rounds}"
    )
    print(ratio_bench.result_line(results, "signed_out", label=f"kiosk_home_signed_out-{db}",
                                  target=TARGET_RATIO))  # fmt: skip
    last = ratio_bench.result_line(
        results, "signed_in", label=f"kiosk_home-{db}", target=TARGET_RATIO
    )
    if ratio_bench.ratio(results, "signed_out") < TARGET_RATIO:
        last = last.replace("ok=yes", "ok=no")
    print(last)


if __name__ == "__main__":
    main()
