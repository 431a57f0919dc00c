"""The broker files of a deployment: the bridge account's password, Mosquitto's password
files and ACLs, and the two listeners that use them.

Mosquitto runs with ``per_listener_settings true`` and two listeners, each with its own
accounts (facts of Mosquitto 2.0, checked against the real broker in
tests/ops/test_mosquitto_listeners.py):

- the device listener knows only the devices. ``use_username_as_clientid`` makes every
  client id the device's own id, so no device can take another client's session;
- the server listener (loopback) knows only ``linli-server``: a device's password is refused
  there, so no device can connect with the bridge's client id and take its session. Every
  client id on it belongs to ``linli-server`` (the bridge ``linli-server-<site>``, command
  publishers ``linli-cmd-…``), and no device id may begin with those prefixes
  (:func:`devices.fleet.provisioning.check_device_id`), since client ids are one namespace across
  listeners.

Mosquitto 2.0's ACL file cannot tell a retained publish from another (its rules name topics
and read/write only; ``retain_available`` is global, and status and state must be retained):
the ACL grants devices exactly the six topics they publish, and the server refuses a
retained event when the broker replays it (docs/protocol.md §2).
"""

from __future__ import annotations

import grp
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from sqlalchemy.orm import Session

from devices.fleet import broker_accounts, provisioning
from kiosk.broker import MosquittoBroker, free_port

SERVER_PASSWORD_FILE = "mqtt_server_password"


def url_password(mqtt_url: str | None) -> str | None:
    """The bridge password carried in ``LINLI_MQTT_URL``, if it names the bridge account."""
    if not mqtt_url:
        return None
    parts = urlsplit(mqtt_url)
    if parts.username is None or unquote(parts.username) != provisioning.SERVER_USERNAME:
        return None
    return unquote(parts.password) if parts.password else None


def server_password(instance_path: str, mqtt_url: str | None) -> str:
    """The bridge account's password: from the URL, else kept (0600) in the instance folder."""
    from_url = url_password(mqtt_url)
    if from_url is not None:
        return from_url
    path = Path(instance_path) / SERVER_PASSWORD_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = provisioning.generate_password()
    # Created private before the secret goes in, so it is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password)
    return password


def with_credentials(url: str, username: str, password: str) -> str:
    """``url`` with the given account in it (replacing any it had)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class BrokerFiles:
    """Where the generated files are: one password file and ACL per listener."""

    passwd: Path
    acl: Path
    server_passwd: Path
    server_acl: Path

    @classmethod
    def in_dir(cls, out_dir: Path) -> BrokerFiles:
        return cls(
            out_dir / "passwd", out_dir / "acl", out_dir / "server.passwd", out_dir / "server.acl"
        )


# Where `linli devices mosquitto-config --out` puts them in production (deploy/mosquitto).
PRODUCTION_DIR = Path("/etc/mosquitto/linli")
DEVICE_PORT = 1883
SERVER_PORT = 1884


def write_dynsec_file(session: Session, target: Path, server_pw: str) -> int:
    """Write the dynamic security plugin's starting file (private: it holds password hashes);
    return how many devices it has."""
    devices = [
        (d.device_id, slug, d.name, d.mqtt_password_hash, d.credentials_revoked_at is not None)
        for d, slug in provisioning.list_devices(session)
    ]
    text = json.dumps(broker_accounts.initial_config(server_pw, devices), indent=2) + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(_write_beside(target, text), target)
    return len(devices)


def write_mosquitto_files(session: Session, out_dir: Path, server_pw: str) -> BrokerFiles:
    """Write both listeners' password files and ACLs into ``out_dir`` (private: they name
    every device)."""
    files = BrokerFiles.in_dir(out_dir)
    texts = {
        files.passwd: provisioning.mosquitto_password_file(session, server_password_hash=None),
        files.acl: provisioning.mosquitto_acl(session, server_username=None),
        files.server_passwd: provisioning.server_password_file(
            provisioning.mosquitto_hash(server_pw)
        ),
        files.server_acl: provisioning.server_acl(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    # Write beside and rename, so a broker reloading on SIGHUP never reads half a file; all of
    # them first, so that a refusal leaves every old file in place.
    partials: dict[Path, Path] = {}
    try:
        for target, text in texts.items():
            partials[target] = _write_beside(target, text)
    except BaseException:
        for partial in partials.values():
            partial.unlink(missing_ok=True)
        raise
    for target, partial in partials.items():
        os.replace(partial, target)
    return files


class BrokerFilesError(Exception):
    """The broker's files cannot be written as they must be; nothing was changed."""


def _write_beside(target: Path, text: str) -> Path:
    """``text`` in a new file beside ``target``, with the group and mode ``target`` has.

    Mosquitto reads these files as the ``mosquitto`` user, through their group (``chgrp
    mosquitto``, docs/operations.md): a regenerated file that lost it locks every device out.
    A new file takes its directory's group, mode 0640.
    """
    try:
        before = target.stat()
        group, mode = before.st_gid, stat.S_IMODE(before.st_mode)
    except FileNotFoundError:
        group, mode = target.parent.stat().st_gid, 0o640
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        try:
            if os.fstat(fd).st_gid != group:
                os.fchown(fd, -1, group)
            os.fchmod(fd, mode)
        except PermissionError:
            out.close()
            partial.unlink(missing_ok=True)
            raise BrokerFilesError(
                f"cannot give the new {target.name} the group {_group_name(group)} that "
                f"{target} has, which Mosquitto reads it by: run this as root or as a member of "
                f"that group. The files in {target.parent} were left as they were."
            ) from None
        out.write(text)
    return partial


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def device_listener_options(files: BrokerFiles) -> str:
    """What follows the device listener's ``listener`` line."""
    return (
        "use_username_as_clientid true\n"
        "allow_anonymous false\n"
        f"password_file {files.passwd}\n"
        f"acl_file {files.acl}\n"
    )


def server_listener(files: BrokerFiles, port: int = SERVER_PORT) -> str:
    """The server's listener: loopback only, the bridge account only."""
    return (
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {files.server_passwd}\n"
        f"acl_file {files.server_acl}\n"
    )


def listeners_config(
    files: BrokerFiles, *, device_port: int = DEVICE_PORT, server_port: int = SERVER_PORT
) -> str:
    """The two listeners of a Linli broker as deploy/mosquitto/mosquitto.conf has them; after
    :data:`PER_LISTENER`, which must come before any listener."""
    return (
        f"listener {device_port}\n"
        + device_listener_options(files)
        + server_listener(files, server_port)
    )


# Each listener its own password file and ACL. Mosquitto wants it before any listener.
PER_LISTENER = "per_listener_settings true\n"


class LinliBroker(MosquittoBroker):
    """A Mosquitto of our own (the demo's, a test's) with the production listeners: devices
    on ``port`` (``url``), the server's account on ``server_port``, both on loopback."""

    def __init__(
        self,
        data_dir: Path,
        files: BrokerFiles,
        *,
        port: int | None = None,
        server_port: int | None = None,
    ) -> None:
        self.server_port = server_port or free_port()
        self.server_url = f"mqtt://127.0.0.1:{self.server_port}"
        super().__init__(
            data_dir,
            port=port,
            preamble=PER_LISTENER,
            extra_config=(
                device_listener_options(files)
                + "message_size_limit 8192\n"
                + server_listener(files, self.server_port)
            ),
        )


# Where Debian and Ubuntu install the plugin (package mosquitto); LINLI_DYNSEC_PLUGIN elsewhere.
DYNSEC_PLUGIN_PATHS = (
    "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)


def dynsec_plugin() -> str | None:
    """The dynamic security plugin's library, if this machine has it."""
    configured = os.environ.get("LINLI_DYNSEC_PLUGIN")
    candidates = (configured,) if configured else DYNSEC_PLUGIN_PATHS
    return next((path for path in candidates if path and os.path.exists(path)), None)


def dynsec_config(plugin: str, dynsec_file: Path) -> str:
    """The plugin's lines, before any listener: it keeps every account and ACL of the broker
    (both listeners), so a device's account changes without a reload."""
    return f"per_listener_settings false\nplugin {plugin}\nplugin_opt_config_file {dynsec_file}\n"


def dynsec_listeners(*, device_port: int = DEVICE_PORT, server_port: int = SERVER_PORT) -> str:
    """The two listeners with the plugin: devices, where the username is the client id, and
    the server's own on loopback. The plugin pins each device's client id to its id, so a
    device's password takes no server session on either listener."""
    return (
        f"listener {device_port}\nuse_username_as_clientid true\nlistener {server_port} 127.0.0.1\n"
    )


class DynsecBroker(MosquittoBroker):
    """A Mosquitto of our own (the demo's, a test's) keeping accounts with the dynamic security
    plugin: devices on ``port`` (``url``), the server's account on ``server_port``; the plugin's
    file must exist (:func:`write_dynsec_file`)."""

    def __init__(
        self,
        data_dir: Path,
        dynsec_file: Path,
        plugin: str,
        *,
        port: int | None = None,
        server_port: int | None = None,
    ) -> None:
        self.server_port = server_port or free_port()
        self.server_url = f"mqtt://127.0.0.1:{self.server_port}"
        self.dynsec_file = dynsec_file
        super().__init__(
            data_dir,
            port=port,
            preamble=dynsec_config(plugin, dynsec_file),
            extra_config=(
                "use_username_as_clientid true\n"
                "message_size_limit 8192\n"
                f"listener {self.server_port} 127.0.0.1\n"
            ),
        )
