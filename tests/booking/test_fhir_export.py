"""The FHIR R4 export validates as Observations with the LOINC codes of the vital-signs profiles.

fhir.resources ships R4B (4.3), the R4 technical correction whose Observation and Bundle are
R4's; validating against it checks every element name, type and cardinality."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from health_centre import HealthCentre, build_health_centre, raw_reading

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.health import fhir as fhir_export
from booking.health import operations as health
from booking.health import pairing as health_pairing


@pytest.fixture
def centre(database: Database, clock: FrozenClock) -> HealthCentre:
    centre = build_health_centre(database, clock)
    with database.write() as session:
        for minutes, (sys_, dia, pulse) in enumerate([(148, 86, 72), (121, 79, None)]):
            health_pairing.reading_received(
                session,
                site_id=centre.site_id,
                device_id="bp-1",
                card_id="C-FAMILY",
                now=clock.now(),
                **raw_reading(
                    sys_,
                    dia,
                    pulse=pulse,
                    measured_at=clock.now() - timedelta(minutes=10 - minutes),
                    irregular_pulse=True,
                ),
            )
    return centre


def exported(centre: HealthCentre) -> dict[str, object]:
    with centre.database.read() as session:
        readings = health.all_readings(session, centre.ids["family"])
        return fhir_export.export_bundle(
            readings, resident_id=centre.ids["family"], generated_at=centre.clock.now()
        )


def observations(centre: HealthCentre) -> list[Observation]:
    bundle = Bundle.model_validate(exported(centre))
    assert bundle.type == "collection"
    return [Observation.model_validate(entry.resource.model_dump()) for entry in bundle.entry or []]


def codes(observation: Observation) -> set[str]:
    return {coding.code for coding in observation.code.coding or []}


def test_the_export_is_a_valid_fhir_bundle_of_observations(centre: HealthCentre) -> None:
    found = observations(centre)
    assert [o.id for o in found] == ["bp-1", "hr-1", "bp-2"]
    assert all(o.status == "final" for o in found)


def test_each_reading_is_a_blood_pressure_panel_with_systolic_and_diastolic_components(
    centre: HealthCentre,
) -> None:
    panel = observations(centre)[0]
    assert codes(panel) == {"85354-9"}
    components = {c.code.coding[0].code: c.valueQuantity for c in panel.component or []}
    assert (components["8480-6"].value, components["8462-4"].value) == (148, 86)
    assert {q.code for q in components.values()} == {"mm[Hg]"}
    assert {q.system for q in components.values()} == {"http://unitsofmeasure.org"}
    assert panel.category[0].coding[0].code == "vital-signs"
    assert panel.subject.reference == f"Patient/linli-resident-{centre.ids['family']}"


def test_the_pulse_is_a_heart_rate_observation_only_when_measured(centre: HealthCentre) -> None:
    heart = [o for o in observations(centre) if codes(o) == {"8867-4"}]
    assert len(heart) == 1
    assert (heart[0].valueQuantity.value, heart[0].valueQuantity.code) == (72, "/min")


def test_the_measurement_time_is_the_effective_time(centre: HealthCentre) -> None:
    panel = observations(centre)[0]
    assert panel.effectiveDateTime == centre.clock.now() - timedelta(minutes=10)
