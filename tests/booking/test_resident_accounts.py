"""Residents' accounts as services: deactivation refuses sign-in and card identification,
erasure after the retention period by the worker's job (with the injected clock), and a merge
that leaves nothing pointing at the merged account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from health_centre import HealthCentre, build_health_centre, raw_reading
from sqlalchemy import func, inspect, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import NotFound, SignInFailed
from booking.core.models.audit import AuditEntry
from booking.core.retention import RetentionPeriods
from booking.health import operations as health
from booking.health import pairing as health_pairing
from booking.health.models.consents import HealthConsent
from booking.health.models.readings import BpReading
from booking.messages import sign_in_codes
from booking.messages.models.outbox import OutboxMessage
from booking.people import cards, deactivation, erasure, merging, passwords, residents
from booking.people.account_errors import AccountStateWrong, CardTaken, MergeRefused
from booking.people.models.residents import DeactivationReason, Resident
from booking.people.models.sign_in_failures import SignInFailure
from booking.people.models.staff import StaffAccount, StaffRole
from booking.people.staff import create_staff
from booking.spaces import rules as booking_rules
from kiosk import scheduler

KEEP = timedelta(days=30)


@pytest.fixture
def centre(database: Database, clock: FrozenClock) -> HealthCentre:
    centre = build_health_centre(database, clock)
    with database.write() as session:
        staff = create_staff(
            session, site_id=centre.site_id, username="zhao", display_name="赵",
            password="linli-staff-2026", role=StaffRole.STAFF, now=clock.now(),
        )  # fmt: skip
        centre.ids["staff"] = staff.id
    return centre


def staff_of(session: object, centre: HealthCentre) -> StaffAccount:
    return session.get_one(StaffAccount, centre.ids["staff"])  # type: ignore[attr-defined,no-any-return]


def measure(centre: HealthCentre, card: str) -> None:
    centre.clock.advance(timedelta(minutes=1))  # one reading per terminal and moment
    with centre.database.write() as session:
        health_pairing.reading_received(
            session, site_id=centre.site_id, device_id="bp-1", card_id=card,
            now=centre.clock.now(),
            **raw_reading(measured_at=centre.clock.now() - timedelta(seconds=1)),
        )  # fmt: skip


def deactivate(centre: HealthCentre, who: str) -> None:
    with centre.database.write() as session:
        deactivation.deactivate(
            session, staff=staff_of(session, centre),
            resident=session.get_one(Resident, centre.ids[who]),
            reason=DeactivationReason.MOVED_AWAY, now=centre.clock.now(),
        )  # fmt: skip


def sign_in(centre: HealthCentre, phone: str, pin: str = "275139") -> Resident:
    # The failure is counted in the caller's transaction, which must commit even so.
    refused: SignInFailed | None = None
    with centre.database.write() as session:
        try:
            return residents.authenticate_resident(
                session, site_id=centre.site_id, phone=phone, pin=pin, now=centre.clock.now(),
                client="kiosk-1",
            )  # fmt: skip
        except SignInFailed as error:
            refused = error
    raise refused


def test_a_deactivated_resident_is_refused_like_a_wrong_pin_after_the_same_work(
    centre: HealthCentre, monkeypatch: pytest.MonkeyPatch
) -> None:
    deactivate(centre, "alone")
    burned: list[str] = []
    monkeypatch.setattr(passwords, "burn_verification", lambda pin: burned.append(pin))
    with pytest.raises(SignInFailed):
        sign_in(centre, "13900000001")
    assert burned == ["275139"]  # the same hashing work as an unknown phone
    with centre.database.read() as session:
        # Counted as a failed sign-in, like any wrong PIN.
        assert session.scalar(select(func.count()).select_from(SignInFailure)) == 1
        # Nor can anyone book for them any more (the API's path).
        with pytest.raises(NotFound):
            booking_rules.member(session, centre.ids["alone"], centre.site_id)


def test_a_deactivated_residents_card_identifies_nobody_and_a_reactivated_ones_again(
    centre: HealthCentre,
) -> None:
    deactivate(centre, "alone")
    with centre.database.read() as session:
        assert (
            health_pairing.resident_by_card(session, site_id=centre.site_id, card_id="C-ALONE")
            is None
        )
    with centre.database.write() as session:
        deactivation.reactivate(
            session, staff=staff_of(session, centre),
            resident=session.get_one(Resident, centre.ids["alone"]), now=centre.clock.now(),
        )  # fmt: skip
    assert sign_in(centre, "13900000001").id == centre.ids["alone"]


def test_a_card_of_another_resident_cannot_be_typed_in_and_a_deactivated_account_gets_none(
    centre: HealthCentre,
) -> None:
    with centre.database.write() as session, pytest.raises(CardTaken):
        cards.bind_typed(
            session, staff=staff_of(session, centre),
            resident=session.get_one(Resident, centre.ids["shy"]), card_id="C-ALONE",
            now=centre.clock.now(),
        )  # fmt: skip
    deactivate(centre, "shy")
    with centre.database.write() as session, pytest.raises(AccountStateWrong):
        cards.bind_typed(
            session, staff=staff_of(session, centre),
            resident=session.get_one(Resident, centre.ids["shy"]), card_id="C-NEW",
            now=centre.clock.now(),
        )  # fmt: skip


# --- erasure after the retention period -------------------------------------------------------


def run_erasure_job(centre: HealthCentre) -> None:
    scheduler.set_runtime(
        centre.database, centre.clock, RetentionPeriods(deactivated_residents=KEEP)
    )
    scheduler.erase_deactivated_residents()


def test_nothing_is_erased_a_day_before_the_period_ends_and_everything_after(
    centre: HealthCentre,
) -> None:
    measure(centre, "C-ALONE")
    measure(centre, "C-FAMILY")
    with pytest.raises(SignInFailed):
        sign_in(centre, "13900000001", pin="000000")  # a failure counted under the phone
    with centre.database.write() as session:  # a message to their phone
        sign_in_codes.send_sign_in_code(
            session, site_id=centre.site_id, phone="13900000001", now=centre.clock.now()
        )
    deactivate(centre, "alone")
    alone = centre.ids["alone"]

    centre.clock.advance(KEEP - timedelta(days=1))
    run_erasure_job(centre)
    with centre.database.read() as session:
        kept = session.get_one(Resident, alone)
        assert kept.erased_at is None
        assert (kept.name, kept.phone, kept.card_id) == ("王秀英", "13900000001", "C-ALONE")
        assert health.count_readings(session, alone) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1

    centre.clock.advance(timedelta(days=1))
    run_erasure_job(centre)
    with centre.database.read() as session:
        gone = session.get_one(Resident, alone)
        assert gone.erased_at == centre.clock.now()
        assert gone.name == erasure.ERASED_NAME
        assert gone.phone == erasure.tombstone_phone(alone)
        # Every column a person filled in is empty, whatever columns the table has grown.
        # (A column that cannot be empty, such as the language, is back at its default.)
        for attribute in inspect(Resident).column_attrs:
            if attribute.key not in erasure.KEPT:
                default = attribute.columns[0].default
                blank = (None, False, "", default.arg if default is not None else None)
                assert getattr(gone, attribute.key) in blank, attribute.key
        assert not passwords.verify_secret(gone.pin_hash or "", "275139")
        assert session.scalar(select(func.count()).select_from(BpReading)) == 1  # others' only
        assert health.count_readings(session, alone) == 0
        assert session.scalar(select(func.count()).select_from(SignInFailure)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert health.count_readings(session, centre.ids["family"]) == 1
        # The consent record (dates and ids) stays, as a withdrawal leaves it.
        assert session.scalar(select(func.count()).select_from(HealthConsent).where(
            HealthConsent.resident_id == alone)) == 1  # fmt: skip
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "resident.erased"))
        assert entry is not None and entry.subject == f"resident:{alone}"
        assert "王秀英" not in str(entry.detail) and "13900000001" not in str(entry.detail)
        # The others are untouched.
        assert session.get_one(Resident, centre.ids["family"]).name == "李建国"
    # Erased accounts are not reactivated, and the job does not erase twice.
    with centre.database.write() as session, pytest.raises(AccountStateWrong):
        session.get_one(Resident, alone).reactivate()
    run_erasure_job(centre)
    with centre.database.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "resident.erased")) == 1  # fmt: skip


def test_a_resident_reactivated_before_the_period_ends_is_not_erased(centre: HealthCentre) -> None:
    deactivate(centre, "alone")
    with centre.database.write() as session:
        deactivation.reactivate(
            session, staff=staff_of(session, centre),
            resident=session.get_one(Resident, centre.ids["alone"]), now=centre.clock.now(),
        )  # fmt: skip
    centre.clock.advance(KEEP * 2)
    run_erasure_job(centre)
    with centre.database.read() as session:
        assert session.get_one(Resident, centre.ids["alone"]).name == "王秀英"


# --- merging ----------------------------------------------------------------------------------


def test_after_a_merge_only_the_account_itself_and_audit_rows_name_the_merged_account(
    centre: HealthCentre,
) -> None:
    measure(centre, "C-ALONE")
    measure(centre, "C-FAMILY")
    alone, family = centre.ids["alone"], centre.ids["family"]
    with centre.database.write() as session:
        outcome = merging.merge(
            session, staff=staff_of(session, centre), survivor=session.get_one(Resident, alone),
            merged=session.get_one(Resident, family), now=centre.clock.now(),
        )  # fmt: skip
    assert outcome.card == "dropped" and outcome.moved["bp_readings"] == 1
    with centre.database.read() as session:
        for table, column in merging.resident_references():
            if table.name == "resident_memberships":
                continue
            assert session.scalar(
                select(func.count()).select_from(table).where(table.c[column] == family)
            ) == 0, table.name  # fmt: skip
        assert health.count_readings(session, alone) == 2
        # One consent stays in force: the survivor's.
        in_force = health.consent_in_force(session, alone)
        assert in_force is not None
        assert session.scalar(select(func.count()).select_from(HealthConsent).where(
            HealthConsent.resident_id == alone, HealthConsent.withdrawn_at.is_(None))) == 1  # fmt: skip
        assert (
            health_pairing.resident_by_card(session, site_id=centre.site_id, card_id="C-FAMILY")
            is None
        )
    with pytest.raises(SignInFailed):
        sign_in(centre, "13900000002")
    with centre.database.write() as session, pytest.raises(AccountStateWrong):
        merging.merge(
            session, staff=staff_of(session, centre), survivor=session.get_one(Resident, alone),
            merged=session.get_one(Resident, family), now=centre.clock.now(),
        )  # fmt: skip


def test_a_merge_into_itself_is_refused(centre: HealthCentre) -> None:
    with centre.database.write() as session, pytest.raises(MergeRefused):
        me = session.get_one(Resident, centre.ids["alone"])
        merging.merge(
            session, staff=staff_of(session, centre), survivor=me, merged=me, now=centre.clock.now()
        )
