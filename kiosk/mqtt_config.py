"""The broker files of a deployment: the bridge account's password and Mosquitto's passwd + acl."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from sqlalchemy.orm import Session

from devices import provisioning

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
    path.parent.mkdir(parents=True, exist_ok=True)
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


def write_mosquitto_files(session: Session, out_dir: Path, server_pw: str) -> tuple[Path, Path]:
    """Write ``passwd`` and ``acl`` into ``out_dir`` (private: they name every device)."""
    passwd = provisioning.mosquitto_password_file(
        session, server_password_hash=provisioning.mosquitto_hash(server_pw)
    )
    acl = provisioning.mosquitto_acl(session)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("passwd", passwd), ("acl", acl)):
        target = out_dir / name
        # Write beside and rename, so a broker reloading on SIGHUP never reads half a file.
        partial = out_dir / f".{name}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(partial, target)
        written.append(target)
    return written[0], written[1]
