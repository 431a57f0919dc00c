"""What the console's resident page reads: upcoming and past bookings, strikes, suspensions
in force, loans and the health consent, for one resident at one site."""

from __future__ import annotations

from datetime import timedelta

from booking_centre import Centre, at

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.health.models.consents import ConsentChannel, HealthConsent
from booking.health.models.readings import BpReading
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people.resident_record import resident_record
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension


def seat_booking(centre: Centre, status: BookingStatus, days: int, resident: int = 0) -> Booking:
    return Booking(
        site_id=centre.site_id,
        space_id=centre.study_id,
        seat_id=centre.seats[0],
        resident_id=centre.residents[resident],
        status=status,
        starts_at=at(10, days=days),
        ends_at=at(11, days=days),
        created_at=at(8, days=days - 1),
    )


def test_bookings_split_into_coming_up_and_recent_of_this_resident_only(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        session.add_all(
            [
                seat_booking(centre, BookingStatus.CONFIRMED, 1),
                seat_booking(centre, BookingStatus.COMPLETED, -2),
                seat_booking(centre, BookingStatus.NO_SHOW, -1),
                seat_booking(centre, BookingStatus.CANCELLED, 2),
                seat_booking(centre, BookingStatus.CONFIRMED, 3, resident=1),
            ]
        )
    with any_database.read() as session:
        record = resident_record(
            session, site_id=centre.site_id, resident_id=centre.residents[0], now=clock.now()
        )
        assert [(b.booking.status, b.seat_number) for b in record.upcoming] == [
            (BookingStatus.CONFIRMED, 1)
        ]
        assert [b.booking.status for b in record.recent] == [
            BookingStatus.CANCELLED,  # newest first, by the time it was for
            BookingStatus.NO_SHOW,
            BookingStatus.COMPLETED,
        ]
        assert record.upcoming[0].space.id == centre.study_id


def test_strikes_and_only_unlifted_current_suspensions_are_in_force(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    now = clock.now()
    with any_database.write() as session:
        missed = seat_booking(centre, BookingStatus.NO_SHOW, -1)
        session.add(missed)
        session.flush()
        session.add(
            NoShowStrike(
                site_id=centre.site_id,
                resident_id=centre.residents[0],
                booking_id=missed.id,
                given_at=at(10, 15, days=-1),
            )
        )
        session.add_all(
            [
                BookingSuspension(
                    site_id=centre.site_id,
                    resident_id=centre.residents[0],
                    starts_at=now - timedelta(days=20),
                    ends_at=now - timedelta(days=13),
                ),
                BookingSuspension(
                    site_id=centre.site_id,
                    resident_id=centre.residents[0],
                    starts_at=now - timedelta(days=1),
                    ends_at=now + timedelta(days=6),
                    lifted_at=now - timedelta(hours=1),
                    lift_reason="误会",
                ),
                LendingSuspension(
                    site_id=centre.site_id,
                    resident_id=centre.residents[0],
                    starts_at=now - timedelta(days=1),
                    ends_at=now + timedelta(days=29),
                ),
            ]
        )
    with any_database.read() as session:
        record = resident_record(
            session, site_id=centre.site_id, resident_id=centre.residents[0], now=now
        )
        assert [line.booking.id for line in record.strikes] == [missed.id]
        assert len(record.seat_suspensions) == 2
        assert record.seat_suspension_in_force is None  # the current one was lifted
        assert record.lending_suspension_in_force is not None
        assert record.consent is None and record.readings == 0 and record.last_measured is None


def test_open_loans_come_soonest_due_first_and_returned_ones_newest_first(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    now = clock.now()
    with any_database.write() as session:
        drill = ToolType(site_id=centre.site_id, code="drill", name_zh="电钻", name_en="Drill")
        session.add(drill)
        session.flush()
        items = [
            Item(site_id=centre.site_id, tool_type_id=drill.id, asset_tag=f"D-{n}")
            for n in range(3)
        ]
        session.add_all(items)
        session.flush()

        def loan(item: Item, started_days_ago: int, status: LoanStatus) -> Loan:
            started = now - timedelta(days=started_days_ago)
            return Loan(
                site_id=centre.site_id,
                item_id=item.id,
                tool_type_id=drill.id,
                resident_id=centre.residents[0],
                channel=LoanChannel.COUNTER,
                status=status,
                started_at=started,
                due_at=started + timedelta(days=3),
                returned_at=None if status.is_open else started + timedelta(days=1),
            )

        session.add_all(
            [
                loan(items[0], 1, LoanStatus.ACTIVE),
                loan(items[1], 5, LoanStatus.OVERDUE),
                loan(items[2], 9, LoanStatus.RETURNED),
            ]
        )
    with any_database.read() as session:
        record = resident_record(
            session, site_id=centre.site_id, resident_id=centre.residents[0], now=now
        )
        assert [line.item.asset_tag for line in record.open_loans] == ["D-1", "D-0"]
        assert [line.item.asset_tag for line in record.past_loans] == ["D-2"]
        assert record.open_loans[0].tool.name_zh == "电钻"


def test_the_health_part_is_the_consent_and_a_count_without_values(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    now = clock.now()
    with any_database.write() as session:
        session.add(
            HealthConsent(
                resident_id=centre.residents[0],
                site_id=centre.site_id,
                given_at=now - timedelta(days=30),
                channel=ConsentChannel.PAPER,
                notice_version="1",
            )
        )
        for days_ago in (3, 1):
            session.add(
                BpReading(
                    resident_id=centre.residents[0],
                    site_id=centre.site_id,
                    device_id="bp-1",
                    identified_by="card",
                    systolic=128.0,
                    diastolic=82.0,
                    mean_arterial_pressure=97.0,
                    device_unit="mmHg",
                    measured_at=now - timedelta(days=days_ago),
                    received_at=now - timedelta(days=days_ago),
                    ruleset="china",
                    category="high_normal",
                    level=1,
                )
            )
    with any_database.read() as session:
        record = resident_record(
            session, site_id=centre.site_id, resident_id=centre.residents[0], now=now
        )
        assert record.consent is not None and record.consent.channel is ConsentChannel.PAPER
        assert record.readings == 2
        assert record.last_measured == now - timedelta(days=1)  # aware UTC on both databases
