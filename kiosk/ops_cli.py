"""Operations commands of `linli`: `devices …`, `worker` and `demo` (registered in kiosk/cli.py)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from booking.core.db import Database
from booking.core.errors import DomainError
from devices.fleet import credentials, provisioning
from devices.models.device import DeviceKind
from kiosk import config, extensions, mqtt_config, warm_process
from kiosk.messaging.sms_config import sms_config


def _fail(error: DomainError) -> None:
    click.echo(f"Error: {error.message}", err=True)
    sys.exit(2)


@click.group("devices", cls=AppGroup)
def devices_group() -> None:
    """Lockers and terminals: registration and broker credentials."""


@devices_group.command("add")
@click.option("--site", "site_slug", required=True, help="Site slug, e.g. xinhua.")
@click.option("--id", "device_id", required=True, help="Device id, e.g. locker-a.")
@click.option(
    "--kind",
    required=True,
    type=click.Choice([k.value for k in DeviceKind]),
)
@click.option("--name", default="", help="A name staff recognise.")
@click.option("--compartments", type=int, default=None, help="A locker's compartment count.")
def devices_add(
    site_slug: str, device_id: str, kind: str, name: str, compartments: int | None
) -> None:
    """Register a device and print its broker credentials (shown this once)."""
    try:
        with extensions.database().read() as session:
            site_id = provisioning.site_by_slug(session, site_slug).id
        accounts = extensions.broker_accounts()
        made = credentials.register(
            extensions.database(),
            accounts,
            site_id=site_id,
            device_id=device_id,
            kind=kind,
            name=name,
            compartments=compartments,
            now=extensions.clock().now(),
        )
    except DomainError as error:
        _fail(error)
        return
    _print_credentials(made.device_id, made.site, made.password)
    if not made.immediate:
        click.echo("Run `linli devices mosquitto-config` and reload Mosquitto to let it in.")


@devices_group.command("credentials")
@click.option("--id", "device_id", required=True)
def devices_credentials(device_id: str) -> None:
    """Give a device a new broker password and print it (the old one stops working)."""
    try:
        made = credentials.rotate(
            extensions.database(), extensions.broker_accounts(), device_id=device_id
        )
    except DomainError as error:
        _fail(error)
        return
    _print_credentials(made.device_id, made.site, made.password)
    if not made.immediate:
        click.echo("Run `linli devices mosquitto-config` and reload Mosquitto to apply it.")


@devices_group.command("revoke")
@click.option("--id", "device_id", required=True)
def devices_revoke(device_id: str) -> None:
    """Revoke a device's broker credentials (`credentials` gives it new ones)."""
    try:
        credentials.revoke(
            extensions.database(),
            extensions.broker_accounts(),
            device_id=device_id,
            now=extensions.clock().now(),
        )
    except DomainError as error:
        _fail(error)
        return
    click.echo(f"revoked the credentials of {device_id}")


@devices_group.command("dynsec-init")
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The plugin's file, e.g. /var/lib/mosquitto/dynamic-security.json.",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def devices_dynsec_init(out_file: Path, force: bool) -> None:
    """Write the dynamic security plugin's first file: the server's account (the password of
    LINLI_MQTT_URL, else the instance folder's) and every registered device with its
    current password, each with its own role."""
    server_pw = mqtt_config.server_password(
        current_app.instance_path, current_app.config.get("MQTT_URL")
    )
    if out_file.exists() and not force:
        click.echo(
            f"Error: {out_file} exists: the broker keeps its accounts there. "
            "Use --force to replace it (every change made since is lost).",
            err=True,
        )
        sys.exit(1)
    try:
        with extensions.database().read() as session:
            count = mqtt_config.write_dynsec_file(session, out_file, server_pw)
    except mqtt_config.BrokerFilesError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(f"wrote {out_file} ({provisioning.SERVER_USERNAME} and {count} devices)")
    click.echo(
        "Start (or restart) Mosquitto with the plugin, then set LINLI_BROKER_ACCOUNTS=dynsec."
    )


def _print_credentials(device_id: str, site: str, password: str) -> None:
    click.echo(f"device:    {device_id}")
    click.echo(f"site:      {site}")
    click.echo(f"username:  {device_id}   (also its MQTT client id)")
    click.echo(f"password:  {password}")
    click.echo(f"topics:    linli/v1/{site}/{device_id}/…")
    click.echo("The password is not stored and will not be shown again.")


@devices_group.command("list")
def devices_list() -> None:
    """Every registered device, its site and whether it is online."""
    with extensions.database().read() as session:
        # Read inside the transaction: ending a read-only look expires what it loaded.
        lines = [
            f"{slug:<12} {d.device_id:<16} {d.kind.value:<12} "
            f"{'online' if d.online else 'offline':<8} last seen "
            f"{f'{d.last_seen_at:%Y-%m-%d %H:%M} UTC' if d.last_seen_at else 'never'}  {d.name}"
            for d, slug in provisioning.list_devices(session)
        ]
    click.echo("\n".join(lines) if lines else "no devices registered")


@devices_group.command("mosquitto-config")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the password files and ACLs (e.g. /etc/mosquitto/linli).",
)
def devices_mosquitto_config(out_dir: Path) -> None:
    """Write Mosquitto's password files and ACLs: every device's for the device listener,
    the bridge account's for the server listener."""
    server_pw = mqtt_config.server_password(
        current_app.instance_path, current_app.config.get("MQTT_URL")
    )
    try:
        with extensions.database().read() as session:
            files = mqtt_config.write_mosquitto_files(session, out_dir, server_pw)
            count = len(provisioning.list_devices(session))
    except mqtt_config.BrokerFilesError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(f"wrote {files.passwd} and {files.acl} ({count} devices)")
    click.echo(
        f"wrote {files.server_passwd} and {files.server_acl} ({provisioning.SERVER_USERNAME})"
    )
    click.echo("Reload Mosquitto to apply: systemctl reload mosquitto (or kill -HUP its pid).")


@click.command("worker")
@with_appcontext
@click.option(
    "--no-wait",
    is_flag=True,
    help="SQLite: refuse to start when another worker holds the lease, instead of waiting.",
)
def worker_command(no_wait: bool) -> None:
    """Run the scheduler and the MQTT bridge: one worker on SQLite; on PostgreSQL several may
    share the device traffic, one of them running the scheduler (docs/operations.md)."""
    from kiosk.worker import Worker, WorkerError

    try:
        periods = config.retention_periods(current_app.config)
        only = config.worker_sites(current_app.config)
        # Checked here, before the lease: a wrong LINLI_SMS_* stops the worker with its name.
        sms_config(os.environ)
    except config.ConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("kiosk.worker").info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    warm_process.freeze_when_warm()
    worker = Worker(
        worker_database(extensions.database(), only),
        extensions.clock(),
        mqtt_url=current_app.config.get("MQTT_URL"),
        sites=only,
        retention=periods,
    )
    try:
        status = worker.run(stop, wait_for_lease=not no_wait)
    except WorkerError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    sys.exit(status)


def worker_database(database: Database, only: list[str] | None) -> Database:
    """The worker's database: on PostgreSQL a pool of a fixed size, whatever its centres.

    Its bridges commit through a few shared committer threads and one command sender serves
    all its centres (kiosk/worker.py, ``Shared``), so it needs the committers' connections,
    the sender's and the scheduler's, not two a centre (docs/scaling.md). ``only`` is kept
    for the callers; the pool no longer depends on it.
    """
    from devices.ingest.committers import COMMITTER_THREADS, REPLY_COMMITTERS

    if database.engine.dialect.name != "postgresql":
        return database  # one writer anyway; SQLite's pool is per file
    committers = COMMITTER_THREADS + REPLY_COMMITTERS
    return Database(database.url, pool_size=committers + WORKER_OTHER_CONNECTIONS,
                    max_overflow=WORKER_OVERFLOW)  # fmt: skip


# The command sender (1), the scheduler's jobs and the lease or link beats beside them.
WORKER_OTHER_CONNECTIONS = 4
WORKER_OVERFLOW = 5


@click.command("demo")
@click.option("--port", type=int, default=None, help="Web port (default LINLI_PORT, else 5000).")
@click.option(
    "--exit-after-ready",
    is_flag=True,
    help="Stop everything once the kiosk answers (for smoke tests).",
)
@click.option("--no-simulator", is_flag=True, help="Do not start the simulated devices.")
@click.option(
    "--district",
    is_flag=True,
    help="Three centres of one district on one server (one web port), a district admin.",
)
@with_appcontext
def demo_command(
    port: int | None, exit_after_ready: bool, no_simulator: bool, district: bool
) -> None:
    """Run a whole demo centre (or with --district, a district of three): web, worker, broker
    and simulated devices."""
    from kiosk import demo

    status = demo.run(
        database_url=current_app.config["DATABASE_URL"],
        database=extensions.database(),
        clock=extensions.clock(),
        instance_path=current_app.instance_path,
        mqtt_url=current_app.config.get("MQTT_URL"),
        port=demo.choose_port(port),
        exit_after_ready=exit_after_ready,
        with_simulator=not no_simulator,
        echo=click.echo,
        district=district,
    )
    sys.exit(status)
