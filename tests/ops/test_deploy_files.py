"""The files in deploy/ work where docs/operations.md tells an operator to put them."""

from __future__ import annotations

import configparser
import getpass
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from booking.core.db import Base, Database
from kiosk.broker import free_port, mosquitto_binary, wait_for_port

DEPLOY = Path(__file__).parents[2] / "deploy"
OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"

# /etc/mosquitto/mosquitto.conf as Debian 12's mosquitto package installs it.
DEBIAN_MAIN_CONFIG = """\
# Place your local configuration in /etc/mosquitto/conf.d/
pid_file {root}/mosquitto.pid

persistence true
persistence_location {root}/lib/

log_dest file {root}/mosquitto.log

include_dir {root}/conf.d
"""


def installed_like_debian(root: Path) -> tuple[Path, list[int]]:
    """Debian's main config in ``root``, with deploy/mosquitto/mosquitto.conf in its conf.d as
    the operations guide says, its files and ports moved into ``root``; the ports."""
    (root / "lib").mkdir()
    (root / "conf.d").mkdir()
    main = root / "mosquitto.conf"
    # As root, Mosquitto switches to the `mosquitto` user, who cannot read a private tmp dir.
    main.write_text(DEBIAN_MAIN_CONFIG.format(root=root) + f"user {getpass.getuser()}\n")
    ours = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text()
    ports: list[int] = []

    def local_listener(match: re.Match[str]) -> str:
        ports.append(free_port())
        return f"listener {ports[-1]} 127.0.0.1"

    ours = re.sub(r"(?m)^listener \d+(?: \S+)?$", local_listener, ours)
    ours = ours.replace("/etc/mosquitto/linli/", f"{root}/linli/")
    (root / "linli").mkdir()
    for name in re.findall(rf"(?m)^(?:password_file|acl_file) {root}/linli/(\S+)$", ours):
        (root / "linli" / name).write_text("")
    (root / "conf.d" / "linli.conf").write_text(ours)
    return main, ports


def test_the_broker_config_starts_mosquitto_from_debians_conf_d(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        pytest.skip("Mosquitto not installed")
    main, ports = installed_like_debian(tmp_path)
    assert ports, "no listener in deploy/mosquitto/mosquitto.conf"
    broker = subprocess.Popen(
        [str(mosquitto_binary()), "-c", str(main)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        try:
            for port in ports:
                wait_for_port(port)
        except TimeoutError:
            broker.kill()
            said, _ = broker.communicate()
            log = tmp_path / "mosquitto.log"
            pytest.fail(f"Mosquitto did not start: {said}{log.read_text() if log.exists() else ''}")
        assert broker.poll() is None
    finally:
        if broker.poll() is None:
            broker.terminate()
        if broker.stdout is not None and not broker.stdout.closed:
            broker.communicate(timeout=10)


# --- systemd ---------------------------------------------------------------------------------


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys as systemd spells them
    parser.read(DEPLOY / "systemd" / name)
    return parser


def test_the_guide_installs_the_units_in_deploy() -> None:
    guide = OPERATIONS.read_text()
    for name in ("linli-web.service", "linli-worker.service"):
        assert f"deploy/systemd/{name}" in guide
        service = unit(name)["Service"]
        assert service["EnvironmentFile"] == "/etc/linli/env"
        assert service["Restart"] == "always"


def answers(url: str, *, within: float) -> bool:
    """Whether ``url`` gives any HTTP answer (a 503 too: it names what is down) in time."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=max(0.1, deadline - time.monotonic())):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return False


def test_the_web_unit_keeps_answering_while_consoles_hold_requests_open(tmp_path: Path) -> None:
    """Each open staff console holds one request for a minute at a time (its alerts stream).
    Twice as many held requests as the unit has processes must leave the site answering."""
    argv = shlex.split(unit("linli-web.service")["Service"]["ExecStart"])
    assert Path(argv[0]).name == "gunicorn"
    port = free_port()
    argv[0] = str(Path(sys.executable).parent / "gunicorn")
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    workers = int(argv[argv.index("--workers") + 1])
    database = Database(f"sqlite:///{tmp_path / 'linli.sqlite3'}")
    Base.metadata.create_all(database.engine)
    database.dispose()
    env = {
        **os.environ,
        "LINLI_DATABASE_URL": f"sqlite:///{tmp_path / 'linli.sqlite3'}",
        "LINLI_INSTANCE_PATH": str(tmp_path),
        "LINLI_SECRET_KEY": "test",
    }
    env.pop("LINLI_MQTT_URL", None)
    web = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    held: list[socket.socket] = []
    try:
        answers(f"http://127.0.0.1:{port}/healthz", within=30)  # every process booted
        for _ in range(2 * workers):
            # A request begun and not finished keeps its handler busy, as a stream does.
            conn = socket.create_connection(("127.0.0.1", port))
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: kiosk\r\n")
            held.append(conn)
        time.sleep(0.5)
        assert answers(f"http://127.0.0.1:{port}/healthz", within=5)
    finally:
        for conn in held:
            conn.close()
        web.terminate()
        web.wait(30)
