"""Provisioning devices: registration, broker passwords and the Mosquitto files that enforce them.

Every device signs in to the broker as itself (username = client id = ``device_id``) and the
ACL lets it touch only its own topics, so one stolen locker cannot open another locker or
report readings in a neighbour's name. The password is shown once at registration; only a
Mosquitto-compatible hash is stored, so the password file can be regenerated at any time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import Conflict, InvalidInput, NotFound
from booking.core.models.sites import Site
from devices.models.compartments import Compartment
from devices.models.device import Device, DeviceKind

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# `linli/v1/{site}/server/status` is the server's own topic: a device called "server" could
# publish the server's birth and death.
RESERVED_DEVICE_IDS = frozenset({"server"})
SERVER_USERNAME = "linli-server"
# The server's client ids (the bridge `linli-server-<site>`, command publishers `linli-cmd-…`).
# Client ids are one namespace across the broker's listeners, and a device's is its id: a
# device named like one could take the server's session.
RESERVED_DEVICE_ID_PREFIXES = ("linli-server", "linli-cmd")
MAX_NAME_LENGTH = 100
# As devices.commands.operations and booking.admin.tools: the protocol's highest compartment.
MAX_COMPARTMENTS = 64

# Mosquitto 2.0's own choice (mosquitto_passwd): PBKDF2-HMAC-SHA512, 101 rounds, 12-byte salt,
# written as `$7$<iterations>$<base64 salt>$<base64 hash>`. The password is 24 random bytes,
# so the low round count costs nothing in strength.
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12
PASSWORD_BYTES = 24

DEVICE_WRITES = ("status", "birth", "state", "event", "reply", "heartbeat")
DEVICE_READS = ("cmd", "ack")


def generate_password() -> str:
    """A random broker password (URL-safe, so it can sit in an ``mqtt://`` URL unquoted).

    Never one that begins with ``-``: the device sheet's simulator command (and any command
    line a technician types it into) would read ``--password -x…`` as a missing value and
    another option; the first-day drill in CI failed so, once in 64 runs."""
    while (password := secrets.token_urlsafe(PASSWORD_BYTES)).startswith("-"):
        pass
    return password


def mosquitto_hash(password: str, *, salt: bytes | None = None) -> str:
    """Hash ``password`` exactly as ``mosquitto_passwd`` of Mosquitto 2.0 does."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    return (
        f"$7${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}"
        f"${base64.b64encode(digest).decode()}"
    )


def verify_mosquitto_hash(stored: str, password: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (for tests and for `devices credentials`)."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    try:
        iterations = int(parts[2])
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return hmac.compare_digest(digest, expected)


def check_device_id(device_id: str) -> str:
    if not ID_PATTERN.match(device_id):
        raise InvalidInput(
            "device id must be 1-40 of a-z, 0-9 and '-', starting with a letter or digit",
            field="device_id",
        )
    if device_id in RESERVED_DEVICE_IDS or device_id.startswith(RESERVED_DEVICE_ID_PREFIXES):
        raise InvalidInput(f"device id {device_id!r} is reserved", field="device_id")
    return device_id


def check_kind(kind: str) -> DeviceKind:
    try:
        return DeviceKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in DeviceKind)
        raise InvalidInput(f"device kind must be one of: {choices}", field="kind") from None


def site_by_slug(session: Session, slug: str) -> Site:
    site = session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise NotFound(f"no site {slug!r}", field="site")
    return site


def check_compartments(kind: DeviceKind, compartments: int | None) -> int | None:
    """A locker's compartment count (1 to 64, or None: known from its birth); none for others."""
    if kind is not DeviceKind.LOCKER:
        if compartments is not None:
            raise InvalidInput("only a locker has compartments", field="compartments")
        return None
    if compartments is None:
        return None
    if isinstance(compartments, bool) or not isinstance(compartments, int):
        raise InvalidInput("compartments must be a whole number", field="compartments")
    if not 1 <= compartments <= MAX_COMPARTMENTS:
        raise InvalidInput(
            f"a locker has 1 to {MAX_COMPARTMENTS} compartments", field="compartments"
        )
    return compartments


def register_device(
    session: Session,
    site_id: int,
    device_id: str,
    kind: DeviceKind | str,
    name: str,
    now: datetime,
    *,
    compartments: int | None = None,
    password: str | None = None,
) -> tuple[Device, str]:
    """Register a device; return it with its broker password, which is never stored in clear.

    A locker registered with its compartment count gets its compartments at once (their state
    unknown until it reports), so staff can place tools in them before it first connects.
    """
    device_id = check_device_id(device_id)
    device_kind = check_kind(kind)
    count = check_compartments(device_kind, compartments)
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name must be at most {MAX_NAME_LENGTH} characters", field="name")
    if session.get(Site, site_id) is None:
        raise NotFound(f"no site with id {site_id}", field="site")
    if session.scalar(select(Device.id).where(Device.device_id == device_id)) is not None:
        raise Conflict(f"device {device_id!r} is already registered", field="device_id")
    password = password or generate_password()
    device = Device(
        site_id=site_id,
        device_id=device_id,
        kind=device_kind,
        name=name or device_id,
        mqtt_password_hash=mosquitto_hash(password),
        # What its birth will say; until then the console offers these compartments for tools.
        capabilities={"compartments": count} if count is not None else {},
        online=False,
        created_at=now,
    )
    session.add(device)
    session.flush()
    for n in range(1, (count or 0) + 1):
        session.add(Compartment.unheard(device_id, n, now))
    session.flush()
    return device, password


def find_device(session: Session, device_id: str, site_id: int | None = None) -> Device:
    """A registered device (of ``site_id``, when given: staff see only their centre's)."""
    device = session.scalar(select(Device).where(Device.device_id == device_id))
    if device is None or (site_id is not None and device.site_id != site_id):
        raise NotFound(f"no device {device_id!r}", field="device_id")
    return device


def rotate_password(
    session: Session, device_id: str, site_id: int | None = None
) -> tuple[Device, str]:
    """Give a device a new broker password (and lift a revocation); the old one stops
    working as soon as the broker learns it (devices.fleet.credentials)."""
    device = find_device(session, device_id, site_id)
    password = generate_password()
    device.new_credentials(mosquitto_hash(password))
    session.flush()
    return device, password


def revoke_credentials(
    session: Session, device_id: str, now: datetime, site_id: int | None = None
) -> Device:
    """The device may no longer sign in to the broker; its history stays."""
    device = find_device(session, device_id, site_id)
    device.revoke_credentials(now)
    session.flush()
    return device


def list_devices(session: Session) -> list[tuple[Device, str]]:
    """Every device with its site's slug, by site then id."""
    rows = session.execute(
        select(Device, Site.slug)
        .join(Site, Site.id == Device.site_id)
        .order_by(Site.slug, Device.device_id)
    ).all()
    return [(device, slug) for device, slug in rows]


def mosquitto_password_file(
    session: Session, *, server_username: str = SERVER_USERNAME, server_password_hash: str | None
) -> str:
    """Mosquitto's ``password_file``: one ``user:hash`` line per device, plus the bridge account."""
    lines = []
    if server_password_hash is not None:
        lines.append(f"{server_username}:{server_password_hash}")
    for device, _slug in list_devices(session):
        if device.credentials_revoked_at is not None:
            continue
        lines.append(f"{device.device_id}:{device.mqtt_password_hash}")
    return "\n".join(lines) + "\n"


def mosquitto_acl(session: Session, server_username: str | None = SERVER_USERNAME) -> str:
    """Mosquitto's ``acl_file``: each device writes and reads only its own topics (and the
    bridge account everything under ``linli/v1``, unless ``server_username`` is None: the
    device listener's ACL, where the server has no account).

    Mosquitto 2.0's ACL cannot forbid a retained publish on one topic and allow it on
    another, so a device's six topics are granted alike; the server refuses a retained
    event (docs/protocol.md §2).
    """
    out = [
        "# Generated by `linli devices mosquitto-config`; regenerate, do not edit.",
        "# Anything not allowed here is denied.",
    ]
    if server_username is not None:
        out += ["", f"user {server_username}", "topic readwrite linli/v1/#"]
    for device, slug in list_devices(session):
        if device.credentials_revoked_at is not None:
            continue
        prefix = f"linli/v1/{slug}/{device.device_id}"
        out += ["", f"user {device.device_id}"]
        out += [f"topic write {prefix}/{suffix}" for suffix in DEVICE_WRITES]
        out += [f"topic read {prefix}/{suffix}" for suffix in DEVICE_READS]
        out.append(f"topic read linli/v1/{slug}/server/status")
    return "\n".join(out) + "\n"


def server_password_file(server_password_hash: str, server_username: str = SERVER_USERNAME) -> str:
    """The server listener's ``password_file``: the bridge account alone."""
    return f"{server_username}:{server_password_hash}\n"


def server_acl(server_username: str = SERVER_USERNAME) -> str:
    """The server listener's ``acl_file``: the bridge account reads and writes ``linli/v1``."""
    return (
        "# Generated by `linli devices mosquitto-config`; regenerate, do not edit.\n"
        f"user {server_username}\ntopic readwrite linli/v1/#\n"
    )
