"""`linli demo`: provisioning is idempotent, and the whole demo serves and stops cleanly."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from alembic import command

from booking.core.clock import FrozenClock
from booking.core.db import Base, Database
from booking.demo import centre as demo_centre
from devices.fleet import provisioning
from kiosk import demo, demo_children, demo_fleet, migrate
from kiosk.broker import free_port


def seeded(database: Database, clock: FrozenClock) -> Database:
    with database.write() as session:
        demo_centre.seed(session, now=clock.now())
    return database


def test_provisioning_the_demo_twice_keeps_the_same_passwords(
    database: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    seeded(database, clock)
    devices_file = tmp_path / "demo-devices.json"
    first = demo_fleet.provision(database, clock, devices_file)
    second = demo_fleet.provision(database, clock, devices_file)
    assert [e["device_id"] for e in first] == ["locker-a", "locker-b", "bp-1"]
    assert first == second
    assert json.loads(devices_file.read_text()) == second
    assert devices_file.stat().st_mode & 0o077 == 0


def test_a_device_registered_anew_forgets_its_simulated_state_and_a_known_one_keeps_it(
    database: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    # The simulated lockers keep which tools were taken out; that belongs to the database it
    # happened in. A demo database made afresh registers new lockers, full of their tools.
    seeded(database, clock)
    devices_file, sim_state = tmp_path / "demo-devices.json", tmp_path / "sim-state"
    sim_state.mkdir()
    old_world = [sim_state / name for name in ("locker-a.sqlite3", "locker-a.sqlite3-wal")]
    for path in old_world:
        path.write_bytes(b"a world this database never knew")
    demo_fleet.provision(database, clock, devices_file, sim_state=sim_state)
    assert not any(path.exists() for path in old_world)

    kept = sim_state / "locker-a.sqlite3"
    kept.write_bytes(b"the drill of loan 1 is out")
    demo_fleet.provision(database, clock, devices_file, sim_state=sim_state)
    assert kept.read_bytes() == b"the drill of loan 1 is out"


def test_a_lost_devices_file_gives_the_demo_devices_new_passwords_that_work(
    database: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    seeded(database, clock)
    devices_file = tmp_path / "demo-devices.json"
    first = demo_fleet.provision(database, clock, devices_file)
    devices_file.unlink()
    second = demo_fleet.provision(database, clock, devices_file)
    assert first[0]["password"] != second[0]["password"]
    with database.read() as session:
        hashes = {d.device_id: d.mqtt_password_hash for d, _ in provisioning.list_devices(session)}
    for entry in second:
        assert provisioning.verify_mosquitto_hash(hashes[entry["device_id"]], entry["password"])


def test_the_demo_refuses_a_database_the_migrations_left_incomplete(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'partial.sqlite3'}")
    Base.metadata.tables["sites"].create(database.engine)
    with pytest.raises(SystemExit, match="tables missing"):
        demo.check_schema_complete(database)
    database.dispose()


def prepared_instance(tmp_path: Path) -> tuple[Path, str]:
    """An instance folder whose database has the whole schema, stamped at the head revision.

    Built from the models rather than the migrations, so that this test is about the demo's
    processes; whether the migrations reach the models is the migrations' own test.
    """
    instance = tmp_path / "instance"
    instance.mkdir()
    url = f"sqlite:///{instance / 'linli.sqlite3'}"
    database = Database(url)
    Base.metadata.create_all(database.engine)
    database.dispose()
    command.stamp(migrate.alembic_config(url), "head")
    return instance, url


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        status: int = response.status
        return status


def test_the_demo_serves_kiosk_and_console_and_stops_everything_on_ctrl_c(
    tmp_path: Path,
) -> None:
    instance, url = prepared_instance(tmp_path)
    env = {**os.environ, "LINLI_INSTANCE_PATH": str(instance), "LINLI_DATABASE_URL": url}
    env.pop("LINLI_MQTT_URL", None)
    linli = Path(sys.executable).parent / "linli"
    started = time.monotonic()
    process = subprocess.Popen(
        [str(linli), "demo", "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(output)
        assert time.monotonic() - started < 30, text
        kiosk = re.search(r"Kiosk \(residents\):\s+(\S+)", text)
        staff = re.search(r"Staff console:\s+(\S+)", text)
        assert kiosk and staff, text
        assert get(kiosk.group(1)) == 200
        assert get(staff.group(1)) == 200  # the sign-in page, after a redirect
        assert "13800000001" in text and "linli-admin-2026" in text
        children = descendants(process.pid)
        assert len(children) >= 4, children  # web (+ its 2 workers), worker, simulator, broker
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in children):
            time.sleep(0.1)
        assert not [p for p in children if _alive(p)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def descendants(root: int) -> list[int]:
    """Every process below ``root``, from /proc (children in new sessions included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


# --- supervision and logs ---------------------------------------------------------------------


def start_demo(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[str], str]:
    """`linli demo` in its own instance folder, once it says it serves; and what it printed."""
    instance, url = prepared_instance(tmp_path)
    env = {**os.environ, "LINLI_INSTANCE_PATH": str(instance), "LINLI_DATABASE_URL": url}
    env.pop("LINLI_MQTT_URL", None)
    linli = Path(sys.executable).parent / "linli"
    process = subprocess.Popen(
        [str(linli), "demo", "--port", str(free_port()), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    for line in process.stdout:
        output.append(line)
        if "Ctrl-C stops everything" in line:
            break
    return process, "".join(output)


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def test_when_its_worker_dies_the_demo_stops_everything_and_says_why(tmp_path: Path) -> None:
    process, started = start_demo(tmp_path, "--no-simulator")
    try:
        assert "Ctrl-C stops everything" in started, started
        children = descendants(process.pid)
        workers = [
            pid
            for pid in children
            if any(arg.endswith("/linli") for arg in command_line(pid)[:2])
            and "worker" in command_line(pid)
        ]
        assert len(workers) == 1, [command_line(pid) for pid in children]
        os.kill(workers[0], signal.SIGKILL)
        assert process.wait(timeout=30) == 1
        assert process.stdout is not None
        said = process.stdout.read()
        assert "the demo's worker stopped (killed by signal 9), so the demo stops everything" in (
            said
        )
        assert "worker.log" in said
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in children):
            time.sleep(0.1)
        assert not [command_line(p) for p in children if _alive(p)]  # no half a centre
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_a_process_log_rotates_before_it_grows_past_its_size(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    lines = [f"line {n:05d} " + "x" * 88 for n in range(3000)]  # 100 bytes each, 300 kB
    demo_children.copy_to_rotating_log(
        io.BytesIO("".join(f"{line}\n" for line in lines).encode()), log, 50_000, 2
    )
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["worker.log", "worker.log.1", "worker.log.2"]
    assert all((tmp_path / name).stat().st_size <= 50_000 for name in kept)
    assert log.read_text().splitlines()[-1] == lines[-1]
    # The newest lines, in order, across the current log and its backups.
    newest = (tmp_path / "worker.log.2").read_text() + (tmp_path / "worker.log.1").read_text()
    newest += log.read_text()
    assert newest.splitlines() == lines[-len(newest.splitlines()) :]


def test_the_demo_writes_each_process_log_through_the_rotation(tmp_path: Path) -> None:
    child = demo_children.Child(
        "talker",
        [sys.executable, "-c", "print('你好, worker'); print('bye', flush=True)"],
        tmp_path / "talker.log",
    )
    child.start(dict(os.environ))
    assert child.process is not None
    child.process.wait(timeout=10)
    child.stop()
    assert (tmp_path / "talker.log").read_text(encoding="utf-8") == "你好, worker\nbye\n"
