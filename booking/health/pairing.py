"""The blood-pressure terminal: pairing a resident at the kiosk ("measure now") or by card,
the measurement's start and failure, and the reading that arrives for whoever is identified."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import (
    ConsentRequired,
    ImpossibleReading,
    NotFound,
    TerminalBusy,
)
from booking.health import values as health_values
from booking.health.models.pairings import PairingStatus, TerminalPairing
from booking.health.models.readings import BpReading
from booking.health.operations import (
    consent_in_force,
    store_reading,
)
from booking.people.cards import resident_by_card
from booking.people.models.residents import Resident

log = logging.getLogger(__name__)

PAIRING_WINDOW = timedelta(minutes=3)
# A measurement that started inside the window may finish after it (a cuff takes ~40 s).
MEASURE_GRACE = timedelta(minutes=2)


def start_pairing(
    session: Session, *, site_id: int, resident_id: int, device_id: str, now: datetime
) -> TerminalPairing:
    """ "Measure now": pair the resident with the terminal for its next reading.

    The caller checks that ``device_id`` is a blood-pressure terminal of the site. The
    resident's own open pairing is returned (and the window restarted); another
    resident's open pairing makes the terminal busy.
    """
    if consent_in_force(session, resident_id) is None:
        raise ConsentRequired("no health-data consent", resident_id=resident_id)
    for pairing in _open_pairings(session, device_id, now):
        if pairing.resident_id != resident_id:
            raise TerminalBusy("the terminal is in use", device_id=device_id)
        if pairing.status is PairingStatus.WAITING:
            pairing.created_at = now
            pairing.expires_at = now + PAIRING_WINDOW
        return pairing
    close_open_pairings(session, resident_id=resident_id, now=now)
    pairing = TerminalPairing(
        site_id=site_id,
        device_id=device_id,
        resident_id=resident_id,
        status=PairingStatus.WAITING,
        created_at=now,
        expires_at=now + PAIRING_WINDOW,
    )
    session.add(pairing)
    session.flush()
    return pairing


def pairing_of(
    session: Session, *, resident_id: int, pairing_id: int, now: datetime
) -> TerminalPairing:
    """The resident's pairing, marked expired if its window has passed."""
    pairing = session.get(TerminalPairing, pairing_id)
    if pairing is None or pairing.resident_id != resident_id:
        raise NotFound("no such pairing", pairing_id=pairing_id)
    _expire_if_over(pairing, now)
    return pairing


def cancel_pairing(
    session: Session, *, resident_id: int, pairing_id: int, now: datetime
) -> TerminalPairing:
    pairing = pairing_of(session, resident_id=resident_id, pairing_id=pairing_id, now=now)
    if pairing.status.is_open:
        _finish(pairing, PairingStatus.CANCELLED, now)
    return pairing


def _is_live(pairing: TerminalPairing, now: datetime) -> bool:
    if pairing.status is PairingStatus.MEASURING and pairing.measuring_since is not None:
        return now < max(pairing.expires_at, pairing.measuring_since + MEASURE_GRACE)
    return pairing.status is PairingStatus.WAITING and now < pairing.expires_at


def _expire_if_over(pairing: TerminalPairing, now: datetime) -> None:
    if pairing.status.is_open and not _is_live(pairing, now):
        _finish(pairing, PairingStatus.EXPIRED, now)


def _finish(
    pairing: TerminalPairing, status: PairingStatus, now: datetime, failure: str | None = None
) -> None:
    pairing.finish(status, now, failure)


def _open_pairings(session: Session, device_id: str, now: datetime) -> list[TerminalPairing]:
    """The terminal's live pairing (at most one), expiring the ones whose window passed."""
    rows = session.scalars(
        select(TerminalPairing)
        .where(
            TerminalPairing.device_id == device_id,
            TerminalPairing.status.in_([PairingStatus.WAITING, PairingStatus.MEASURING]),
        )
        .order_by(TerminalPairing.id.desc())
    ).all()
    live = []
    for pairing in rows:
        _expire_if_over(pairing, now)
        if pairing.status.is_open:
            live.append(pairing)
    return live


def close_open_pairings(session: Session, *, resident_id: int, now: datetime) -> None:
    for pairing in session.scalars(
        select(TerminalPairing).where(
            TerminalPairing.resident_id == resident_id,
            TerminalPairing.status.in_([PairingStatus.WAITING, PairingStatus.MEASURING]),
        )
    ):
        _finish(pairing, PairingStatus.CANCELLED, now)


def card_read(
    session: Session, *, site_id: int, device_id: str, card_id: str, now: datetime
) -> Resident | None:
    """A card at the terminal: the resident it identifies (None if nobody here holds it).

    A kiosk pairing of someone else ends: the next reading belongs to the card's holder
    (or to nobody), and the resident waiting at the kiosk must be told so.
    """
    resident = resident_by_card(session, site_id=site_id, card_id=card_id)
    for pairing in _open_pairings(session, device_id, now):
        if resident is None or pairing.resident_id != resident.id:
            _finish(pairing, PairingStatus.CANCELLED, now, failure="other_card")
    return resident


def measurement_started(session: Session, *, device_id: str, now: datetime) -> None:
    for pairing in _open_pairings(session, device_id, now):
        pairing.start_measuring(now)


def measurement_failed(session: Session, *, device_id: str, code: str, now: datetime) -> None:
    for pairing in _open_pairings(session, device_id, now):
        _finish(pairing, PairingStatus.FAILED, now, failure=code[:40])


@dataclass(frozen=True)
class ReadingOutcome:
    """What became of a terminal's reading. ``stored`` is None unless it was kept."""

    result: str  # "stored", "unidentified", "no_consent", "impossible"
    stored: BpReading | None = None
    reason: str | None = None


def reading_received(
    session: Session,
    *,
    site_id: int,
    device_id: str,
    card_id: str | None,
    now: datetime,
    **raw: Any,
) -> ReadingOutcome:
    """A terminal's reading: identify whose it is, check it, keep it if allowed.

    ``raw`` holds the protocol's reading fields (systolic, diastolic, mean_arterial_pressure,
    unit, pulse, flags, measured_at). A card on the reading decides alone; without a card,
    the live kiosk pairing of the terminal does.
    """
    pairings = _open_pairings(session, device_id, now)
    pairing = pairings[0] if pairings else None
    resident_id: int | None = None
    identified_by = ""
    if card_id is not None:
        holder = resident_by_card(session, site_id=site_id, card_id=card_id)
        if holder is not None:
            resident_id, identified_by = holder.id, "card"
        if pairing is not None and pairing.resident_id != resident_id:
            _finish(pairing, PairingStatus.CANCELLED, now, failure="other_card")
            pairing = None
    elif pairing is not None:
        resident_id, identified_by = pairing.resident_id, "kiosk"

    try:
        values = health_values.check_values(
            systolic=raw["systolic"],
            diastolic=raw["diastolic"],
            mean_arterial_pressure=raw["mean_arterial_pressure"],
            unit=raw["unit"],
            pulse=raw["pulse"],
            flags=raw["flags"],
            measured_at=raw["measured_at"],
        )
    except ImpossibleReading as refused:
        reason = str(refused.details.get("reason", "impossible"))
        if pairing is not None:
            _finish(pairing, PairingStatus.FAILED, now, failure="impossible_reading")
        log.info("reading from %s refused: %s", device_id, reason)
        return ReadingOutcome("impossible", reason=reason)

    if resident_id is None:
        return ReadingOutcome("unidentified")
    try:
        reading = store_reading(
            session,
            site_id=site_id,
            resident_id=resident_id,
            device_id=device_id,
            identified_by=identified_by,
            values=values,
            now=now,
        )
    except ConsentRequired:
        if pairing is not None:
            _finish(pairing, PairingStatus.FAILED, now, failure="no_consent")
        return ReadingOutcome("no_consent")
    if pairing is not None:
        _finish(pairing, PairingStatus.DONE, now)
        pairing.reading_id = reading.id
    return ReadingOutcome("stored", stored=reading)
