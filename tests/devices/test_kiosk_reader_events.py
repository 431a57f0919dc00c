"""A kiosk reader's reads through the ingest, without a broker: each becomes one short-lived
scan for the paired screen, holding what it named (a member, a booking, a loan), never the
card number or the token."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.people import cards
from booking.people.models.card_binds import CardBind, CardBindStatus
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces import seats
from booking.spaces import slip_tokens as booking_slips
from booking.spaces.models.bookings import Booking
from devices.ingest import apply as ingest
from devices.ingest.apply import Inbound, Outcome
from devices.ingest.handlers import default_handlers
from devices.kiosk_reader import scans
from devices.models.dead_letters import DeadLetter
from devices.models.device import Device, DeviceKind
from devices.models.reader_scans import ReaderScan, ScanFinding, ScanGone
from devices.protocol.messages import iso_z
from tests.booking.booking_centre import Centre, build_centre

READER = "reader-1"
CARD = "CARD0042"


class ReaderFeed:
    """Protocol messages of one kiosk reader, applied as the bridge's batches are."""

    def __init__(self, database: Database, clock: FrozenClock, site: str, device: str) -> None:
        self.database, self.clock, self.site, self.device = database, clock, site, device
        self.seq = 0

    def _message(self, kind: str, body: dict[str, Any], seq: int | None = None) -> Inbound:
        if seq is None:
            self.seq += 1
            seq = self.seq
        envelope = {"v": 1, "device": self.device, "session": 1, "seq": seq,
                    "ts": iso_z(self.clock.now())}  # fmt: skip
        payload = json.dumps({**envelope, **body}).encode()
        return Inbound(f"linli/v1/{self.site}/{self.device}/{kind}", payload, self.clock.now())

    def birth(self) -> Inbound:
        return self._message("birth", {
            "kind": "kiosk_reader", "firmware": "linli-sim 0.1.0", "heartbeat_s": 30,
            "capabilities": {"card_reader": True, "code_scanner": True},
            "state": {"reader": "ready"},
        }, seq=0)  # fmt: skip

    def card(self, card_id: str, seq: int | None = None) -> Inbound:
        return self._message("event", {"type": "card_read", "card_id": card_id}, seq)

    def scan(self, text: str, seq: int | None = None) -> Inbound:
        return self._message("event", {"type": "code_scanned", "text": text}, seq)

    def apply(self, *items: Inbound) -> Outcome:
        with self.database.write() as session:
            return ingest.apply_batch(session, list(items), self.clock.now(), default_handlers())


def register(database: Database, clock: FrozenClock, site_id: int, device_id: str,
             kind: DeviceKind = DeviceKind.KIOSK_READER) -> None:  # fmt: skip
    with database.write() as session:
        session.add(Device(
            site_id=site_id, device_id=device_id, kind=kind, name=device_id,
            mqtt_password_hash="$7$unused", capabilities={}, online=False,
            created_at=clock.now(),
        ))  # fmt: skip


@pytest.fixture
def centre(database: Database, clock: FrozenClock) -> Centre:
    built = build_centre(database, clock)
    register(database, clock, built.site_id, READER)
    with database.write() as session:
        session.get_one(Resident, built.residents[0]).card_id = CARD
    return built


@pytest.fixture
def feed(database: Database, clock: FrozenClock, centre: Centre) -> ReaderFeed:
    feed = ReaderFeed(database, clock, "demo", READER)
    feed.apply(feed.birth())
    return feed


def all_scans(database: Database) -> list[tuple[ScanFinding, int | None]]:
    with database.read() as session:
        return [(s.finding, s.target_id) for s in session.scalars(
            select(ReaderScan).order_by(ReaderScan.id))]  # fmt: skip


def slip_code(database: Database, clock: FrozenClock, centre: Centre, resident: int = 0) -> tuple[int, str]:  # fmt: skip
    with database.write() as session:
        booking = seats.book_seat(
            session, resident_id=centre.residents[resident], seat_id=centre.seats[resident],
            starts_at=clock.now(), ends_at=clock.now() + timedelta(hours=1), now=clock.now(),
        )  # fmt: skip
        return booking.id, booking_slips.slip_code(session, booking)


def test_a_members_card_becomes_one_scan_naming_the_member_and_not_the_card(
    feed: ReaderFeed, database: Database, centre: Centre, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    feed.apply(feed.card(CARD))
    assert all_scans(database) == [(ScanFinding.RESIDENT, centre.residents[0])]
    assert CARD not in caplog.text


def test_a_card_nobody_here_holds_is_kept_as_unknown(feed: ReaderFeed, database: Database) -> None:
    feed.apply(feed.card("NOBODY-1"))
    assert all_scans(database) == [(ScanFinding.UNKNOWN_CARD, None)]


def test_a_read_sent_again_under_the_same_seq_is_kept_once(
    feed: ReaderFeed, database: Database, clock: FrozenClock, centre: Centre
) -> None:
    booking_id, code = slip_code(database, clock, centre)
    feed.apply(feed.scan(code, seq=5))
    outcome = feed.apply(feed.scan(code, seq=5))
    assert outcome.duplicates == 1
    assert all_scans(database) == [(ScanFinding.BOOKING, booking_id)]


def test_a_slip_scan_names_its_booking_and_no_log_line_holds_the_token(
    feed: ReaderFeed, database: Database, clock: FrozenClock, centre: Centre,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    booking_id, code = slip_code(database, clock, centre)
    feed.apply(feed.scan(code))
    assert all_scans(database) == [(ScanFinding.BOOKING, booking_id)]
    assert code.removeprefix("LINLI:B:") not in caplog.text
    # The scan changed nothing yet: the screen checks in when it takes the scan.
    with database.read() as session:
        assert session.get_one(Booking, booking_id).checked_in_at is None


@pytest.mark.parametrize(
    "text", ["LINLI:B:" + "x" * 32, "LINLI DEMO-000001", "https://pay.example/qr/123", "12"]
)
def test_a_code_that_is_no_slip_of_this_centre_is_kept_as_unknown(
    feed: ReaderFeed, database: Database, text: str
) -> None:
    feed.apply(feed.scan(text))
    assert all_scans(database) == [(ScanFinding.UNKNOWN_CODE, None)]


def test_the_card_of_a_resident_of_another_centre_names_them_for_their_pin(
    feed: ReaderFeed, database: Database, clock: FrozenClock
) -> None:
    """Their PIN signs them in as this centre's visitor, as phone and PIN would."""
    other = build_centre(database, clock, slug="other", phones_from=50, staff_name="qian")
    with database.write() as session:
        session.get_one(Resident, other.residents[0]).card_id = "CARD-OTHER"
    feed.apply(feed.card("CARD-OTHER"))
    assert all_scans(database) == [(ScanFinding.RESIDENT, other.residents[0])]


def test_another_centres_slip_is_unknown_here(
    feed: ReaderFeed, database: Database, clock: FrozenClock
) -> None:
    other = build_centre(database, clock, slug="other", phones_from=50, staff_name="qian")
    _, code = slip_code(database, clock, other)
    feed.apply(feed.scan(code))
    assert all_scans(database) == [(ScanFinding.UNKNOWN_CODE, None)]


def test_the_screen_takes_the_newest_read_once_and_not_after_a_minute(
    feed: ReaderFeed, database: Database, clock: FrozenClock, centre: Centre
) -> None:
    feed.apply(feed.card("NOBODY-1"), feed.card(CARD))
    with database.write() as session:
        taken = scans.take_next(session, site_id=centre.site_id, device_id=READER, now=clock.now())
        assert taken is not None and taken.finding is ScanFinding.RESIDENT
        assert scans.take_next(
            session, site_id=centre.site_id, device_id=READER, now=clock.now()
        ) is None  # fmt: skip
        with pytest.raises(ScanGone):
            taken.take(clock.now())
    feed.apply(feed.card(CARD))
    clock.advance(scans.SCAN_LIFE)
    with database.write() as session:
        assert scans.take_next(
            session, site_id=centre.site_id, device_id=READER, now=clock.now()
        ) is None  # fmt: skip


def test_a_card_tapped_while_staff_wait_to_bind_at_the_reader_is_bound_not_signed_in(
    feed: ReaderFeed, database: Database, clock: FrozenClock, centre: Centre
) -> None:
    with database.write() as session:
        bind_id = cards.start_bind(
            session, staff=session.get_one(StaffAccount, centre.staff_id),
            resident=session.get_one(Resident, centre.residents[1]), device_id=READER,
            now=clock.now(),
        ).id  # fmt: skip
    feed.apply(feed.card("NEW-CARD-7"))
    with database.read() as session:
        assert session.get_one(CardBind, bind_id).status is CardBindStatus.BOUND
        assert session.get_one(Resident, centre.residents[1]).card_id == "NEW-CARD-7"
    assert all_scans(database) == []


def test_a_code_scanned_event_from_a_locker_is_refused_as_the_wrong_kind(
    database: Database, clock: FrozenClock, centre: Centre
) -> None:
    register(database, clock, centre.site_id, "locker-9", DeviceKind.LOCKER)
    feed = ReaderFeed(database, clock, "demo", "locker-9")
    outcome = feed.apply(feed.scan("LINLI:B:" + "x" * 32, seq=3))
    assert outcome.dead_letters["wrong_kind"] == 1
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 1
    assert all_scans(database) == []
