"""A small centre for the health tests: one site, residents with and without consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health.models.consents import ConsentChannel
from booking.people import residents

TERMINAL = "bp-1"
FLAGS_CLEAR = {
    "body_movement": False,
    "cuff_too_loose": False,
    "irregular_pulse": False,
    "pulse_out_of_range": False,
    "improper_position": False,
}


@dataclass
class HealthCentre:
    database: Database
    clock: FrozenClock
    site_id: int
    # name → resident id: "alone" (lives alone, consent, card C-ALONE), "family" (consent,
    # card C-FAMILY), "shy" (no consent, card C-SHY)
    ids: dict[str, int]


def build_health_centre(
    database: Database, clock: FrozenClock, slug: str = "xinhua"
) -> HealthCentre:
    now = clock.now()
    ids: dict[str, int] = {}
    with database.write() as session:
        site = Site(slug=slug, name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        people = (
            ("alone", "王秀英", "13900000001", "C-ALONE", True),
            ("family", "李建国", "13900000002", "C-FAMILY", False),
            ("shy", "张伟", "13900000003", "C-SHY", False),
        )
        for key, name, phone, card, alone in people:
            resident = residents.register_resident(
                session,
                site_id=site.id,
                name=name,
                phone=phone,
                pin="275139",
                now=now,
                card_id=card,
                is_elderly=True,
                lives_alone=alone,
            )
            ids[key] = resident.id
            if key != "shy":
                health_consent.give_consent(
                    session,
                    resident_id=resident.id,
                    site_id=site.id,
                    channel=ConsentChannel.KIOSK,
                    now=now,
                )
        site_id = site.id
    return HealthCentre(database, clock, site_id, ids)


def raw_reading(
    systolic: float = 128,
    diastolic: float = 82,
    *,
    measured_at: datetime,
    pulse: int | None = 72,
    unit: str = "mmHg",
    mean: float | None = None,
    **flags: bool,
) -> dict[str, Any]:
    """The reading fields of a terminal's event, as booking.health.operations.reading_received takes them."""
    return {
        "systolic": systolic,
        "diastolic": diastolic,
        "mean_arterial_pressure": mean
        if mean is not None
        else round(diastolic + (systolic - diastolic) / 3, 1),
        "unit": unit,
        "pulse": pulse,
        "flags": {**FLAGS_CLEAR, **flags},
        "measured_at": measured_at,
    }
