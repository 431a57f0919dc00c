"""A kiosk reader's reads, found and kept for the screen it is paired with.

A read is resolved when it arrives, in the ingest's transaction: a card to the member who
holds it, a slip's code to its booking or loan. Only that finding is kept, never the card
number or the token. The paired screen takes each read once (:func:`take_next`) within
:data:`SCAN_LIFE`; an older one is nobody's any more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from booking.core import slip_codes
from booking.core.errors import NotFound
from booking.lending import slip_tokens as loan_slips
from booking.people import cards
from booking.spaces import slip_tokens as booking_slips
from devices.models.reader_scans import ReaderScan, ScanFinding

# How long a read waits for its screen: long enough for a slow poll, short enough that a
# card tapped by someone who walked away does not sign in the next person.
SCAN_LIFE = timedelta(seconds=60)
# Reads older than this are deleted as new ones arrive: the table stays a few rows a reader.
KEEP_FOR = timedelta(hours=1)


def card_finding(session: Session, *, card_id: str) -> tuple[ScanFinding, int | None]:
    # Any resident of the district: the card only names who then types their PIN, and that
    # sign-in makes them the centre's visitor (kiosk.touch.reader.card_sign_in).
    resident = cards.resident_of_the_district_by_card(session, card_id=card_id)
    if resident is None:
        return ScanFinding.UNKNOWN_CARD, None
    return ScanFinding.RESIDENT, resident.id


def code_finding(session: Session, *, site_id: int, text: str) -> tuple[ScanFinding, int | None]:
    code = slip_codes.read(text)
    if code is None:
        return ScanFinding.UNKNOWN_CODE, None
    try:
        if code.kind is slip_codes.SlipKind.BOOKING:
            booking = booking_slips.booking_of(session, site_id=site_id, token=code.token)
            return ScanFinding.BOOKING, booking.id
        loan = loan_slips.loan_of(session, site_id=site_id, token=code.token)
        return ScanFinding.LOAN, loan.id
    except NotFound:
        return ScanFinding.UNKNOWN_CODE, None


def record(
    session: Session,
    *,
    site_id: int,
    device_id: str,
    finding: ScanFinding,
    target_id: int | None,
    now: datetime,
) -> ReaderScan:
    """Keep one read for the paired screen (and forget this reader's old ones)."""
    session.execute(
        delete(ReaderScan).where(
            ReaderScan.device_id == device_id, ReaderScan.read_at < now - KEEP_FOR
        )
    )
    scan = ReaderScan(
        site_id=site_id,
        device_id=device_id,
        finding=finding,
        target_id=target_id,
        read_at=now,
        expires_at=now + SCAN_LIFE,
    )
    session.add(scan)
    session.flush()
    return scan


def _waiting(site_id: int, device_id: str, now: datetime) -> Select[ReaderScan]:
    return select(ReaderScan).where(
        ReaderScan.device_id == device_id,
        ReaderScan.site_id == site_id,
        ReaderScan.taken_at.is_(None),
        ReaderScan.expires_at > now,
    )


def any_waiting(session: Session, *, site_id: int, device_id: str, now: datetime) -> bool:
    """Whether a read waits for the screen: a read-only look, so that a screen polling every
    second takes the write lock only when there is something to take."""
    return session.scalar(_waiting(site_id, device_id, now).limit(1)) is not None


def take_next(
    session: Session, *, site_id: int, device_id: str, now: datetime
) -> ReaderScan | None:
    """The reader's newest read not yet taken and still fresh, taken now; older waiting ones
    are passed over (two taps in a row: the second is the one meant)."""
    waiting = session.scalars(
        _waiting(site_id, device_id, now).order_by(ReaderScan.id.desc()).with_for_update()
    ).all()
    if not waiting:
        return None
    newest = waiting[0]
    for scan in waiting:
        scan.take(now)
    session.flush()
    return newest


def taken_scan(
    session: Session, *, scan_id: int, site_id: int, device_id: str, within: timedelta,
    now: datetime,
) -> ReaderScan | None:  # fmt: skip
    """A read this screen took less than ``within`` ago (a card's sign-in waits for its PIN)."""
    scan = session.get(ReaderScan, scan_id)
    if (
        scan is None
        or scan.site_id != site_id
        or scan.device_id != device_id
        or scan.taken_at is None
        or now - scan.taken_at >= within
    ):
        return None
    return scan
