"""Every kiosk page, and the demo records that make each one exist, for the checks that walk
them all (axe-core, large text): a page added to the kiosk is added here once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from booking.demo import past_bookings
from booking.health.models.readings import BpReading
from booking.lending import loans
from booking.lending import operations as lending
from booking.lending import reservations as tool_reservations
from booking.lending.models.loans import LoanChannel
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces import seats as seat_bookings
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from kiosk.extensions import database
from tests.browser.conftest import LiveServer

RESIDENT_PHONE, RESIDENT_PIN = "13800000001", "275139"  # 王秀英: consented to keep readings


def seed_page_subjects(live_server: LiveServer) -> dict[str, Any]:
    """Weeks of history, plus for 王秀英 a seat booking, a counter loan and a locker pickup held:
    so the pages that show one (slip, condition form, waiting screen) exist to be checked."""
    now = live_server.clock.now()
    with live_server.app.app_context(), database().write() as session:
        past_bookings.seed_history(session, now=now)
        resident = session.scalars(select(Resident).where(Resident.phone == RESIDENT_PHONE)).one()
        admin = session.scalars(select(StaffAccount).where(StaffAccount.username == "admin")).one()
        seat = session.scalars(select(Seat).order_by(Seat.id)).first()
        assert seat is not None
        starts = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        booking = seat_bookings.book_seat(
            session, resident_id=resident.id, seat_id=seat.id, starts_at=starts,
            ends_at=starts + timedelta(hours=1), now=now,
        )  # fmt: skip
        counter_item = session.scalars(
            select(Item).where(Item.locker_device_id.is_(None), Item.status == ItemStatus.AVAILABLE)
        ).first()
        assert counter_item is not None
        loan = lending.lend_at_counter(
            session, staff=admin, item_id=counter_item.id, resident_id=resident.id, now=now
        )
        locker_type = session.scalars(
            select(ToolType).join(Item, Item.tool_type_id == ToolType.id)
            .where(Item.locker_device_id.is_not(None), Item.id != counter_item.id)
        ).first()  # fmt: skip
        assert locker_type is not None
        door = lending.reserve(
            session, site_id=admin.site_id, resident_id=resident.id,
            tool_type_id=locker_type.id, now=now, staff=admin,
        )  # fmt: skip
        # A tool reserved for tomorrow: "my tools" and the console's queues list it.
        tomorrow = now + timedelta(days=1)
        tool_reservations.reserve(
            session, site_id=admin.site_id, resident_id=resident.id, tool_type_id=locker_type.id,
            starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=2), now=now,
        )  # fmt: skip
        # A tool brought back to a locker a moment ago, its condition not yet said: the page
        # that asks for it exists only for such a loan.
        returned_item = session.scalars(
            select(Item).where(Item.locker_device_id.is_not(None), Item.status == ItemStatus.AVAILABLE)
        ).first()  # fmt: skip
        assert returned_item is not None
        returned = loans.start_loan(
            session, item=returned_item, resident_id=resident.id, channel=LoanChannel.LOCKER,
            now=now - timedelta(hours=3), loan_days=3,
        )  # fmt: skip
        loans.end_loan(returned, returned_item, now - timedelta(minutes=2))
        reading = session.scalars(
            select(BpReading).where(BpReading.resident_id == resident.id)
        ).first()
        assert reading is not None
        room = session.scalars(select(Space).where(Space.code == "dance")).one()
        item = session.scalars(select(Item).order_by(Item.id)).first()
        assert item is not None
        ids = {
            "resident_id": resident.id, "booking_id": booking.id, "loan_id": loan.id,
            "returned_loan_id": returned.id,
            "door_session_id": door.id, "reading_id": reading.id, "space_id": room.id,
            "seat_id": seat.id, "item_id": item.id, "tool_type_id": locker_type.id,
        }  # fmt: skip
    return ids


def ask_for_a_new_pin(live_server: LiveServer) -> None:
    """王秀英 must choose a new PIN at her next sign-in, as after staff asked for one: the only
    way a resident with a PIN reaches the new-PIN page (``/kiosk/pin``, ``/m/pin``)."""
    with live_server.app.app_context(), database().write() as session:
        resident = session.scalars(select(Resident).where(Resident.phone == RESIDENT_PHONE)).one()
        resident.require_new_pin()


def kiosk_signed_out_pages() -> list[str]:
    return ["/kiosk/", "/kiosk/sign-in", "/kiosk/code", "/kiosk/tools", "/kiosk/seats",
            "/kiosk/rooms", "/kiosk/reader/setup"]  # fmt: skip


def kiosk_signed_in_pages(ids: dict[str, Any]) -> list[str]:
    return [
        "/kiosk/", "/kiosk/tools", "/kiosk/tools/mine", "/kiosk/seats",
        f"/kiosk/seats/{ids['seat_id']}", "/kiosk/rooms", f"/kiosk/rooms/{ids['space_id']}/book",
        "/kiosk/bookings", f"/kiosk/bookings/{ids['booking_id']}",
        f"/kiosk/tools/loans/{ids['loan_id']}/slip",
        f"/kiosk/tools/loans/{ids['returned_loan_id']}/condition",
        f"/kiosk/tools/pickup/{ids['door_session_id']}",
        f"/kiosk/tools/{ids['tool_type_id']}/reserve",
        "/kiosk/services/blood-pressure", "/kiosk/services/blood-pressure/history",
        f"/kiosk/services/blood-pressure/readings/{ids['reading_id']}",
        "/kiosk/services/blood-pressure/withdraw", "/kiosk/messages",
    ]  # fmt: skip
