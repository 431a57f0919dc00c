"""Readings, identification at the terminal, consent, follow-up alerts and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from health_centre import TERMINAL, HealthCentre, build_health_centre, raw_reading
from sqlalchemy import func, select

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import ConsentRequired, ImpossibleReading, InvalidInput, TerminalBusy
from booking.core.models.audit import AuditEntry
from booking.health import consent as health_consent
from booking.health import operations as health
from booking.health import pairing as health_pairing
from booking.health import retention as health_retention
from booking.health import values as health_values
from booking.health.classification import Ruleset
from booking.health.models.consents import ConsentChannel, HealthConsent
from booking.health.models.pairings import PairingStatus
from booking.health.models.readings import BpReading
from booking.health.models.settings import HealthSettings


@pytest.fixture
def centre(database: Database, clock: FrozenClock) -> HealthCentre:
    return build_health_centre(database, clock)


def receive(
    centre: HealthCentre, *, card: str | None = None, device: str = TERMINAL, **values: Any
) -> health_pairing.ReadingOutcome:
    values.setdefault("measured_at", centre.clock.now() - timedelta(seconds=1))
    with centre.database.write() as session:
        outcome = health_pairing.reading_received(
            session,
            site_id=centre.site_id,
            device_id=device,
            card_id=card,
            now=centre.clock.now(),
            **raw_reading(**values),
        )
        if outcome.stored is not None:
            session.expunge(outcome.stored)
        return outcome


def readings_of(centre: HealthCentre, who: str) -> list[BpReading]:
    with centre.database.read() as session:
        found = list(health.all_readings(session, centre.ids[who]))
        session.expunge_all()
        return found


def health_alerts(centre: HealthCentre) -> list[StaffAlert]:
    with centre.database.read() as session:
        found = list(health.health_alerts(session, site_id=centre.site_id))
        session.expunge_all()
        return found


def pair(centre: HealthCentre, who: str, device: str = TERMINAL) -> int:
    with centre.database.write() as session:
        return health_pairing.start_pairing(
            session,
            site_id=centre.site_id,
            resident_id=centre.ids[who],
            device_id=device,
            now=centre.clock.now(),
        ).id


def pairing_state(
    centre: HealthCentre, who: str, pairing_id: int
) -> tuple[PairingStatus, str | None, int | None]:
    with centre.database.write() as session:
        p = health_pairing.pairing_of(
            session, resident_id=centre.ids[who], pairing_id=pairing_id, now=centre.clock.now()
        )
        return p.status, p.failure, p.reading_id


# --- impossible values ------------------------------------------------------------------------

IMPOSSIBLE = [
    ({"systolic": 39, "diastolic": 30}, "systolic_out_of_range"),
    ({"systolic": 301, "diastolic": 100}, "systolic_out_of_range"),
    ({"systolic": 60, "diastolic": 19}, "diastolic_out_of_range"),
    ({"systolic": 250, "diastolic": 201}, "diastolic_out_of_range"),
    ({"systolic": 120, "diastolic": 120}, "systolic_not_above_diastolic"),
    ({"systolic": 90, "diastolic": 110}, "systolic_not_above_diastolic"),
    ({"systolic": 140, "diastolic": 90, "mean": 150}, "mean_pressure_impossible"),
    ({"systolic": 140, "diastolic": 90, "mean": 80}, "mean_pressure_impossible"),
    ({"systolic": 140, "diastolic": 90, "pulse": 19}, "pulse_out_of_range"),
    ({"systolic": 140, "diastolic": 90, "pulse": 251}, "pulse_out_of_range"),
    ({"systolic": 140, "diastolic": 90, "unit": "psi"}, "unknown_unit"),
    ({"systolic": 41, "diastolic": 12, "unit": "kPa"}, "systolic_out_of_range"),
]


@pytest.mark.parametrize(("values", "reason"), IMPOSSIBLE)
def test_impossible_values_are_refused_with_a_reason(values: dict[str, Any], reason: str) -> None:
    fields = raw_reading(measured_at=datetime(2026, 11, 24, 1, 30, tzinfo=UTC), **values)
    with pytest.raises(ImpossibleReading) as refused:
        health_values.check_values(**fields)
    assert refused.value.details["reason"] == reason


@pytest.mark.parametrize(("values", "reason"), IMPOSSIBLE[:3])
def test_an_impossible_reading_is_not_stored_even_for_a_consenting_card_holder(
    centre: HealthCentre, values: dict[str, Any], reason: str
) -> None:
    outcome = receive(centre, card="C-FAMILY", **values)
    assert (outcome.result, outcome.reason) == ("impossible", reason)
    assert readings_of(centre, "family") == []


def test_a_kpa_reading_is_stored_in_mmhg_with_the_unit_the_terminal_used(
    centre: HealthCentre,
) -> None:
    receive(centre, card="C-FAMILY", systolic=20.0, diastolic=12.0, unit="kPa")
    (stored,) = readings_of(centre, "family")
    assert (stored.systolic, stored.diastolic, stored.device_unit) == (150.0, 90.0, "kPa")
    assert stored.category == "grade_1"


# --- identification and consent ---------------------------------------------------------------


def test_a_reading_with_a_consenting_residents_card_is_stored_with_its_classification(
    centre: HealthCentre,
) -> None:
    outcome = receive(
        centre, card="C-FAMILY", systolic=148, diastolic=86, pulse=70, irregular_pulse=True
    )
    assert outcome.result == "stored"
    (stored,) = readings_of(centre, "family")
    assert (stored.systolic, stored.diastolic, stored.pulse) == (148, 86, 70)
    assert (stored.ruleset, stored.category, stored.level, stored.isolated_systolic) == (
        "china",
        "grade_1",
        2,
        True,
    )
    assert stored.flags["irregular_pulse"] is True
    assert (stored.identified_by, stored.device_id) == ("card", TERMINAL)


def test_a_reading_without_card_or_pairing_is_attached_to_nobody(centre: HealthCentre) -> None:
    assert receive(centre).result == "unidentified"
    with centre.database.read() as session:
        assert session.scalar(select(func.count()).select_from(BpReading)) == 0


def test_a_reading_with_an_unknown_card_is_attached_to_nobody(centre: HealthCentre) -> None:
    assert receive(centre, card="C-NOBODY").result == "unidentified"


def test_a_card_of_another_site_does_not_identify_its_holder(
    database: Database, clock: FrozenClock
) -> None:
    centre = build_health_centre(database, clock)
    with database.write() as session:
        from booking.core.models.sites import Site

        other = Site(slug="other", name_zh="别处", name_en="Elsewhere")
        session.add(other)
        session.flush()
        assert (
            health_pairing.resident_by_card(session, site_id=other.id, card_id="C-FAMILY") is None
        )
        assert (
            health_pairing.resident_by_card(session, site_id=centre.site_id, card_id="C-FAMILY")
            is not None
        )


def test_a_card_holder_without_consent_gets_nothing_stored(centre: HealthCentre) -> None:
    assert receive(centre, card="C-SHY").result == "no_consent"
    assert readings_of(centre, "shy") == []


def test_the_same_reading_twice_is_stored_once_and_alerts_once(centre: HealthCentre) -> None:
    moment = centre.clock.now() - timedelta(seconds=5)
    receive(centre, card="C-FAMILY", systolic=190, diastolic=100, measured_at=moment)
    receive(centre, card="C-FAMILY", systolic=190, diastolic=100, measured_at=moment)
    assert len(readings_of(centre, "family")) == 1
    assert len(health_alerts(centre)) == 1


def test_the_stored_ruleset_is_the_sites_choice_at_the_time(centre: HealthCentre) -> None:
    with centre.database.write() as session:
        session.add(
            HealthSettings(
                site_id=centre.site_id,
                ruleset="aha_2017",
                retention_days=730,
                updated_at=centre.clock.now(),
            )
        )
    receive(centre, card="C-FAMILY", systolic=132, diastolic=78)
    (stored,) = readings_of(centre, "family")
    assert (stored.ruleset, stored.category) == (Ruleset.AHA_2017.value, "stage_1")


# --- kiosk pairing ----------------------------------------------------------------------------


def test_measure_now_pairs_the_resident_with_the_terminals_next_reading(
    centre: HealthCentre,
) -> None:
    pairing = pair(centre, "family")
    centre.clock.advance(timedelta(minutes=2))
    assert receive(centre, systolic=125, diastolic=81).result == "stored"
    (stored,) = readings_of(centre, "family")
    assert stored.identified_by == "kiosk"
    assert pairing_state(centre, "family", pairing) == (PairingStatus.DONE, None, stored.id)


def test_a_pairing_expires_after_three_minutes_and_the_reading_is_attached_to_nobody(
    centre: HealthCentre,
) -> None:
    pairing = pair(centre, "family")
    centre.clock.advance(timedelta(minutes=3))
    assert receive(centre).result == "unidentified"
    assert readings_of(centre, "family") == []
    assert pairing_state(centre, "family", pairing)[0] is PairingStatus.EXPIRED


def test_a_measurement_started_inside_the_window_may_finish_after_it(centre: HealthCentre) -> None:
    pairing = pair(centre, "family")
    centre.clock.advance(timedelta(minutes=2, seconds=50))
    with centre.database.write() as session:
        health_pairing.measurement_started(session, device_id=TERMINAL, now=centre.clock.now())
    centre.clock.advance(timedelta(seconds=40))
    assert receive(centre).result == "stored"
    assert pairing_state(centre, "family", pairing)[0] is PairingStatus.DONE


def test_measure_now_needs_consent(centre: HealthCentre) -> None:
    with pytest.raises(ConsentRequired):
        pair(centre, "shy")


def test_a_terminal_paired_with_one_resident_is_busy_for_another(centre: HealthCentre) -> None:
    pair(centre, "family")
    with pytest.raises(TerminalBusy):
        pair(centre, "alone")


def test_pressing_measure_now_again_keeps_the_same_pairing(centre: HealthCentre) -> None:
    assert pair(centre, "family") == pair(centre, "family")


def test_someone_elses_card_takes_the_terminal_from_a_waiting_kiosk_pairing(
    centre: HealthCentre,
) -> None:
    pairing = pair(centre, "family")
    with centre.database.write() as session:
        health_pairing.card_read(
            session,
            site_id=centre.site_id,
            device_id=TERMINAL,
            card_id="C-ALONE",
            now=centre.clock.now(),
        )
    assert pairing_state(centre, "family", pairing)[:2] == (PairingStatus.CANCELLED, "other_card")
    receive(centre, card="C-ALONE")
    assert readings_of(centre, "family") == []
    assert len(readings_of(centre, "alone")) == 1


def test_a_measurement_error_ends_the_pairing_with_its_code(centre: HealthCentre) -> None:
    pairing = pair(centre, "family")
    with centre.database.write() as session:
        health_pairing.measurement_failed(
            session, device_id=TERMINAL, code="cuff_error", now=centre.clock.now()
        )
    assert pairing_state(centre, "family", pairing)[:2] == (PairingStatus.FAILED, "cuff_error")


def test_an_impossible_reading_ends_the_pairing_without_storing(centre: HealthCentre) -> None:
    pairing = pair(centre, "family")
    receive(centre, systolic=80, diastolic=95)
    assert pairing_state(centre, "family", pairing)[:2] == (
        PairingStatus.FAILED,
        "impossible_reading",
    )
    assert readings_of(centre, "family") == []


# --- alerts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("systolic", "diastolic"), [(180, 100), (150, 110), (200, 125)])
def test_a_grade_3_reading_raises_an_urgent_alert_at_once_without_the_value(
    centre: HealthCentre, systolic: int, diastolic: int
) -> None:
    receive(centre, card="C-FAMILY", systolic=systolic, diastolic=diastolic)
    (alert,) = health_alerts(centre)
    assert (alert.kind, alert.severity, alert.resident_id) == (
        health.ALERT_URGENT,
        AlertSeverity.URGENT,
        centre.ids["family"],
    )
    assert str(systolic) not in alert.summary and str(diastolic) not in alert.summary
    assert "measured" in alert.summary


def test_a_grade_2_reading_raises_no_alert(centre: HealthCentre) -> None:
    receive(centre, card="C-FAMILY", systolic=179, diastolic=109)
    assert health_alerts(centre) == []


def test_two_grade_3_readings_in_a_row_are_one_open_alert(centre: HealthCentre) -> None:
    receive(centre, card="C-FAMILY", systolic=185, diastolic=100)
    centre.clock.advance(timedelta(minutes=5))
    receive(centre, card="C-FAMILY", systolic=182, diastolic=100)
    assert len(health_alerts(centre)) == 1


def high_on_days(centre: HealthCentre, card: str, days: int, per_day: int = 1) -> None:
    for _ in range(days):
        for _ in range(per_day):
            receive(centre, card=card, systolic=150, diastolic=92)
            centre.clock.advance(timedelta(minutes=10))
        centre.clock.advance(timedelta(days=1))


def test_high_readings_on_three_days_in_a_week_for_someone_living_alone_create_a_follow_up_task(
    centre: HealthCentre,
) -> None:
    high_on_days(centre, "C-ALONE", 3)
    (task,) = health_alerts(centre)
    assert (task.kind, task.severity, task.resident_id) == (
        health.ALERT_FOLLOW_UP,
        AlertSeverity.WARNING,
        centre.ids["alone"],
    )


def test_high_readings_on_two_days_create_no_follow_up_task(centre: HealthCentre) -> None:
    high_on_days(centre, "C-ALONE", 2, per_day=3)
    assert health_alerts(centre) == []


def test_high_readings_for_someone_who_does_not_live_alone_create_no_follow_up_task(
    centre: HealthCentre,
) -> None:
    high_on_days(centre, "C-FAMILY", 4)
    assert health_alerts(centre) == []


def test_high_days_more_than_a_week_apart_create_no_follow_up_task(centre: HealthCentre) -> None:
    high_on_days(centre, "C-ALONE", 1)
    centre.clock.advance(timedelta(days=4))
    high_on_days(centre, "C-ALONE", 1)
    centre.clock.advance(timedelta(days=4))
    high_on_days(centre, "C-ALONE", 1)
    assert health_alerts(centre) == []


def test_staff_acknowledge_annotate_and_close_a_follow_up_task(centre: HealthCentre) -> None:
    from booking.alerts.models.alerts import AlertStatus
    from booking.people import staff as staff_service
    from booking.people.models.staff import StaffRole

    high_on_days(centre, "C-ALONE", 3)
    (task,) = health_alerts(centre)
    with centre.database.write() as session:
        worker = staff_service.create_staff(
            session,
            site_id=centre.site_id,
            username="grid",
            display_name="网格员",
            password="a-long-password-1",
            role=StaffRole.STAFF,
            now=centre.clock.now(),
        )
        alerts.acknowledge(
            session, worker, task.id, now=centre.clock.now(), note="will visit at 3pm"
        )
        alerts.resolve(
            session, worker, task.id, now=centre.clock.now(), note="visited, she is fine"
        )
    with centre.database.read() as session:
        closed = session.get(StaffAlert, task.id)
        assert closed is not None and closed.status is AlertStatus.RESOLVED
        assert "will visit" in closed.note and "visited" in closed.note
    assert health_alerts(centre) == []


# --- consent ----------------------------------------------------------------------------------


def test_consent_is_recorded_with_date_channel_and_notice_version(centre: HealthCentre) -> None:
    with centre.database.read() as session:
        consent = health.consent_in_force(session, centre.ids["family"])
        assert consent is not None
        assert (consent.given_at, consent.channel, consent.notice_version) == (
            centre.clock.now(),
            ConsentChannel.KIOSK,
            health_consent.NOTICE_VERSION,
        )
        logged = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.subject == f"resident:{centre.ids['family']}"
            )
        ).all()
        assert "health.consent_given" in logged


def test_withdrawing_consent_deletes_the_residents_readings_and_no_one_elses(
    centre: HealthCentre,
) -> None:
    for _ in range(3):
        receive(centre, card="C-FAMILY")
        centre.clock.advance(timedelta(minutes=1))
        receive(centre, card="C-ALONE")
        centre.clock.advance(timedelta(minutes=1))
    with centre.database.write() as session:
        deleted = health_consent.withdraw_consent(
            session,
            resident_id=centre.ids["family"],
            site_id=centre.site_id,
            channel=ConsentChannel.KIOSK,
            now=centre.clock.now(),
        )
    assert deleted == 3
    assert readings_of(centre, "family") == []
    assert len(readings_of(centre, "alone")) == 3
    with centre.database.read() as session:
        assert health.consent_in_force(session, centre.ids["family"]) is None
        record = session.scalars(
            select(HealthConsent).where(HealthConsent.resident_id == centre.ids["family"])
        ).one()
        assert record.withdrawn_at == centre.clock.now()


def test_after_withdrawing_the_next_reading_is_not_stored(centre: HealthCentre) -> None:
    with centre.database.write() as session:
        health_consent.withdraw_consent(
            session,
            resident_id=centre.ids["family"],
            site_id=centre.site_id,
            channel=ConsentChannel.KIOSK,
            now=centre.clock.now(),
        )
    assert receive(centre, card="C-FAMILY").result == "no_consent"


def test_withdrawing_ends_a_waiting_pairing(centre: HealthCentre) -> None:
    pairing = pair(centre, "family")
    with centre.database.write() as session:
        health_consent.withdraw_consent(
            session,
            resident_id=centre.ids["family"],
            site_id=centre.site_id,
            channel=ConsentChannel.KIOSK,
            now=centre.clock.now(),
        )
    assert pairing_state(centre, "family", pairing)[0] is PairingStatus.CANCELLED


def test_withdrawing_a_reading_that_a_pairing_points_at_deletes_it(centre: HealthCentre) -> None:
    pairing = pair(centre, "family")
    receive(centre)
    with centre.database.write() as session:
        health_consent.withdraw_consent(
            session,
            resident_id=centre.ids["family"],
            site_id=centre.site_id,
            channel=ConsentChannel.KIOSK,
            now=centre.clock.now(),
        )
    assert pairing_state(centre, "family", pairing) == (PairingStatus.DONE, None, None)


# --- retention --------------------------------------------------------------------------------


def test_readings_older_than_two_years_are_purged_by_default(
    any_database: Database, clock: FrozenClock
) -> None:
    centre = build_health_centre(any_database, clock)
    receive(centre, card="C-FAMILY", measured_at=clock.now() - timedelta(days=731))
    receive(centre, card="C-FAMILY", measured_at=clock.now() - timedelta(days=729))
    with any_database.write() as session:
        assert health_retention.purge_expired(session, clock.now()) == 1
    (kept,) = readings_of(centre, "family")
    assert kept.measured_at == clock.now() - timedelta(days=729)


def test_the_retention_period_is_configurable_per_site(centre: HealthCentre) -> None:
    from booking.people import staff as staff_service
    from booking.people.models.staff import StaffRole

    with centre.database.write() as session:
        admin = staff_service.create_staff(
            session,
            site_id=centre.site_id,
            username="boss",
            display_name="站长",
            password="a-long-password-1",
            role=StaffRole.ADMIN,
            now=centre.clock.now(),
        )
        health.configure(session, admin, ruleset="china", retention_days=90, now=centre.clock.now())
    receive(centre, card="C-FAMILY", measured_at=centre.clock.now() - timedelta(days=91))
    with centre.database.write() as session:
        assert health_retention.purge_expired(session, centre.clock.now()) == 1


@pytest.mark.parametrize(("ruleset", "days"), [("who_1999", 730), ("china", 29), ("china", 3651)])
def test_settings_out_of_range_are_refused(centre: HealthCentre, ruleset: str, days: int) -> None:
    from booking.people import staff as staff_service
    from booking.people.models.staff import StaffRole

    with centre.database.write() as session:
        admin = staff_service.create_staff(
            session,
            site_id=centre.site_id,
            username="boss",
            display_name="站长",
            password="a-long-password-1",
            role=StaffRole.ADMIN,
            now=centre.clock.now(),
        )
        with pytest.raises(InvalidInput):
            health.configure(
                session, admin, ruleset=ruleset, retention_days=days, now=centre.clock.now()
            )
