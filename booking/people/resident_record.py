"""Everything staff see on one resident's console page, read in a fixed number of queries.

Bookings, no-show strikes and seat-booking suspensions, loans and lending suspensions, and
the state of the resident's health-data consent. Blood-pressure VALUES are not part of it:
they are shown only on the readings page, whose every view is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from booking.health import operations as health
from booking.health.models.consents import HealthConsent
from booking.health.models.readings import BpReading
from booking.lending import eligibility as lending_eligibility
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan
from booking.lending.models.reservations import ToolReservation
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people.models.staff import StaffAccount
from booking.spaces import strikes
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension

RECENT_BOOKINGS = 20
RECENT_LOANS = 10
SUSPENSIONS_SHOWN = 10


@dataclass(frozen=True)
class BookingLine:
    booking: Booking
    space: Space
    seat_number: int | None  # None for a room booking
    booked_by: str | None = None  # the staff member who booked it for the resident


@dataclass(frozen=True)
class LoanLine:
    loan: Loan
    tool: ToolType
    item: Item
    lent_by: str | None = None  # the staff member who lent it to the resident


@dataclass(frozen=True)
class StrikeLine:
    """A no-show strike and what was not collected: a seat or room booking, or a tool held for
    a reservation (booking.lending.jobs, when the policy counts it like a seat's)."""

    strike: NoShowStrike
    booking: Booking | None
    space: Space | None
    reservation: ToolReservation | None = None
    tool: ToolType | None = None

    @property
    def missed_at(self) -> datetime:
        """When the resident was expected: the booking's start, or the tool's hold."""
        if self.booking is not None:
            return self.booking.starts_at
        assert self.reservation is not None
        return self.reservation.held_at or self.reservation.window_starts_at or self.strike.given_at


@dataclass(frozen=True)
class ResidentRecord:
    upcoming: list[BookingLine]  # still holding a seat or room, soonest first
    recent: list[BookingLine]  # finished ones, newest first
    strikes: list[StrikeLine]  # newest first
    seat_suspensions: list[BookingSuspension]  # newest first
    seat_suspension_in_force: BookingSuspension | None
    open_loans: list[LoanLine]  # soonest due first
    past_loans: list[LoanLine]  # newest first
    lending_suspensions: list[LendingSuspension]  # newest first
    lending_suspension_in_force: LendingSuspension | None
    consent: HealthConsent | None
    readings: int
    last_measured: datetime | None


def _booking_lines(session: Session, query: Select[Booking]) -> list[BookingLine]:
    rows = session.execute(
        query.add_columns(Space, Seat.number, StaffAccount.display_name)
        .join(Space, Space.id == Booking.space_id)
        .outerjoin(Seat, Seat.id == Booking.seat_id)
        .outerjoin(StaffAccount, StaffAccount.id == Booking.staff_id)
    )
    return [BookingLine(*row) for row in rows]


def resident_record(
    session: Session, *, site_id: int, resident_id: int, now: datetime
) -> ResidentRecord:
    """The resident's record at ``site_id`` (the caller has checked they are a member)."""
    mine = (Booking.resident_id == resident_id, Booking.site_id == site_id)
    upcoming = _booking_lines(
        session,
        select(Booking)
        .where(*mine, Booking.status.in_(ACTIVE_STATUSES), Booking.ends_at > now)
        .order_by(Booking.starts_at, Booking.id),
    )
    recent = _booking_lines(
        session,
        select(Booking)
        .where(*mine, Booking.status.not_in(ACTIVE_STATUSES))
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
        .limit(RECENT_BOOKINGS),
    )
    strike_lines = [
        StrikeLine(*row)
        for row in session.execute(
            select(NoShowStrike, Booking, Space, ToolReservation, ToolType)
            .outerjoin(Booking, Booking.id == NoShowStrike.booking_id)
            .outerjoin(Space, Space.id == Booking.space_id)
            .outerjoin(ToolReservation, ToolReservation.id == NoShowStrike.tool_reservation_id)
            .outerjoin(ToolType, ToolType.id == ToolReservation.tool_type_id)
            .where(NoShowStrike.resident_id == resident_id, NoShowStrike.site_id == site_id)
            .order_by(NoShowStrike.given_at.desc(), NoShowStrike.id.desc())
        )
    ]
    seat_suspensions = list(
        session.scalars(
            select(BookingSuspension)
            .where(
                BookingSuspension.resident_id == resident_id,
                BookingSuspension.site_id == site_id,
            )
            .order_by(BookingSuspension.starts_at.desc(), BookingSuspension.id.desc())
            .limit(SUSPENSIONS_SHOWN)
        )
    )
    loans = (
        select(Loan, ToolType, Item, StaffAccount.display_name)
        .join(ToolType, ToolType.id == Loan.tool_type_id)
        .join(Item, Item.id == Loan.item_id)
        .outerjoin(StaffAccount, StaffAccount.id == Loan.lent_by_staff_id)
        .where(Loan.resident_id == resident_id, Loan.site_id == site_id)
    )
    open_loans = [
        LoanLine(*row)
        for row in session.execute(
            loans.where(Loan.status.in_(OPEN_LOAN_STATUSES)).order_by(Loan.due_at, Loan.id)
        )
    ]
    past_loans = [
        LoanLine(*row)
        for row in session.execute(
            loans.where(Loan.status.not_in(OPEN_LOAN_STATUSES))
            .order_by(Loan.started_at.desc(), Loan.id.desc())
            .limit(RECENT_LOANS)
        )
    ]
    lending_suspensions = list(
        session.scalars(
            select(LendingSuspension)
            .where(
                LendingSuspension.resident_id == resident_id,
                LendingSuspension.site_id == site_id,
            )
            .order_by(LendingSuspension.starts_at.desc(), LendingSuspension.id.desc())
            .limit(SUSPENSIONS_SHOWN)
        )
    )
    readings, last_measured = session.execute(
        select(func.count(BpReading.id), func.max(BpReading.measured_at)).where(
            BpReading.resident_id == resident_id
        )
    ).one()
    return ResidentRecord(
        upcoming=upcoming,
        recent=recent,
        strikes=strike_lines,
        seat_suspensions=seat_suspensions,
        seat_suspension_in_force=strikes.active_suspension(
            session, resident_id=resident_id, site_id=site_id, now=now
        ),
        open_loans=open_loans,
        past_loans=past_loans,
        lending_suspensions=lending_suspensions,
        lending_suspension_in_force=lending_eligibility.active_suspension(
            session, site_id=site_id, resident_id=resident_id, now=now
        ),
        consent=health.consent_in_force(session, resident_id),
        readings=int(readings),
        last_measured=last_measured,
    )
