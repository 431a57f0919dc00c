"""The blood-pressure terminal's events (docs/protocol.md §8), handed to :mod:`booking.health.operations`.

Called by the ingest inside its transaction, once per newly applied event: the ledger's
(device, session, seq) already makes a re-sent event a no-op, and the reading's own identity
(device, measured_at) guards a copy that arrives under a new sequence number.

A refused reading is answered, not raised: raising would dead-letter the payload, and a
dead letter keeps the raw message, values included. Log lines name the device and the
outcome only, never a value or a card number.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from booking.health import pairing as health_pairing
from booking.people import cards
from devices.ingest.reactions import Handlers
from devices.models.device import Device, DeviceKind
from devices.protocol.messages import Event, parse_ts

log = logging.getLogger(__name__)


def register(handlers: Handlers) -> None:
    handlers.register("card_read", on_card_read)
    handlers.register("measurement_started", on_measurement_started)
    handlers.register("reading", on_reading)
    handlers.register("measurement_error", on_measurement_error)


def _is_terminal(device: Device, event: Event) -> bool:
    # The schema lets any device send any event type; only a terminal's are health events.
    # A kiosk reader's card reads are its own handler's (devices.kiosk_reader.events).
    if device.kind is DeviceKind.KIOSK_READER and event.type == "card_read":
        return False
    if device.kind is not DeviceKind.BP_TERMINAL:
        log.warning("%s from %s ignored: not a BP terminal", event.type, device.device_id)
        return False
    return True


def on_card_read(session: Session, device: Device, event: Event, now: datetime) -> None:
    if not _is_terminal(device, event):
        return
    card_id = str(event.fields["card_id"])
    # Staff waiting to bind a card at this terminal take the read; no measurement pairs.
    bind = cards.card_read(
        session, site_id=device.site_id, device_id=device.device_id, card_id=card_id, now=now
    )
    if bind is not None:
        log.info("card read at %s: %s", device.device_id, bind.bind.status.value)
        return
    resident = health_pairing.card_read(
        session,
        site_id=device.site_id,
        device_id=device.device_id,
        card_id=card_id,
        now=now,
    )
    log.info("card read at %s: %s", device.device_id, "known" if resident else "unknown")


def on_measurement_started(session: Session, device: Device, event: Event, now: datetime) -> None:
    if _is_terminal(device, event):
        health_pairing.measurement_started(session, device_id=device.device_id, now=now)


def on_measurement_error(session: Session, device: Device, event: Event, now: datetime) -> None:
    if not _is_terminal(device, event):
        return
    code = str(event.fields["code"])
    health_pairing.measurement_failed(session, device_id=device.device_id, code=code, now=now)
    log.info("measurement error at %s: %s", device.device_id, code)


def on_reading(session: Session, device: Device, event: Event, now: datetime) -> None:
    if not _is_terminal(device, event):
        return
    fields = event.fields
    card = fields.get("card_id")
    outcome = health_pairing.reading_received(
        session,
        site_id=device.site_id,
        device_id=device.device_id,
        card_id=card if isinstance(card, str) else None,
        now=now,
        systolic=fields["systolic"],
        diastolic=fields["diastolic"],
        mean_arterial_pressure=fields["mean_arterial_pressure"],
        unit=fields["unit"],
        pulse=fields["pulse"],
        flags=fields["flags"],
        measured_at=parse_ts(str(fields["measured_at"])),
    )
    log.info(
        "reading at %s: %s%s",
        device.device_id,
        outcome.result,
        f" ({outcome.reason})" if outcome.reason else "",
    )
