"""Every benchmark in bench/, one after another, each judged by its last line (its contract).

    .venv/bin/python bench/run_all.py            # what `make bench` runs
    .venv/bin/python bench/run_all.py district command_rtt    # some of them

Prints one line per bench: its name, its figure, its target and ``ok`` or ``no``; exits 1 if
any is ``no`` (a bench that fails, times out or prints no contract line is ``no``).

A bench whose last line carries ``ok=yes|no`` (with ``target=…``, the format of the kiosk
ratio benches: ``name=… rps=… bare_rps=… ratio=… target=… ok=…``) judges itself; for the
others this file knows the target (docs/benchmarks.md, issue 18). A bench it does not know,
with a ``__main__`` and no contract it can read, is shown as ``no``: give it ``ok=`` or a
target here. The settings are the quick ones; each bench's docstring gives the full run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Modules of bench/ that are not benchmarks: an app, the district's parts, this runner.
NOT_BENCHES = {"bare_flask", "district_fleet", "district_load", "district_seed", "run_all"}
TIMEOUT_S = 20 * 60
FIELD = re.compile(r"([A-Za-z_][\w.]*)=(\S+)")

Fields = dict[str, str]


def number(fields: Fields, key: str) -> float:
    """A field as a number; NaN (which fails every comparison) when absent or not one."""
    try:
        return float(fields[key])
    except (KeyError, ValueError):
        return float("nan")


@dataclass(frozen=True)
class Target:
    figure: Callable[[Fields], str]
    wanted: str
    met: Callable[[Fields], bool]
    args: tuple[str, ...] = ()


TARGETS: dict[str, Target] = {
    "api_load": Target(
        lambda f: (
            f"ratio={f.get('ratio')} ({f.get('availability_rps')} vs {f.get('bare_rps')} rps)"
        ),
        "ratio >= 0.4",
        lambda f: number(f, "ratio") >= 0.4,
    ),
    "mqtt_ingest": Target(
        lambda f: f"ratio={f.get('ratio')} lost={f.get('lost')}",
        "ratio >= 0.65, lost = 0",
        lambda f: number(f, "ratio") >= 0.65 and number(f, "lost") == 0,
    ),
    "command_rtt": Target(
        lambda f: f"p99_ms={f.get('p99_ms')} failed={f.get('failed')}",
        "p99 <= 50 ms, failed = 0",
        lambda f: number(f, "p99_ms") <= 50 and number(f, "failed") == 0,
        ("--count", "300"),
    ),
    "booking_race": Target(
        lambda f: f"double_bookings={f.get('double_bookings')}",
        "double_bookings = 0",
        lambda f: number(f, "double_bookings") == 0,
    ),
    "insights": Target(
        lambda f: f"p95_ms={f.get('p95_ms')}",
        "p95 < 500 ms",
        lambda f: number(f, "p95_ms") < 500,
    ),
    "lending_records": Target(
        lambda f: f"p95_ms={f.get('p95_ms')}",
        "p95 < 200 ms",
        lambda f: number(f, "p95_ms") < 200,
    ),
    "roster_import": Target(
        lambda f: f"worst_s={f.get('worst_s')}",
        "dry run + import < 60 s",
        lambda f: number(f, "worst_s") < 60,
    ),
    "district": Target(
        lambda f: (
            f"lost={f.get('lost')} doubled={f.get('doubled')} "
            f"p99_command_ms={f.get('p99_command_ms')} takeover_s={f.get('takeover_s')} "
            f"({f.get('sites')} sites, {f.get('devices')} devices)"
        ),
        "lost = doubled = 0, p99 <= 50 ms, takeover <= 10 s",
        lambda f: (
            number(f, "lost") == 0
            and number(f, "doubled") == 0
            and number(f, "p99_command_ms") <= 50
            and number(f, "takeover_s") <= 10
        ),
        ("--sites", "20", "--devices", "20", "--seconds", "60"),
    ),
}


def benches() -> list[str]:
    """Every runnable module of bench/, in name order."""
    return sorted(
        path.stem
        for path in BENCH.glob("*.py")
        if path.stem not in NOT_BENCHES and "__main__" in path.read_text(encoding="utf-8")
    )


def last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def judge(name: str, line: str) -> tuple[str, str, bool]:
    """(figure, target, met) from a bench's last line."""
    fields = dict(FIELD.findall(line))
    if "ok" in fields:  # the bench judges itself
        shown = " ".join(f"{k}={fields[k]}" for k in ("rps", "bare_rps", "ratio") if k in fields)
        return shown or line, fields.get("target", "its own"), fields["ok"] == "yes"
    target = TARGETS.get(name)
    if target is None:
        return line, "unknown: give it ok= or a target in bench/run_all.py", False
    return target.figure(fields), target.wanted, target.met(fields)


def run(name: str, log_dir: Path) -> tuple[str, str, bool, float]:
    target = TARGETS.get(name)
    command = [sys.executable, str(BENCH / f"{name}.py"), *(target.args if target else ())]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(
                None,
                [str(ROOT), str(ROOT / "firmware-sim"), str(BENCH), os.environ.get("PYTHONPATH")],
            )
        ),  # fmt: skip
    }
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout if isinstance(expired.stdout, str) else ""
        (log_dir / f"{name}.log").write_text(output or "")
        return "timed out", f"within {TIMEOUT_S // 60} min", False, time.monotonic() - started
    (log_dir / f"{name}.log").write_text(done.stdout + "\n--- stderr\n" + done.stderr)
    seconds = time.monotonic() - started
    line = last_line(done.stdout)
    figure, wanted, met = judge(name, line)
    if done.returncode != 0 and "ok" not in dict(FIELD.findall(line)) and not met:
        figure = f"exit {done.returncode}: {figure or last_line(done.stderr)[:120]}"
    return figure, wanted, met, seconds


def main(argv: list[str]) -> int:
    chosen = argv or benches()
    log_dir = Path(os.environ.get("BENCH_LOGS", ROOT / "instance" / "bench"))
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"{len(chosen)} benches, one after another; full output in {log_dir}/", flush=True)
    failed = 0
    for name in chosen:
        figure, wanted, met, seconds = run(name, log_dir)
        failed += not met
        print(f"{name:<16} {figure}  [target: {wanted}]  {'ok' if met else 'no'}"
              f"  ({seconds:.0f} s)", flush=True)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
