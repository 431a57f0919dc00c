"""The kiosk reader's events (docs/protocol.md §8.1), kept for the paired kiosk screen.

Called by the ingest inside its transaction, once per newly applied event: the ledger's
(device, session, seq) makes a re-sent read a no-op, so a card tapped once signs in once.
A read is resolved here (card → member, code → booking or loan of the site) and only that is
kept; the kiosk screen acts on it (kiosk/touch/reader). Log lines name the device and what
was found, never a card number or a token.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from booking.people import cards
from devices.ingest.reactions import Handlers
from devices.kiosk_reader import scans
from devices.models.device import Device, DeviceKind
from devices.protocol.messages import Event

log = logging.getLogger(__name__)


def register(handlers: Handlers) -> None:
    # `card_read` is also the terminal's event: each kind's handler takes only its own.
    handlers.register("card_read", on_card_read)
    handlers.register("code_scanned", on_code_scanned)


def on_card_read(session: Session, device: Device, event: Event, now: datetime) -> None:
    if device.kind is not DeviceKind.KIOSK_READER:
        return
    card_id = str(event.fields["card_id"])
    # Staff waiting to bind a card at this reader take the read; nobody is signed in.
    bind = cards.card_read(
        session, site_id=device.site_id, device_id=device.device_id, card_id=card_id, now=now
    )
    if bind is not None:
        log.info("card read at %s: bind %s", device.device_id, bind.bind.status.value)
        return
    finding, target = scans.card_finding(session, card_id=card_id)
    scans.record(session, site_id=device.site_id, device_id=device.device_id,
                 finding=finding, target_id=target, now=now)  # fmt: skip
    log.info("card read at %s: %s", device.device_id, finding.value)


def on_code_scanned(session: Session, device: Device, event: Event, now: datetime) -> None:
    if device.kind is not DeviceKind.KIOSK_READER:
        return
    text = str(event.fields["text"])
    finding, target = scans.code_finding(session, site_id=device.site_id, text=text)
    scans.record(session, site_id=device.site_id, device_id=device.device_id,
                 finding=finding, target_id=target, now=now)  # fmt: skip
    log.info("code scanned at %s: %s", device.device_id, finding.value)
