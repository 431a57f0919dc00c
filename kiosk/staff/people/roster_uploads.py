"""An uploaded roster kept on the server between its dry run and its confirmation, so the
import is of exactly the file that was checked, not of a second upload that may differ.

Each file lies in the instance folder under a random token, readable by this process's user
only, with what the dry run accepted and the file's SHA-256; only the admin who uploaded it
can confirm it, at their own centre. A roster is personal data: a file is deleted once it is
imported, and any older than :data:`LIFETIME` on the next upload.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app

LIFETIME = timedelta(hours=2)
FOLDER = "roster-uploads"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


@dataclass(frozen=True)
class Upload:
    token: str
    data: bytes
    digest: str
    filename: str
    accepted: list[int]


def _folder() -> Path:
    folder = Path(current_app.instance_path) / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _write_private(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save(
    data: bytes, *, filename: str, site_id: int, staff_id: int, accepted: list[int], now: datetime
) -> str:
    """Keep a checked file; returns its token."""
    sweep(now)
    token = secrets.token_urlsafe(24)
    folder = _folder()
    _write_private(folder / f"{token}.bin", data)
    meta = {
        "site_id": site_id, "staff_id": staff_id, "digest": digest_of(data),
        "filename": filename[:200], "uploaded_at": now.isoformat(), "accepted": accepted,
    }  # fmt: skip
    _write_private(folder / f"{token}.json", json.dumps(meta).encode())
    return token


def load(token: str, *, site_id: int, staff_id: int, now: datetime) -> Upload | None:
    """The file kept under ``token`` for this admin at this centre, if it is still there,
    not expired and unchanged on disk; else None."""
    if not _TOKEN.match(token):
        return None
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        data = (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("site_id") != site_id or meta.get("staff_id") != staff_id:
        return None
    if now - datetime.fromisoformat(meta["uploaded_at"]) > LIFETIME:
        discard(token)
        return None
    if digest_of(data) != meta.get("digest"):
        return None
    return Upload(token, data, meta["digest"], meta.get("filename", ""), list(meta["accepted"]))


def replace_accepted(token: str, accepted: list[int]) -> None:
    """A second dry run (at confirmation) found other rows acceptable: confirm those next."""
    path = _folder() / f"{token}.json"
    meta = json.loads(path.read_text())
    meta["accepted"] = accepted
    _write_private(path, json.dumps(meta).encode())


def discard(token: str) -> None:
    if not _TOKEN.match(token):
        return
    for suffix in (".bin", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def sweep(now: datetime) -> None:
    """Delete every kept file older than :data:`LIFETIME` (or unreadable)."""
    for meta_path in _folder().glob("*.json"):
        try:
            uploaded = datetime.fromisoformat(json.loads(meta_path.read_text())["uploaded_at"])
        except (OSError, ValueError, KeyError):
            uploaded = None
        if uploaded is None or now - uploaded > LIFETIME:
            discard(meta_path.stem)
