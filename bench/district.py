"""A district on one machine: 200 sites × 20 lockers reporting every 10 s, booking and
lending calls at 20 sites' kiosks, two workers sharing the device traffic, the scheduler's
worker killed (SIGKILL) halfway, command round trips measured throughout.

What runs, each in processes of its own as in production:

- **Mosquitto** of our own on ``--port`` (default 18835), anonymous (the bench's loopback
  broker; the devices are still registered with their issued passwords as the registry does,
  but the broker is not given the password file and ACL), set as deploy/mosquitto is
  (persistence, autosave every 10 s, 100,000 queued, window 1000, no Nagle).
- **PostgreSQL**: a fresh schema of ``--postgres`` (default ``LINLI_TEST_DATABASE_URL``),
  dropped at the end.
- **Two workers**: ``linli worker`` as it is, each in a process group of its own: the
  scheduler lock and the scheduler in one, and in both a bridge per centre (its own MQTT
  connection, Will and shared subscription ``$share/linli-{site}/…``), the bridges' batches
  committed by four shared committer threads and the commands sent by one sender for all
  centres (one LISTEN connection), docs/operations.md and docs/scaling.md item 1.
- **Devices**: ``--sites`` × ``--devices`` lockers in ``bench/district_fleet.py`` processes
  (a thousand paho clients each, one connection and persistent session per device: what is
  simplified is written there), each sending an event every ``--event-every`` s and a
  heartbeat every 30 s; plus linli_sim's own ``LockerSim`` at d001 for the commands (a
  fleet device answers a ``resync`` and refuses anything else).
- **gunicorn** (2 workers × 8 threads) with the app; ``--kiosk-sites`` threads, one per site,
  each with that site's admin API token, doing a visit every ``--visit-every`` s: seat
  availability, book a seat for a resident tomorrow, cancel it, the tool list, the
  resident's loans. This is the kiosk's booking and lending work through ``/api/v1`` (the
  kiosk pages serve the one ``LINLI_SITE`` of their app, so 20 sites' pages would need 20
  apps); a 409/422 (a seat taken) is an answer, any 5xx or other error a failure.
- **Commands**: ``devices.commands.waiting.send_and_wait`` of an ``open`` every
  ``1 / --commands-per-s`` s from this process, as a web request does, one at a time (a
  slow one delays the next).
- A worker that stops on its own (not the one killed) is restarted, as its supervisor would
  restart it (docs/operations.md); each restart is printed with the worker's reason.
  ``--logs DIR`` keeps every worker's log.
- ``--split``: each worker is given half of the centres (``LINLI_WORKER_SITES``), a group of
  one worker leading its own: every message of a locker goes to one worker (the shared
  subscription otherwise deals them to both in turn, docs/scaling.md item 3). The killed worker is then
  started again at once, as systemd's ``Restart=`` would, and the handover lasts until its
  bridges are connected.

``events_per_s``: the events the workers applied (ledger rows, by their ``received_at``)
during the run, over its length. Counted at the end, after the devices stop making events
and every one is acked (the bench fails, printing the workers' last lines, if that takes
more than ``--drain-limit`` s, 90 by default; a run that fell behind can be given longer, so
that ``lost`` and ``doubled`` are still counted, while ``events_per_s`` shows the shortfall):
``lost`` = events the devices made that the ledger (``device_messages``) lacks; ``doubled`` =
ledger rows beyond one per (device, session, seq) plus ledger events no device made.
``takeover_s``: from the SIGKILL to the survivor's log saying it holds the scheduler lock.
``p99_command_ms``: over the commands issued outside the handover (from the kill until the new
leader's bridge is connected, plus 1 s); those inside are printed on a line of their own.
CPU per event: the workers' process groups' CPU time (bridge, commit process, scheduler) over
the ledger rows applied in the run; per request: gunicorn's over the requests.

    .venv/bin/python bench/district.py                                  # 200 × 20, 180 s
    .venv/bin/python bench/district.py --sites 10 --devices 5 --seconds 40   # quick

The last line is exactly ``sites=… devices=… events_per_s=… lost=… doubled=…
p99_command_ms=… takeover_s=…``.
"""

from __future__ import annotations

import argparse
import getpass
import http.client
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "firmware-sim"), str(ROOT / "bench")]

from district_load import STEPS, Commands, KioskLoad, WorkerProcess  # noqa: E402
from district_seed import seed  # noqa: E402
from harness.cpu_meter import Cpu  # noqa: E402
from harness.schemas import fresh_schema  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from booking.core.db import Database  # noqa: E402
from devices.models.commands import DeviceCommand  # noqa: E402
from devices.models.device import Device  # noqa: E402
from devices.models.messages import DeviceMessage  # noqa: E402

DEVICES_PER_PROCESS = 1000
DRAIN_LIMIT_S = 90.0


def start_broker(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nuser {getpass.getuser()}\nallow_anonymous true\n"
        "persistence true\n"
        f"persistence_location {workdir}/\nautosave_interval 10\n"
        "max_queued_messages 100000\nmax_inflight_messages 1000\nset_tcp_nodelay true\n"
        f"log_dest file {workdir / 'mosquitto.log'}\nlog_type error\nlog_type warning\n"
    )
    process = subprocess.Popen(
        ["mosquitto", "-c", str(config)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    if process.poll() is not None:
        raise SystemExit(f"mosquitto did not start on port {port} (is it taken?)")
    return process


def run_locker(url: str, site: str, device_id: str, state_dir: str, stop: Any) -> None:
    """linli_sim's locker, fast motor (as bench/command_rtt.py), answering the commands."""
    from linli_sim.locker import LockerSim

    locker = LockerSim(device_id, site, url, state_dir, 8, time_scale=0.001, relock_after_s=10)
    locker.start()
    stop.wait()
    locker.stop()


def web_ready(port: int, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise SystemExit(f"gunicorn exited with {process.returncode} (port {port} taken?)")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/v1/health")
        return conn.getresponse().status == 200
    except OSError:
        return False


def wait_until(what: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def ledger(database: Database) -> tuple[set[tuple[str, int, int]], int]:
    with database.read() as session:
        where = DeviceMessage.kind == "event"
        keys = {(d, s, q) for d, s, q in session.execute(
            select(DeviceMessage.device_id, DeviceMessage.session, DeviceMessage.seq).where(where))}  # fmt: skip
        rows = session.scalar(select(func.count()).select_from(DeviceMessage).where(where))
    return keys, int(rows or 0)


def events_between(database: Database, start: datetime, end: datetime) -> int:
    """Events the workers applied (ledger rows) between two moments of the run."""
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(DeviceMessage).where(
            DeviceMessage.kind == "event", DeviceMessage.received_at >= start,
            DeviceMessage.received_at < end)) or 0)  # fmt: skip


def timeline(database: Database, start: datetime, end: datetime) -> list[int]:
    """Events applied in each 10 s of the run, to see where the workers fell behind."""
    with database.read() as session:
        times = session.scalars(select(DeviceMessage.received_at).where(
            DeviceMessage.kind == "event", DeviceMessage.received_at >= start,
            DeviceMessage.received_at < end)).all()  # fmt: skip
    counts = [0] * (int((end - start).total_seconds()) // 10 + 1)
    for moment in times:
        counts[int((moment - start).total_seconds()) // 10] += 1
    return counts


def resyncs(database: Database) -> int:
    """Resync commands the workers issued (a sequence gap seen, docs/protocol.md §3)."""
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(DeviceCommand).where(
            DeviceCommand.name == "resync")) or 0)  # fmt: skip


def applied_rows(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(DeviceMessage)) or 0)


def online_devices(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).where(Device.online.is_(True))) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--devices", type=int, default=20, help="lockers per site")
    parser.add_argument("--seconds", type=float, default=180.0, help="the measured run")
    parser.add_argument("--event-every", type=float, default=10.0)
    parser.add_argument("--kiosk-sites", type=int, default=20)
    parser.add_argument("--visit-every", type=float, default=2.0, help="per kiosk site, s")
    parser.add_argument("--commands-per-s", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=18835, help="our Mosquitto's port")
    parser.add_argument("--logs", type=Path, help="write each worker's log lines here")
    parser.add_argument(
        "--split",
        action="store_true",
        help="each worker its own half of the centres (LINLI_WORKER_SITES)",
    )
    parser.add_argument("--web-port", type=int, default=18845)
    parser.add_argument("--drain-limit", type=float, default=DRAIN_LIMIT_S,
                        help="s to wait after the run for every event to be acked")  # fmt: skip
    parser.add_argument("--postgres", default=os.environ.get(
        "LINLI_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="linli-district-") as tmp, \
            fresh_schema(args.postgres, "district") as url:  # fmt: skip
        run(args, Path(tmp), url)


def run(args: argparse.Namespace, workdir: Path, url: str) -> None:
    database = Database(url)
    began = time.monotonic()
    district = seed(database, args.sites, args.devices, min(args.kiosk_sites, args.sites))
    print(f"seeded {len(district.sites)} sites, {len(district.devices)} devices, "
          f"{len(district.kiosks)} kiosk sites in {time.monotonic() - began:.0f} s", flush=True)  # fmt: skip
    home = district.sites[0]
    broker_url = f"mqtt://127.0.0.1:{args.port}"
    env = {**os.environ, "LINLI_DATABASE_URL": url, "LINLI_MQTT_URL": broker_url,
           "LINLI_SITE": home, "LINLI_SECRET_KEY": "bench-secret",
           "PYTHONPATH": f"{ROOT}:{ROOT / 'firmware-sim'}"}  # fmt: skip
    broker = start_broker(workdir, args.port)
    spawn = multiprocessing.get_context("spawn")
    workers: list[WorkerProcess] = []
    all_workers: list[WorkerProcess] = []  # with the restarted ones, for --logs
    fleets: list[tuple[BaseProcess, Connection]] = []
    stop_locker = spawn.Event()
    locker = spawn.Process(target=run_locker, args=(broker_url, home, district.command_locker,
                                                     str(workdir / "locker"), stop_locker))  # fmt: skip
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        half = len(district.sites) // 2
        groups = [district.sites[:half], district.sites[half:]]
        for n in range(2):
            split = {"LINLI_WORKER_SITES": ",".join(groups[n])} if args.split else {}
            worker = WorkerProcess.start(
                [sys.executable, "-c", "from kiosk.cli import main; main(['worker'])"],
                {**env, "LINLI_INSTANCE_PATH": str(workdir / f"worker{n}"), **split},
            )
            workers.append(worker)
            follows = "bridging centre" if args.split else "shares the device traffic"
            words = "holds the scheduler lock" if n == 0 else follows
            wait_until(f"worker {n}: {words}", lambda w=worker, s=words: w.said(s)
                       or w.process.poll() is not None, 60)  # fmt: skip
            if worker.process.poll() is not None:
                raise SystemExit(f"worker {n} exited with {worker.process.returncode}")
            wait_until(f"worker {n}'s bridge", lambda w=worker: w.said("bridge connected"), 60)
        leader, follower = workers
        all_workers.extend(workers)
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{args.web_port}",
             "--workers", "2", "--worker-class", "gthread", "--threads", "8",
             "--keep-alive", "30", "--log-level", "warning", "kiosk:create_app()"],
            env={**env, "LINLI_INSTANCE_PATH": str(workdir / "web")}, cwd=ROOT,
            start_new_session=True, stderr=(workdir / "gunicorn.log").open("wb"),
        )  # fmt: skip
        wait_until("gunicorn answering", lambda: web_ready(args.web_port, gunicorn), 60)
        locker.start()
        for start in range(0, len(district.devices), DEVICES_PER_PROCESS):
            from district_fleet import run as run_fleet

            mine, theirs = spawn.Pipe()
            chunk = district.devices[start : start + DEVICES_PER_PROCESS]
            fleet_process = spawn.Process(target=run_fleet, args=(chunk, "127.0.0.1", args.port,
                                                           args.event_every, theirs))  # fmt: skip
            fleet_process.start()
            fleets.append((fleet_process, mine))
        connected = [0] * len(fleets)
        unacked = [0] * len(fleets)
        dropped = [0] * len(fleets)  # device connections lost (each reconnects, new session)

        def poll_fleets() -> tuple[int, int]:
            """The fleets' latest counts: devices connected, events not yet acked."""
            for i, (_, conn) in enumerate(fleets):
                while conn.poll():
                    message = conn.recv()
                    if message[0] == "connected":
                        connected[i], unacked[i], dropped[i] = message[1:4]
            return sum(connected), sum(unacked)

        total = len(district.devices) + 1
        began = time.monotonic()
        wait_until("every device connected", lambda: poll_fleets()[0]
                   >= len(district.devices), 300)  # fmt: skip
        wait_until("every device online in the database",
                   lambda: online_devices(database) >= total, 300)  # fmt: skip
        print(f"{total} devices connected and online in {time.monotonic() - began:.0f} s",
              flush=True)  # fmt: skip

        cpu = Cpu({"workers": [w.process.pid for w in workers], "web": [gunicorn.pid],
                   "broker": [broker.pid], "fleet": [p.pid or 0 for p, _ in fleets]})  # fmt: skip
        kiosks = KioskLoad(args.web_port, district.kiosks, args.visit_every)
        commands = Commands(database, district.command_locker, args.commands_per_s)
        rows_before = applied_rows(database)
        t0, t0_wall = time.monotonic(), datetime.now(UTC)
        cpu.start()
        kiosks.start()
        commands.start()
        killed_at = took = handover_end = None
        steady: tuple[dict[str, float], int, float] | None = None
        restarts: list[str] = []

        def supervise() -> bool:
            """Restart a worker that stopped on its own (not the one killed), as systemd
            would: docs/operations.md has the worker's supervisor restart it."""
            for i, worker in enumerate(workers):
                if worker is not leader and worker.process.poll() is not None:
                    restarts.append(f"{time.monotonic() - t0:.0f} s: {worker.why_stopped()}")
                    print(f"a worker stopped ({restarts[-1]}); restarting it", flush=True)
                    workers[i] = worker.restarted()
                    all_workers.append(workers[i])
                    cpu.groups["workers"].append(workers[i].process.pid)
            return False

        while time.monotonic() - t0 < args.seconds:
            time.sleep(0.2)
            poll_fleets()
            supervise()
            now = time.monotonic()
            if killed_at is None and now - t0 >= args.seconds / 2:
                cpu.sample()  # the leader's last figures, before its processes go
                # The first half, before the kill: both workers steady, no start-up in it.
                steady = (cpu.totals(), applied_rows(database) - rows_before, now - t0)
                killed_at = time.monotonic()
                leader.kill()
                print(f"killed the scheduler's worker at {killed_at - t0:.0f} s", flush=True)
                if args.split:  # its centres have no other worker: its supervisor restarts it
                    workers[workers.index(leader)] = back = leader.restarted()
                    all_workers.append(back)
                    cpu.groups["workers"].append(back.process.pid)
            survivors = [w for w in workers if w is not leader]
            if killed_at is not None and took is None and any(
                    w.said("holds the scheduler lock") for w in survivors):  # fmt: skip
                took = time.monotonic() - killed_at
            if took is not None and handover_end is None and (
                    back.said("bridge connected") if args.split else any(w.said_after(
                    "holds the scheduler lock", "bridge connected") for w in survivors)):  # fmt: skip
                handover_end = time.monotonic() + 1.0
        t1, t1_wall = time.monotonic(), datetime.now(UTC)
        for _, conn in fleets:
            conn.send("drain")
        kiosks.stop()
        commands.stop()
        cpu.sample()
        rows_in_run = applied_rows(database) - rows_before
        began = time.monotonic()
        print(f"at the end of the run: {sum(unacked)} events unacked, {sum(connected)} devices "
              f"connected, {sum(dropped)} device connections lost so far", flush=True)  # fmt: skip
        wait_until("every event acknowledged", lambda: supervise() or poll_fleets()[1] == 0
                   and time.monotonic() - began > 2, args.drain_limit)  # fmt: skip
        emitted: set[tuple[str, int, int]] = set()
        for _, conn in fleets:
            conn.send("stop")
        for _, conn in fleets:
            while True:
                message = conn.recv()
                if message[0] == "done":
                    emitted |= {(d, s, q) for d, s, q in message[1]}
                    break
        keys, rows = ledger(database)
        lost = len(emitted - keys)
        doubled = (rows - len(keys)) + len(keys - emitted)
        seconds = t1 - t0
        events_in_run = events_between(database, t0_wall, t1_wall)
        print(f"device connections lost (each reconnected): {sum(dropped)}")
        print(f"events made in all: {len(emitted)}; applied per 10 s of the run: "
              f"{timeline(database, t0_wall, t1_wall)}")  # fmt: skip
        print(f"workers restarted by the bench's supervisor: {len(restarts)} {restarts}; "
              f"resync commands issued: {resyncs(database)}")  # fmt: skip
        if steady is not None:
            used, rows, span = steady
            print(f"first half ({span:.0f} s, both workers): {rows} ledger rows, "
                  f"{rows / span:.0f}/s; CPU per row: workers "
                  f"{used['workers'] / max(rows, 1) * 1e6:.0f} µs, broker "
                  f"{used['broker'] / max(rows, 1) * 1e6:.0f} µs; workers "
                  f"{used['workers'] / span:.2f} cores, web {used['web'] / span:.2f}, "
                  f"broker {used['broker'] / span:.2f}, fleet {used['fleet'] / span:.2f}")  # fmt: skip
        report(args, database, cpu, kiosks, commands, (killed_at, took, handover_end), t0,
               seconds, rows_in_run, events_in_run, lost, doubled)  # fmt: skip
    except BaseException:
        for n, worker in enumerate(workers):
            print(f"--- worker {n}'s last lines:\n" + "".join(worker.lines[-15:]), file=sys.stderr)
        raise
    finally:
        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
            for n, worker in enumerate(all_workers):
                (args.logs / f"worker{n}.log").write_text("".join(worker.lines))
        for process, _ in fleets:
            process.join(10)
            if process.is_alive():
                process.kill()
        stop_locker.set()
        if locker.is_alive():
            locker.join(10)
        for worker in workers:
            worker.stop()
        if gunicorn is not None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(30)
        broker.terminate()
        broker.wait(10)
        database.dispose()


Handover = tuple[float | None, float | None, float | None]  # killed at, took, ended at


def report(args: argparse.Namespace, database: Database, cpu: Cpu, kiosks: KioskLoad,
           commands: Commands, handover: Handover, t0: float, seconds: float, rows_in_run: int,
           events: int, lost: int, doubled: int) -> None:  # fmt: skip
    killed_at, took, handover_end = handover
    n_devices = args.sites * args.devices
    used = cpu.used()
    print(f"run {seconds:.0f} s: {events} events applied ({events / seconds:.0f}/s), "
          f"{rows_in_run} ledger rows applied in the run (births, states, events, replies)")  # fmt: skip
    print("cpu_s " + " ".join(f"{k}={v:.1f}" for k, v in used.items())
          + f" (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus)")  # fmt: skip
    if rows_in_run:
        print(f"worker_cpu_us_per_applied_row={used['workers'] / rows_in_run * 1e6:.0f} "
              f"broker_cpu_us_per_event={used['broker'] / max(events, 1) * 1e6:.0f}")  # fmt: skip
    ok, failed = kiosks.counts()
    if ok:
        print(f"kiosk_requests={ok} failed={failed} rps={ok / seconds:.1f} "
              f"p50_ms={kiosks.percentile(0.5):.0f} p99_ms={kiosks.percentile(0.99):.0f} "
              f"web_cpu_ms_per_request={used['web'] / ok * 1000:.1f}")  # fmt: skip
    inside, outside = commands.split(killed_at, handover_end)
    print(f"commands: {len(outside)} outside the handover, {commands.failed} failed; "
          f"{len(inside)} inside it, max {max((s for _, s, _ in inside), default=0):.0f} ms")  # fmt: skip
    p99 = commands.percentile([s for _, s, _ in outside], 0.99)
    p50 = commands.percentile([s for _, s, _ in outside], 0.50)
    print(f"command_p50_ms={p50:.1f}")
    stages = commands.stages(database, outside)
    names = [*STEPS, *(("commit", "wake") if stages and "commit" in stages[0][2] else ())]
    print("command steps p50/p99 ms: " + " ".join(
        f"{name}={commands.percentile([s[name] for _, _, s in stages], 0.5):.0f}/"
        f"{commands.percentile([s[name] for _, _, s in stages], 0.99):.0f}" for name in names))  # fmt: skip
    slowest = sorted(stages, key=lambda row: -row[1])[:5]
    print("slowest commands: " + "; ".join(
        f"at {issued - t0:.0f} s {ms:.0f} ms (" + " ".join(f"{k} {v:.0f}" for k, v in s.items()) + ")"
        for issued, ms, s in slowest))  # fmt: skip
    takeover = f"{took:.1f}" if took is not None else "none"
    print(
        f"sites={args.sites} devices={n_devices} events_per_s={events / seconds:.0f} "
        f"lost={lost} doubled={doubled} p99_command_ms={p99:.0f} takeover_s={takeover}"
    )


if __name__ == "__main__":
    main()
