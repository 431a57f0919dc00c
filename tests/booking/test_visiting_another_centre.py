"""A resident belongs to their home centre and may use any centre of the district (one
deployment) with the same account and PIN; each centre's rules stay its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from booking_centre import Centre, at, build_centre
from sqlalchemy import select

from booking.core import audit
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import NotFound, ResidentSuspended, SignInFailed, TooManySignIns
from booking.lending import lookups
from booking.lending import operations as lending
from booking.lending.errors import LendingSuspended, LoanLimitReached
from booking.lending.models.policies import LendingPolicy
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people import enrolment, one_time_codes, residents, visits
from booking.people.models.memberships import ResidentMembership
from booking.people.models.resident_codes import CodePurpose
from booking.people.models.residents import DeactivationReason, Resident
from booking.people.models.staff import StaffAccount
from booking.people.roster import exporting
from booking.spaces import seats
from booking.spaces.models.bookings import Booking
from booking.spaces.models.suspensions import BookingSuspension

PIN = "275139"
PHONE_OF_A = "13900000001"  # 王秀英, enrolled at centre A
KIOSK_B = "10.0.2.10"


@pytest.fixture
def centre_a(any_database: Database, clock: FrozenClock) -> Centre:
    return build_centre(any_database, clock, slug="a", phones_from=1, staff_name="a-staff")


@pytest.fixture
def centre_b(any_database: Database, clock: FrozenClock, centre_a: Centre) -> Centre:
    return build_centre(any_database, clock, slug="b", phones_from=101, staff_name="b-staff")


def sign_in(
    db: Database, site_id: int, clock: FrozenClock, *, pin: str = PIN, client: str = KIOSK_B
) -> int:
    """Sign in as the kiosk does: a failure is committed too."""
    with db.write() as session:
        try:
            return residents.authenticate_resident(
                session, site_id=site_id, phone=PHONE_OF_A, pin=pin, now=clock.now(), client=client
            ).id
        except (SignInFailed, TooManySignIns) as error:
            session.commit()
            raise error


def add_drills(db: Database, c: Centre, count: int) -> list[int]:
    with db.write() as session:
        drill = ToolType(site_id=c.site_id, code="drill", name_zh="电钻", name_en="Drill",
                         loan_days=3, icon="drill")  # fmt: skip
        session.add(drill)
        session.flush()
        items = [Item(site_id=c.site_id, tool_type_id=drill.id, asset_tag=f"D{c.site_id}-{n}")
                 for n in range(count)]  # fmt: skip
        session.add_all(items)
        session.flush()
        return [item.id for item in items]


def lend(db: Database, c: Centre, item_id: int, resident_id: int, clock: FrozenClock) -> None:
    with db.write() as session:
        staff = session.get_one(StaffAccount, c.staff_id)
        lending.lend_at_counter(
            session, staff=staff, item_id=item_id, resident_id=resident_id, now=clock.now()
        )


def test_a_resident_of_a_signs_in_at_b_with_the_same_phone_and_pin_as_a_visitor_from_a(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    resident_id = sign_in(any_database, centre_b.site_id, clock)

    assert resident_id == centre_a.residents[0]  # the same account, not a second one
    with any_database.read() as session:
        resident = session.get_one(Resident, resident_id)
        at_b = visits.standing(session, resident=resident, site_id=centre_b.site_id)
        at_a = visits.standing(session, resident=resident, site_id=centre_a.site_id)
        first_visit = [entry.subject for entry in audit.entries(
            session, site_id=centre_b.site_id, action="resident.first_visit"
        )]  # fmt: skip
    assert (at_b.visitor, at_b.home_site_id, at_b.home_name_en) == (True, centre_a.site_id, "Demo")
    assert (at_a.visitor, at_a.home_site_id) == (False, centre_a.site_id)
    assert first_visit == [f"resident:{resident_id}"]


def test_coming_back_to_b_neither_adds_a_membership_nor_moves_the_home_centre(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    sign_in(any_database, centre_b.site_id, clock)
    clock.advance(timedelta(days=1))
    sign_in(any_database, centre_b.site_id, clock)
    sign_in(any_database, centre_a.site_id, clock)
    with any_database.read() as session:
        rows = session.execute(
            select(ResidentMembership.site_id, ResidentMembership.visitor).where(
                ResidentMembership.resident_id == centre_a.residents[0]
            )
        ).all()
        resident = session.get_one(Resident, centre_a.residents[0])
        home = visits.home_site_id(resident)
    assert sorted(tuple(row) for row in rows) == [
        (centre_a.site_id, False), (centre_b.site_id, True),
    ]  # fmt: skip
    assert home == centre_a.site_id


def test_the_wrong_pin_at_b_fails_as_anywhere_and_makes_no_visitor(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    with pytest.raises(SignInFailed):
        sign_in(any_database, centre_b.site_id, clock, pin="000000")
    with any_database.read() as session:
        resident = session.get_one(Resident, centre_a.residents[0])
        assert [m.site_id for m in resident.memberships] == [centre_a.site_id]


def code_from_a(db: Database, centre_a: Centre, clock: FrozenClock, purpose: CodePurpose) -> str:
    """A code A's staff sent or printed for its resident (PHONE_OF_A)."""
    with db.write() as session:
        return one_time_codes.issue_code(
            session, resident_id=centre_a.residents[0], site_id=centre_a.site_id,
            purpose=purpose, now=clock.now(), actor="staff:a-staff",
        ).code  # fmt: skip


def memberships(db: Database, resident_id: int) -> list[tuple[int, bool]]:
    with db.read() as session:
        rows = session.execute(
            select(ResidentMembership.site_id, ResidentMembership.visitor).where(
                ResidentMembership.resident_id == resident_id
            )
        )
        return sorted((site_id, visitor) for site_id, visitor in rows)


def test_a_code_from_a_signs_the_resident_in_on_the_phone_at_b_as_bs_visitor(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    code = code_from_a(any_database, centre_a, clock, CodePurpose.SIGN_IN)
    with any_database.write() as session:
        resident = one_time_codes.sign_in_with_code(
            session, site_id=centre_b.site_id, phone=PHONE_OF_A, code=code, now=clock.now(),
            client=KIOSK_B,
        )  # fmt: skip
        assert resident.id == centre_a.residents[0]
    assert memberships(any_database, centre_a.residents[0]) == [
        (centre_a.site_id, False), (centre_b.site_id, True),
    ]  # fmt: skip


def test_a_pin_chosen_at_bs_kiosk_with_as_slip_makes_a_visitor_of_b(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    code = code_from_a(any_database, centre_a, clock, CodePurpose.PIN_RESET)
    with any_database.write() as session:
        row = one_time_codes.check_code(
            session, site_id=centre_b.site_id, phone=PHONE_OF_A, code=code, now=clock.now(),
            client=KIOSK_B,
        )  # fmt: skip
        one_time_codes.redeem_code(
            session, site_id=centre_b.site_id, code_id=row.id, new_pin="582914", now=clock.now()
        )
    assert memberships(any_database, centre_a.residents[0]) == [
        (centre_a.site_id, False), (centre_b.site_id, True),
    ]  # fmt: skip
    assert sign_in(any_database, centre_b.site_id, clock, pin="582914") == centre_a.residents[0]


def test_a_wrong_code_at_b_fails_and_makes_no_visitor(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    code = code_from_a(any_database, centre_a, clock, CodePurpose.SIGN_IN)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    with any_database.write() as session:
        with pytest.raises(SignInFailed):
            one_time_codes.sign_in_with_code(
                session, site_id=centre_b.site_id, phone=PHONE_OF_A, code=wrong,
                now=clock.now(), client=KIOSK_B,
            )  # fmt: skip
    assert memberships(any_database, centre_a.residents[0]) == [(centre_a.site_id, False)]


def test_wrong_pins_for_one_account_count_together_across_centres(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    # A stranger at one browser tries the phone at A's page, then at B's: one count.
    for site_id in (centre_a.site_id, centre_b.site_id):
        with pytest.raises(SignInFailed):
            sign_in(any_database, site_id, clock, pin="000000", client="203.0.113.66")
    with pytest.raises(SignInFailed):
        sign_in(any_database, centre_a.site_id, clock, pin="111111", client="203.0.113.66")
    # The third wrong PIN for the account: 30 s to wait, at whichever centre.
    with pytest.raises(TooManySignIns):
        sign_in(any_database, centre_b.site_id, clock, client="203.0.113.66")


def test_a_deactivated_resident_signs_in_at_no_centre(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        resident = session.get_one(Resident, centre_a.residents[0])
        resident.deactivate(DeactivationReason.MOVED_AWAY, clock.now())
    with pytest.raises(SignInFailed):
        sign_in(any_database, centre_b.site_id, clock)


def test_a_centre_knows_a_resident_of_elsewhere_only_once_they_have_visited(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    with any_database.write() as session, pytest.raises(NotFound):
        seats.book_seat(session, resident_id=centre_a.residents[0], seat_id=centre_b.seats[0],
                        starts_at=at(10), ends_at=at(11), now=clock.now())  # fmt: skip


def test_a_visitor_books_bs_seats_and_the_booking_is_bs(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    resident_id = sign_in(any_database, centre_b.site_id, clock)
    with any_database.write() as session:
        booking = seats.book_seat(session, resident_id=resident_id, seat_id=centre_b.seats[0],
                                  starts_at=at(10), ends_at=at(11), now=clock.now())  # fmt: skip
        assert booking.site_id == centre_b.site_id


def test_a_seat_suspension_at_a_does_not_follow_the_resident_to_b_nor_bs_to_a(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    resident_id = sign_in(any_database, centre_b.site_id, clock)
    with any_database.write() as session:
        session.add(BookingSuspension(site_id=centre_a.site_id, resident_id=resident_id,
                                      starts_at=clock.now(), ends_at=at(0, days=30)))  # fmt: skip
    with any_database.write() as session:
        seats.book_seat(session, resident_id=resident_id, seat_id=centre_b.seats[0],
                        starts_at=at(10), ends_at=at(11), now=clock.now())  # fmt: skip
    with any_database.write() as session:
        session.add(BookingSuspension(site_id=centre_b.site_id, resident_id=resident_id,
                                      starts_at=clock.now(), ends_at=at(0, days=30)))  # fmt: skip
    with any_database.write() as session, pytest.raises(ResidentSuspended):
        seats.book_seat(session, resident_id=resident_id, seat_id=centre_b.seats[1],
                        starts_at=at(12), ends_at=at(13), now=clock.now())  # fmt: skip
    with any_database.read() as session:
        booked = session.scalars(select(Booking.site_id).where(Booking.resident_id == resident_id))
        assert list(booked) == [centre_b.site_id]


def test_a_visitor_borrows_under_bs_limit_not_as_home(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    resident_id = sign_in(any_database, centre_b.site_id, clock)
    with any_database.write() as session:
        session.add(LendingPolicy(site_id=centre_b.site_id, max_items_on_loan=1))
    drills_a, drills_b = (
        add_drills(any_database, centre_a, 2),
        add_drills(any_database, centre_b, 2),
    )
    lend(any_database, centre_a, drills_a[0], resident_id, clock)  # a loan at home counts at home
    lend(any_database, centre_b, drills_b[0], resident_id, clock)
    with pytest.raises(LoanLimitReached) as refused:
        lend(any_database, centre_b, drills_b[1], resident_id, clock)
    assert refused.value.details["limit"] == 1
    lend(any_database, centre_a, drills_a[1], resident_id, clock)  # A's default limit is 3


def test_a_lending_suspension_at_a_does_not_stop_borrowing_at_b(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    resident_id = sign_in(any_database, centre_b.site_id, clock)
    drills_a, drills_b = (
        add_drills(any_database, centre_a, 1),
        add_drills(any_database, centre_b, 1),
    )
    with any_database.write() as session:
        session.add(LendingSuspension(site_id=centre_a.site_id, resident_id=resident_id,
                                      starts_at=clock.now(), ends_at=at(0, days=30)))  # fmt: skip
    with pytest.raises(LendingSuspended):
        lend(any_database, centre_a, drills_a[0], resident_id, clock)
    lend(any_database, centre_b, drills_b[0], resident_id, clock)


def test_staff_of_b_may_enrol_their_visitor_who_keeps_a_as_home(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    resident_id = sign_in(any_database, centre_b.site_id, clock)
    clock.advance(timedelta(days=3))
    with any_database.write() as session:
        enrolled = enrolment.enrol_resident(
            session, site_id=centre_b.site_id, now=clock.now(), actor="staff:b-staff",
            details=enrolment.EnrolmentDetails(name="王秀英", phone=PHONE_OF_A),
            confirmed_different=True,  # B has a 王秀英 of its own, another person
        )  # fmt: skip
        assert (enrolled.resident.id, enrolled.joined_existing) == (resident_id, True)
        at_b = visits.standing(session, resident=enrolled.resident, site_id=centre_b.site_id)
    assert (at_b.visitor, at_b.home_site_id) == (False, centre_a.site_id)


def test_bs_roster_leaves_out_its_visitors(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    sign_in(any_database, centre_b.site_id, clock)
    with any_database.read() as session:
        phones = [row[1] for row in exporting.roster_rows(session, site_id=centre_b.site_id)]
    assert PHONE_OF_A not in phones
    assert len(phones) == 3


def test_a_resident_of_nowhere_cannot_be_made_a_visitor(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        stranger = Resident(name="某人", phone="13711112222", created_at=clock.now())
        session.add(stranger)
        session.flush()
        with pytest.raises(NotFound):
            visits.visit(session, resident=stranger, site_id=centre_b.site_id, now=clock.now())


def test_at_bs_counter_staff_lend_to_a_resident_of_a_who_then_is_bs_visitor(
    any_database: Database, centre_a: Centre, centre_b: Centre, clock: FrozenClock
) -> None:
    [drill] = add_drills(any_database, centre_b, 1)
    with any_database.write() as session:
        found = lookups.borrower_by_phone(
            session, site_id=centre_b.site_id, phone="139 0000 0001", now=clock.now()
        )
        assert found is not None and found.id == centre_a.residents[0]
        assert visits.standing(session, resident=found, site_id=centre_b.site_id).visitor
        nobody = lookups.borrower_by_phone(
            session, site_id=centre_b.site_id, phone="13711112222", now=clock.now()
        )
        assert nobody is None
    lend(any_database, centre_b, drill, centre_a.residents[0], clock)
