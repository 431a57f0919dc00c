"""`linli demo`: a whole demo centre on one machine, from one command.

It migrates and seeds the database, provisions the demo devices (idempotently), starts a
broker unless ``LINLI_MQTT_URL`` names one, then runs the three production processes the
way production runs them (gunicorn with two workers, one ``linli worker``, the simulated
fleet) and prints where to go and how to sign in. Ctrl-C stops them all.

The broker is our own Mosquitto when installed: with its dynamic security plugin when
present (accounts from the registry, and devices added in the console connect at once), else
with a password file and ACL generated from the registry, so the demo exercises the real
credentials; without Mosquitto, the embedded amqtt broker, which accepts anyone.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import inspect

from booking.core.clock import Clock
from booking.core.db import Base, Database
from booking.demo import centre as demo_centre
from booking.demo import district as demo_district
from booking.demo import past_bookings
from devices.fleet import provisioning
from kiosk import migrate, mqtt_config
from kiosk.broker import (
    EmbeddedBroker,
    RunningBroker,
    free_port,
    mosquitto_binary,
)
from kiosk.demo_children import Child, simulator_command, web_command
from kiosk.demo_fleet import devices_file_of, provision, sim_state_of

READY_TIMEOUT = 30.0


# --- preparing the database ------------------------------------------------------------------


def check_schema_complete(database: Database) -> None:
    """After migrating, every table the code knows must exist, or a process fails later."""
    present = set(inspect(database.engine).get_table_names())
    missing = sorted(set(Base.metadata.tables) - present)
    if missing:
        raise SystemExit(
            "the migrations are behind the models; tables missing after `linli db upgrade`: "
            + ", ".join(missing)
        )


# --- the broker --------------------------------------------------------------------------------


@dataclass
class DemoBroker:
    device_url: str  # where the devices connect (username = client id)
    server_url: str  # where the worker and the web connect, as linli-server
    running: RunningBroker | None = None
    description: str = ""
    # How the console gives devices accounts (LINLI_BROKER_ACCOUNTS): at once with the plugin.
    accounts: str = "files"

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()


def start_broker(
    database: Database, instance: Path, configured_url: str | None, server_pw: str
) -> DemoBroker:
    if configured_url:
        return DemoBroker(
            configured_url,
            configured_url,
            None,
            f"the broker at {configured_url}",
            accounts=os.environ.get("LINLI_BROKER_ACCOUNTS", "files"),
        )
    if mosquitto_binary() is None:
        embedded = EmbeddedBroker().start()
        return DemoBroker(
            embedded.url, embedded.url, embedded, "embedded amqtt broker (no passwords)"
        )
    data = instance / "demo-mosquitto"
    plugin = mqtt_config.dynsec_plugin()
    if plugin is not None:
        # The registry is the truth: the plugin's file is rewritten from it at each start, and
        # the console changes accounts through the plugin while the demo runs.
        dynsec_file = data / "dynamic-security.json"
        with database.read() as session:
            mqtt_config.write_dynsec_file(session, dynsec_file, server_pw)
        dynsec = mqtt_config.DynsecBroker(data, dynsec_file, plugin)
        dynsec.start()
        return DemoBroker(
            dynsec.url,
            mqtt_config.with_credentials(
                dynsec.server_url, provisioning.SERVER_USERNAME, server_pw
            ),
            dynsec,
            f"Mosquitto on {dynsec.url} (dynamic security: devices added in the console "
            "connect at once)",
            accounts="dynsec",
        )
    with database.read() as session:
        files = mqtt_config.write_mosquitto_files(session, data, server_pw)
    # The listeners of deploy/mosquitto/mosquitto.conf: devices where the username is the
    # client id, the server's several clients on a loopback listener of their own account.
    broker = mqtt_config.LinliBroker(data, files)
    broker.start()
    server_port = broker.server_port
    server_url = mqtt_config.with_credentials(
        f"mqtt://127.0.0.1:{server_port}", provisioning.SERVER_USERNAME, server_pw
    )
    return DemoBroker(broker.url, server_url, broker, f"Mosquitto on {broker.url} (passwords)")


@dataclass
class Demo:
    children: list[Child] = field(default_factory=list)
    broker: DemoBroker | None = None

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        if self.broker is not None:
            self.broker.stop()


def first_stopped(demo: Demo) -> str | None:
    """Why the demo must stop, when one of its processes has: what stopped, and its log.

    Without its worker a centre still takes bookings and offers tools, but nothing follows
    them up (no reminders, no releases, no locker replies recorded); without its web or
    simulator it is no demo. Restarting one part hides the failure, so the demo stops whole.
    """
    for child in demo.children:
        status = child.exited()
        if status is None:
            continue
        if child.log_copier is not None:
            child.log_copier.join(1.0)  # let its last lines reach the log
        how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        return (
            f"the demo's {child.name} stopped ({how}), so the demo stops everything: it "
            f"does not serve a centre without its {child.name}.\n"
            f"The last lines of its log ({child.log_path}):\n{child.log_tail()}"
        )
    return None


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until_ready(url: str, demo: Demo, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stopped = first_stopped(demo)
        if stopped is not None:
            raise SystemExit(stopped)
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"the web server did not answer {url} within {timeout:.0f} s")


def run(
    *,
    database_url: str,
    database: Database,
    clock: Clock,
    instance_path: str,
    mqtt_url: str | None,
    port: int,
    exit_after_ready: bool,
    with_simulator: bool,
    echo: Callable[[str], None],
    district: bool = False,
) -> int:
    """The demo centre, or the district's three: a web and a simulated fleet per centre (ports
    from ``port``; each centre's start-up adds to the wait), one worker bridging them all."""
    instance = Path(instance_path)
    logs = instance / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(database_url)
    check_schema_complete(database)
    centres = demo_district.CENTRES if district else (demo_district.FIRST,)
    with database.write() as session:
        seed = demo_district.seed if district else demo_centre.seed
        logins = seed(session, now=clock.now())
        past_bookings.seed_history(session, now=clock.now())  # past bookings for the insights
    for centre in centres:
        provision(
            database, clock, devices_file_of(instance, centre), centre,
            sim_state_of(instance, centre),
        )  # fmt: skip
    server_pw = mqtt_config.server_password(instance_path, mqtt_url)

    demo = Demo()
    stopping = False

    def on_signal(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        demo.broker = start_broker(database, instance, mqtt_url, server_pw)
        echo(f"broker: {demo.broker.description}")
        bin_dir = Path(sys.executable).parent
        env = {
            **os.environ,
            "LINLI_INSTANCE_PATH": str(instance),
            "LINLI_DATABASE_URL": database_url,
            "LINLI_MQTT_URL": demo.broker.server_url,
            "LINLI_BROKER_ACCOUNTS": demo.broker.accounts,
            "LINLI_DEVICE_BROKER_URL": demo.broker.device_url,
            # The server's own centre: a kiosk screen not set up for another serves it.
            "LINLI_SITE": demo_centre.SITE_SLUG,
            # On this machine only, over plain HTTP: no warning about the missing TLS.
            "LINLI_DEMO": "true",
            "PYTHONUNBUFFERED": "1",
        }
        # One web app serves every centre's kiosk screens, phones and console (issue 18).
        demo.children.append(Child("web", web_command(bin_dir, port), logs / "web.log"))
        demo.children.append(
            Child(
                "worker",
                # One worker bridges every centre's devices and runs the one scheduler.
                [str(bin_dir / "linli"), "worker"],
                logs / "worker.log",
            )
        )
        if with_simulator:
            for number, centre in enumerate(centres):
                name = "simulator" if number == 0 else f"simulator-{centre.slug}"
                demo.children.append(
                    Child(
                        name,
                        simulator_command(
                            bin_dir,
                            demo.broker.device_url,
                            centre.slug,
                            sim_state_of(instance, centre),
                            devices_file_of(instance, centre),
                        ),
                        logs / f"{name}.log",
                    )
                )
        for child in demo.children:
            child.start(env)
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{base}/healthz", demo, READY_TIMEOUT * len(centres))
        echo("")
        echo(f"  Kiosk (residents):  {base}/kiosk/   Phone: {base}/m/")
        if district:
            echo(f"    that is {centres[0].name_en}'s; for another centre's kiosk screen, sign in")
            echo(
                "    to the console as its admin, then Devices → Use this browser as a kiosk screen"
            )
        echo(f"  Staff console{' (every centre)' if district else ''}:      {base}/staff/")
        echo("")
        echo("  Demo logins:")
        for login in logins:
            echo(f"    {login.who:<24} {login.login:<14} {login.secret}")
        echo("")
        echo(f"  Logs: {logs}/  (web, worker, simulator)")
        if exit_after_ready:
            return 0
        echo("  Ctrl-C stops everything.")
        while True:
            stopped = first_stopped(demo)
            if stopped is not None:
                echo(stopped)
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        echo("stopping…")
        return 0
    finally:
        # A second Ctrl-C during the stop must not leave children behind.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        demo.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        echo("demo stopped")


def choose_port(requested: int | None) -> int:
    if requested:
        return requested
    env_port = os.environ.get("LINLI_PORT")
    if env_port:
        return int(env_port)
    return 5000 if port_is_free(5000) else free_port()
