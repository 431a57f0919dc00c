"""Every benchmark of `make bench` (and every one-process harness of bench/harness) still
starts, and the benches that seed their own database still seed it and answer at a tiny size.

Nothing else runs the benches: two of them stopped at their first line, bench/booking_race.py
at the reshape and bench/insights.py when the models moved to one table per file, and
`make bench` reported them as failing for two days before anyone looked. A run here costs seconds; the figures
themselves are `make bench`'s business (docs/benchmarks.md), not the suite's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, SKIP_NO_POSTGRES
from tests.perf.run_all_module import load_run_all

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
# What `make bench` runs: bench/run_all.py's own list.
BENCHES: list[str] = load_run_all().benches()
# The one-process harnesses the history was measured with (docs/benchmarks.md): scripts too.
HARNESSES = sorted(
    f"harness/{path.stem}"
    for path in (BENCH / "harness").glob("*.py")
    if "__main__" in path.read_text(encoding="utf-8")
)


def run_bench(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=os.environ.copy(),
    )


def last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_the_benches_are_the_ones_make_bench_runs() -> None:
    assert {"booking_race", "insights", "lending_records", "district", "api_load"} <= set(BENCHES)
    assert {"harness/event_cpu", "harness/idle_worker", "harness/page_cpu"} <= set(HARNESSES)


@pytest.mark.parametrize("name", BENCHES + HARNESSES)
def test_every_bench_imports_what_it_needs_and_reads_its_arguments(name: str) -> None:
    done = run_bench(name, "--help", timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout


@pytest.mark.skipif(POSTGRES_URL is None, reason=SKIP_NO_POSTGRES)
@pytest.mark.parametrize(
    ("name", "args", "contract"),
    [
        (
            "booking_race",
            ("--clients", "2", "--attempts", "3", "--seats", "2"),
            "double_bookings=0",
        ),
        ("insights", ("--days", "3", "--repeat", "1"), "p95_ms="),
        ("lending_records", ("--loans", "100", "--repeat", "1", "--no-load"), "p95_ms="),
    ],
)
def test_a_bench_that_seeds_its_own_database_seeds_it_on_both_databases(
    name: str, args: tuple[str, ...], contract: str
) -> None:
    # With LINLI_TEST_DATABASE_URL (the environment's, as `make bench` has it) each runs on
    # SQLite and then in a schema of its own on PostgreSQL, which it drops at the end.
    done = run_bench(name, *args, "--postgres", str(POSTGRES_URL))
    assert done.returncode == 0, done.stderr[-2000:]
    line = last_line(done.stdout)
    assert contract in line
    if name != "booking_race":
        assert "sqlite+postgresql" in line
    else:
        assert "db=postgresql" in line and "db=sqlite" in done.stdout
