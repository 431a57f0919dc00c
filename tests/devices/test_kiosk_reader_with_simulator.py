"""The kiosk reader end to end: a linli_sim reader over a real Mosquitto, the bridge with the
worker's handlers, and the reads it sends waiting as scans for the paired screen: a card
names its holder, a booking slip its booking, anything else nothing; each read once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from bridged_terminal import bridged_reader
from sqlalchemy import select
from test_bridge import wait_for

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.people import residents
from booking.spaces import slip_tokens as booking_slips
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from devices.kiosk_reader import scans
from devices.models.device import Device, DeviceKind
from devices.models.reader_scans import ReaderScan, ScanFinding
from linli_sim.console import run_console_line
from linli_sim.kiosk_reader import KioskReaderSim

pytestmark = pytest.mark.mosquitto


@dataclass
class Setup:
    database: Database
    clock: FrozenClock
    reader: KioskReaderSim
    site_id: int
    holder: int
    booking_id: int
    card: str


@pytest.fixture
def setup(database: Database, mqtt_url: str, mqtt_site: str, tmp_path: Path) -> Iterator[Setup]:
    # Started at the real time so the reader's timestamps and the server's "now" agree; the
    # booking is made as a row, not by the rules, so that the time of day does not matter.
    clock = FrozenClock(datetime.now(UTC))
    now, card = clock.now(), f"CARD-{mqtt_site}"
    device_id = f"{mqtt_site}-r"
    with database.write() as session:
        site = Site(slug=mqtt_site, name_zh="测试站", name_en="Test centre",
                    opens_at=time(0), closes_at=time(23, 59))  # fmt: skip
        session.add(site)
        session.flush()
        study = Space(site_id=site.id, code="study", kind=SpaceKind.STUDY, name_zh="自习室",
                      name_en="Study room", capacity=1)  # fmt: skip
        study.seats = [Seat(number=1)]
        session.add(study)
        session.add(Device(
            site_id=site.id, device_id=device_id, kind=DeviceKind.KIOSK_READER, name="reader",
            mqtt_password_hash="$7$unused", capabilities={}, online=False, created_at=now,
        ))  # fmt: skip
        holder = residents.register_resident(
            session, site_id=site.id, name="张伟", phone="13900000031", pin="275139", now=now,
            card_id=card,
        )  # fmt: skip
        session.flush()
        booking = Booking(
            site_id=site.id, space_id=study.id, seat_id=study.seats[0].id,
            resident_id=holder.id, status=BookingStatus.CONFIRMED, starts_at=now,
            ends_at=now + timedelta(hours=1), created_at=now,
        )  # fmt: skip
        session.add(booking)
        session.flush()
        ids = (site.id, holder.id, booking.id)
    with bridged_reader(
        database, clock, mqtt_url, mqtt_site, device_id, tmp_path / "state"
    ) as reader:
        yield Setup(database, clock, reader, *ids, card=card)


def found(s: Setup) -> list[tuple[ScanFinding, int | None]]:
    with s.database.read() as session:
        return [(r.finding, r.target_id) for r in session.scalars(
            select(ReaderScan).order_by(ReaderScan.id))]  # fmt: skip


def test_a_card_tapped_on_the_simulated_reader_waits_for_the_screen_naming_its_holder(
    setup: Setup,
) -> None:
    setup.reader.read_card(setup.card)
    wait_for(lambda: found(setup), "the card read applied")
    wait_for(lambda: setup.reader.unacked_count() == 0, "the read acknowledged")
    assert found(setup) == [(ScanFinding.RESIDENT, setup.holder)]
    with setup.database.write() as session:
        taken = scans.take_next(
            session, site_id=setup.site_id, device_id=setup.reader.device_id,
            now=setup.clock.now(),
        )  # fmt: skip
        assert taken is not None and taken.target_id == setup.holder


def test_codes_scanned_at_the_simulator_console_name_the_booking_or_nothing(setup: Setup) -> None:
    with setup.database.write() as session:
        code = booking_slips.slip_code(session, session.get_one(Booking, setup.booking_id))
    devices = {setup.reader.device_id: setup.reader}
    answer = run_console_line(devices, f"scan {setup.reader.device_id} {code}")
    assert '"type": "code_scanned"' in answer
    run_console_line(devices, f"scan {setup.reader.device_id} a bus ticket 12")
    wait_for(lambda: len(found(setup)) == 2, "both scans applied")
    assert found(setup) == [
        (ScanFinding.BOOKING, setup.booking_id),
        (ScanFinding.UNKNOWN_CODE, None),
    ]
    # The last read sent again under its seq (a re-send after a lost ack) is still one scan:
    # a card read sent after it lands third, with nothing between.
    assert setup.reader.send_duplicate_of_last()
    setup.reader.read_card("NOBODY-1")
    wait_for(lambda: len(found(setup)) >= 3, "the card read after the copy applied")
    assert found(setup)[2:] == [(ScanFinding.UNKNOWN_CARD, None)]
