"""Pairing a kiosk screen with the reader beside it.

Staff ask for a pairing code on the reader's page in the console (:func:`offer_code`), walk
to the kiosk, open its setup page and type the code there (:func:`redeem_code`); the kiosk's
browser then keeps the reader's id in a signed cookie (kiosk/touch/reader). A code is eight
digits, kept only hashed, good for ten minutes and for one screen.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import InvalidInput, NotFound
from booking.people.models.staff import StaffAccount
from devices.models.device import Device, DeviceKind

CODE_LIFE = timedelta(minutes=10)
CODE_DIGITS = 8


class PairingCodeWrong(InvalidInput):
    """No reader of this site waits for that code (mistyped, used, or over ten minutes old)."""

    code = "pairing_code_wrong"


class NotAReader(NotFound):
    code = "not_a_reader"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def reader(session: Session, *, site_id: int, device_id: str) -> Device:
    """The site's kiosk reader of that id, whose credentials stand; :class:`NotAReader` else."""
    device = session.scalar(
        select(Device).where(Device.device_id == device_id, Device.site_id == site_id)
    )
    if (
        device is None
        or device.kind is not DeviceKind.KIOSK_READER
        or device.credentials_revoked_at is not None
    ):
        raise NotAReader("no such kiosk reader")
    return device


def offer_code(
    session: Session, *, site_id: int, device_id: str, staff_id: int, now: datetime
) -> str:
    """A new pairing code for the reader (replacing any earlier one), shown once to staff."""
    device = reader(session, site_id=site_id, device_id=device_id)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    device.offer_pairing(_hash(code), now + CODE_LIFE)
    staff = session.get_one(StaffAccount, staff_id)
    staff.work_at(site_id)  # audited at the reader's centre, which may not be staff's home
    audit.record_staff(
        session, staff, action="device.pairing_offered", now=now, subject=f"device:{device_id}"
    )
    return code


def redeem_code(session: Session, *, site_id: int, code: str, now: datetime) -> Device:
    """The reader waiting for ``code``; its offer ends, so the code pairs one screen only."""
    code = (code or "").strip()
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise PairingCodeWrong("a pairing code is eight digits", field="code")
    waiting = session.scalars(
        select(Device).where(
            Device.site_id == site_id,
            Device.kind == DeviceKind.KIOSK_READER,
            Device.pairing_code_hash.is_not(None),
        )
    ).all()
    wanted = _hash(code)
    for device in waiting:
        live = device.pairing_code_expires_at is not None and now < device.pairing_code_expires_at
        if live and hmac.compare_digest(device.pairing_code_hash or "", wanted):
            device.end_pairing_offer()
            audit.record(
                session, action="device.paired", actor="kiosk", site_id=site_id, now=now,
                subject=f"device:{device.device_id}", detail={},
            )  # fmt: skip
            return device
    raise PairingCodeWrong("no reader waits for that code", field="code")
