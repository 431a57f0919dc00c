"""One page's own CPU time a request, in one process (no gunicorn, no load generator).

The gunicorn ratios swing with the machine's load; this does much less, so it is how the
changes of issue 18 were compared (docs/benchmarks.md). Point it at a seeded database:

    LINLI_DATABASE_URL=… .venv/bin/python bench/harness/page_cpu.py /staff/lending \\
        --cookie linli_staff=TOKEN --requests 60

Flask's test client (keeping cookies, as a browser does), 10 warm-up requests, then the
best of ``--repeat`` runs of ``--requests`` requests by ``time.process_time``; ``--profile``
adds cProfile's top functions. ``--no-jar`` asks as the gunicorn benches' load generator
does: no cookie kept between requests, only the ``--cookie`` values sent with each (so a
page that starts a session starts one every time, as it does there).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--cookie", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-jar", action="store_true", help="keep no cookie between requests")
    args = parser.parse_args()
    os.environ.setdefault("LINLI_SECRET_KEY", "bench-secret")

    from kiosk import create_app

    app = create_app()
    client = app.test_client(use_cookies=not args.no_jar)
    headers: dict[str, str] = {}
    if args.no_jar:
        if args.cookie:
            headers["Cookie"] = "; ".join(args.cookie)
    else:
        for cookie in args.cookie:
            name, _, value = cookie.partition("=")
            client.set_cookie(name, value, path="/")
    answer = client.get(args.path, headers=headers)
    if answer.status_code != 200:
        raise SystemExit(f"{args.path} answered {answer.status_code}")
    for _ in range(10):
        client.get(args.path, headers=headers)
    best = float("inf")
    for _ in range(args.repeat):
        started = time.process_time()
        for _ in range(args.requests):
            client.get(args.path, headers=headers)
        best = min(best, (time.process_time() - started) / args.requests)
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            client.get(args.path, headers=headers)
        profile.disable()
        pstats.Stats(profile).sort_stats(os.environ.get("PAGE_CPU_SORT", "tottime")).print_stats(
            int(os.environ.get("PAGE_CPU_LINES", "30"))
        )
    print(f"path={args.path} cpu_ms={best * 1000:.2f}")


if __name__ == "__main__":
    main()
