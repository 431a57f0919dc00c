"""The CPU of each call a district kiosk makes through the API with its token, in one process.

bench/district.py's kiosks call the API with a token (``district_load.KioskLoad``): a seat
availability read, a booking, its cancelling, the tool catalogue and a resident's loans.
This asks the same calls (``district_load.kiosk_visit``) of one app through Flask's test
client (no gunicorn, no load generator) over ``district_seed``'s 20 centres on PostgreSQL, 100
visits to warm up, then ``--visits`` visits, and prints each call's CPU time by
``time.process_time``:

    LINLI_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        PYTHONPATH=. .venv/bin/python bench/harness/api_mix_cpu.py [--profile]

``--profile`` adds cProfile's top functions (PAGE_CPU_SORT, PAGE_CPU_LINES as in
page_cpu.py).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from district_load import kiosk_visit
    from district_seed import Kiosk, seed

    from booking.core.db import Database
    from harness.schemas import fresh_schema

    url = os.environ.get(
        "LINLI_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    with fresh_schema(url) as schema_url:
        database = Database(schema_url)
        district = seed(database, 20, 20, 20)
        os.environ.update(LINLI_DATABASE_URL=schema_url, LINLI_SECRET_KEY="bench-secret")
        from kiosk import create_app

        client = create_app().test_client(use_cookies=False)
        cpu: defaultdict[str, float] = defaultdict(float)
        calls: Counter[str] = Counter()
        rng = random.Random(7)

        def visit(kiosk: Kiosk) -> None:
            def call(label: str, method: str, path: str,
                     body: dict[str, object] | None) -> tuple[int, Any]:  # fmt: skip
                started = time.process_time()
                response = client.open(path, method=method, json=body,
                                       headers={"Authorization": f"Bearer {kiosk.token}"})  # fmt: skip
                cpu[label] += time.process_time() - started
                calls[label] += 1
                return response.status_code, response.get_json(silent=True)

            kiosk_visit(kiosk, rng, call)

        for n in range(100):
            visit(district.kiosks[n % len(district.kiosks)])
        cpu.clear()
        calls.clear()
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:
            profile.enable()
        for n in range(args.visits):
            visit(district.kiosks[n % len(district.kiosks)])
        if profile is not None:
            profile.disable()
        for label, count in calls.items():
            print(f"{label}: {count} calls, {cpu[label] / count * 1000:.2f} ms of CPU a call")
        every = sum(cpu.values()) / sum(calls.values())
        print(f"all: {sum(calls.values())} calls, {every * 1000:.2f} ms of CPU a call")
        if profile is not None:
            stats = pstats.Stats(profile)
            stats.sort_stats(os.environ.get("PAGE_CPU_SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("PAGE_CPU_LINES", "40")))
        database.dispose()


if __name__ == "__main__":
    main()
