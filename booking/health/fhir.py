"""A resident's readings as HL7 FHIR R4: a collection Bundle of vital-signs Observations.

Each reading gives a blood-pressure panel (LOINC 85354-9) with systolic (8480-6), diastolic
(8462-4) and mean (8478-0) components in mm[Hg], and, when the cuff measured a pulse, a
heart-rate Observation (8867-4, /min), as the FHIR vital-signs profiles ask. Plain dicts:
the output is JSON for whoever receives it (a doctor's system, the resident's own copy).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from booking.health.models.readings import BpReading

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
MEAN = ("8478-0", "Mean blood pressure")
HEART_RATE = ("8867-4", "Heart rate")
# Where the ids of our resources live, so that a receiver can tell them from its own.
IDENTIFIER_SYSTEM = "urn:linli:bp-reading"


def _coding(code: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}], "text": code[1]}


def _quantity(value: float, unit: str, ucum: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": ucum}


def _mmhg(code: tuple[str, str], value: float) -> dict[str, Any]:
    return {"code": _coding(code), "valueQuantity": _quantity(value, "mmHg", "mm[Hg]")}


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _common(reading: BpReading, subject: dict[str, str], kind: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"{kind}-{reading.id}",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"{kind}-{reading.id}"}],
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": CATEGORY_SYSTEM, "code": "vital-signs", "display": "Vital Signs"}
                ],
                "text": "Vital Signs",
            }
        ],
        "subject": subject,
        "effectiveDateTime": _instant(reading.measured_at),
        "issued": _instant(reading.received_at),
        "device": {"display": f"blood-pressure terminal {reading.device_id}"},
    }


def blood_pressure_observation(reading: BpReading, subject: dict[str, str]) -> dict[str, Any]:
    observation = _common(reading, subject, "bp")
    observation["code"] = _coding(BP_PANEL)
    observation["component"] = [
        _mmhg(SYSTOLIC, reading.systolic),
        _mmhg(DIASTOLIC, reading.diastolic),
        _mmhg(MEAN, reading.mean_arterial_pressure),
    ]
    # The category under the ruleset stored with the reading: a note, not a diagnosis.
    observation["note"] = [
        {"text": f"Category {reading.category} under ruleset {reading.ruleset} (not a diagnosis)"}
    ]
    raised = [name for name, on in sorted(reading.flags.items()) if on]
    if raised:
        observation["note"].append({"text": "Measurement status: " + ", ".join(raised)})
    return observation


def heart_rate_observation(reading: BpReading, subject: dict[str, str]) -> dict[str, Any]:
    observation = _common(reading, subject, "hr")
    observation["code"] = _coding(HEART_RATE)
    observation["valueQuantity"] = _quantity(float(reading.pulse or 0), "beats/minute", "/min")
    observation["derivedFrom"] = [{"reference": f"Observation/bp-{reading.id}"}]
    return observation


def export_bundle(
    readings: Iterable[BpReading], *, resident_id: int, generated_at: datetime
) -> dict[str, Any]:
    """A FHIR R4 ``collection`` Bundle holding every reading given, oldest first."""
    subject = {"reference": f"Patient/linli-resident-{resident_id}"}
    entries: list[dict[str, Any]] = []
    for reading in readings:
        resources = [blood_pressure_observation(reading, subject)]
        if reading.pulse is not None:
            resources.append(heart_rate_observation(reading, subject))
        for resource in resources:
            entries.append(
                {"fullUrl": f"urn:linli:observation:{resource['id']}", "resource": resource}
            )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(generated_at),
        "entry": entries,
    }
