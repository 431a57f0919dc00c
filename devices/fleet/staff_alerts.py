"""What the device side tells staff: a device gone offline, a locker fault, refused messages.

Each becomes a :mod:`booking.alerts.operations` alert in the same transaction as the change that caused
it, so the console's live inbox (which reads alerts by id from the database) sees it as soon
as the change commits, whichever process made it. Dedupe keys keep one open alert per cause:
the lending side raises its own alerts for the same doors with :func:`fault_dedupe_key`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity
from booking.core.models.sites import Site
from devices.models.device import Device
from devices.models.faults import FaultKind

log = logging.getLogger(__name__)

KIND_OFFLINE = "device.offline"
KIND_DEAD_LETTER = "device.dead_letter"
KIND_OF_FAULT = {
    FaultKind.FORCED_OPEN: "locker.forced_open",
    FaultKind.DOOR_LEFT_OPEN: "locker.door_left_open",
    FaultKind.JAMMED: "locker.jammed",
    FaultKind.DEVICE_CLOCK: "device.clock",
    FaultKind.SESSION_BEHIND: "device.session_behind",
}
# A door forced open may be a theft in progress; a jam or a door left open can wait a little.
SEVERITY_OF_FAULT = {
    FaultKind.FORCED_OPEN: AlertSeverity.URGENT,
    FaultKind.DOOR_LEFT_OPEN: AlertSeverity.WARNING,
    FaultKind.JAMMED: AlertSeverity.WARNING,
    # Its commands expire by its wrong clock and its readings would be misdated.
    FaultKind.DEVICE_CLOCK: AlertSeverity.WARNING,
    # Nothing it sends is heard until an admin resets the counter.
    FaultKind.SESSION_BEHIND: AlertSeverity.URGENT,
}
_FAULT_WORDS = {
    FaultKind.FORCED_OPEN: "forced open",
    FaultKind.DOOR_LEFT_OPEN: "left open",
    FaultKind.JAMMED: "jammed",
    FaultKind.DEVICE_CLOCK: "clock is wrong",
    FaultKind.SESSION_BEHIND: "session counter went back",
}


def device_subject(device_id: str) -> str:
    return f"device:{device_id}"


def fault_dedupe_key(device_id: str, compartment: int | None, kind: FaultKind | str) -> str:
    """One open alert per door and cause, whichever side (devices, lending) raises it."""
    return f"{FaultKind(kind).value}:{device_id}:{compartment if compartment is not None else '-'}"


def device_went_offline(session: Session, device: Device, now: datetime) -> None:
    """Called by the registry when a device turns offline (Last Will, or silence)."""
    label = device.name or device.device_id
    alerts.raise_alert(
        session,
        site_id=device.site_id,
        kind=KIND_OFFLINE,
        severity=AlertSeverity.WARNING,
        summary=f"{label} ({device.device_id}) went offline",
        params={"device": label, "device_id": device.device_id},
        now=now,
        subject=device_subject(device.device_id),
        dedupe_key=offline_dedupe_key(device.device_id),
    )


def offline_dedupe_key(device_id: str) -> str:
    return f"{KIND_OFFLINE}:{device_id}"


def device_came_back(session: Session, device: Device, now: datetime) -> None:
    """Called by the registry when a device turns online again: its offline alert, if still
    open, resolves by itself and stays in the history with the time the device was away."""
    alerts.resolve_by_itself(
        session,
        site_id=device.site_id,
        dedupe_key=offline_dedupe_key(device.device_id),
        now=now,
        note="The device came back online.",
    )


def device_fault_cleared(session: Session, device_id: str, kind: FaultKind, now: datetime) -> None:
    """Called by the registry when a device-wide fault (its clock, its session counter) goes
    away: its alert resolves by itself and stays in the history."""
    site_id = session.scalar(select(Device.site_id).where(Device.device_id == device_id))
    if site_id is None:
        return
    alerts.resolve_by_itself(
        session,
        site_id=site_id,
        dedupe_key=fault_dedupe_key(device_id, None, kind),
        now=now,
        note=f"The device reported {kind.value} cleared.",
    )


def fault_opened(
    session: Session, device: Device, compartment: int | None, kind: FaultKind, now: datetime
) -> None:
    """Called by the registry when a device reports a new fault."""
    where = f"compartment {compartment}" if compartment is not None else "the device"
    params: dict[str, str | int] = {"device": device.name or device.device_id}
    if compartment is not None:
        params["compartment"] = compartment
    alerts.raise_alert(
        session,
        site_id=device.site_id,
        kind=KIND_OF_FAULT[kind],
        severity=SEVERITY_OF_FAULT[kind],
        summary=f"{device.name or device.device_id}: {where} {_FAULT_WORDS[kind]}",
        params=params,
        now=now,
        subject=device_subject(device.device_id),
        dedupe_key=fault_dedupe_key(device.device_id, compartment, kind),
    )


def message_refused(
    session: Session, *, topic: str, reason: str, device_id: str | None, now: datetime
) -> None:
    """Called for each dead letter: one open alert per site and reason, however many arrive.

    The site is the claimed device's if it is registered, else the topic's site segment; a
    message naming no known site concerns no centre's staff and is only logged.
    """
    site_id = _site_of(session, topic, device_id)
    if site_id is None:
        log.info("dead letter (%s) of no known site: no alert", reason)
        return
    alerts.raise_alert(
        session,
        site_id=site_id,
        kind=KIND_DEAD_LETTER,
        severity=AlertSeverity.WARNING,
        summary=f"Device messages refused ({reason}), first from {device_id or 'unknown'}",
        params={"reason": reason, "device_id": device_id or "?"},
        now=now,
        subject=device_subject(device_id) if device_id else "",
        dedupe_key=f"{KIND_DEAD_LETTER}:{reason}",
    )


def _site_of(session: Session, topic: str, device_id: str | None) -> int | None:
    if device_id:
        found = session.scalar(select(Device.site_id).where(Device.device_id == device_id))
        if found is not None:
            return found
    parts = topic.split("/")
    if len(parts) >= 3 and parts[0] == "linli" and parts[2]:
        return session.scalar(select(Site.id).where(Site.slug == parts[2][:40]))
    return None
