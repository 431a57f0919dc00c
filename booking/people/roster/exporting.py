"""A centre's roster as rows, with the same columns and words an import reads
(:mod:`booking.people.roster.columns`), so an exported roster imports again as it was."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.roster.columns import COLUMNS, language_label, yes_no_label

HEADER: tuple[str, ...] = tuple(column.header for column in COLUMNS)
ExportCell = str | int | None


def roster_rows(session: Session, *, site_id: int) -> Iterator[list[ExportCell]]:
    """The members of ``site_id``, by building, unit, room and name; one list per resident
    in :data:`HEADER`'s order. Streamed: the caller writes each as it comes."""
    query = (
        select(Resident)
        .join(ResidentMembership)
        # The centre's own residents: visitors from elsewhere in the district are their
        # home centre's (booking.people.visits).
        .where(ResidentMembership.site_id == site_id, ResidentMembership.visitor.is_(False))
        .order_by(Resident.building, Resident.unit, Resident.room, Resident.name, Resident.id)
        .execution_options(yield_per=1000)
    )
    for resident in session.scalars(query):
        yield [
            resident.name,
            resident.phone,
            resident.birth_year,
            resident.building or "",
            resident.unit or "",
            resident.room or "",
            yes_no_label(resident.lives_alone),
            resident.emergency_contact_name or "",
            resident.emergency_contact_phone or "",
            language_label(resident.preferred_language),
        ]
