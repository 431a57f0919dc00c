"""Erasing the personal data of residents deactivated longer than the retention period.

The row stays, so every booking, loan, strike and count keeps pointing at it and history
adds up; what made it a person goes: the name becomes a placeholder, the phone a unique
tombstone, and every other column a person filled in (card, PIN hash, address, emergency
contact, …) is cleared. Their blood-pressure readings and the device side's health data
named by their card are deleted as a withdrawal deletes them (booking.health.consent); the
consent records stay, as that module keeps them, holding dates and ids only. Failed sign-ins
counted under the phone go too, and so do the messages sent to them (booking.messages).

Columns are cleared by what the table says (nullable → NULL, else the column's default),
not by a list here, so a column added to ``residents`` later is erased too unless it is
named in :data:`KEPT`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, delete, inspect, select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.health import consent as health_consent
from booking.health import retention as health_retention
from booking.messages.models.outbox import OutboxMessage
from booking.people.account_errors import AccountStateWrong
from booking.people.models.residents import Resident
from booking.people.models.sign_in_failures import SignInFailure, SignInKind

ERASED_NAME = "已删除"
# The account's own bookkeeping: not about the person.
KEPT = frozenset(
    {"id", "name", "phone", "created_at", "deactivated_at", "deactivation_reason",
     "merged_into_id", "erased_at"}
)  # fmt: skip
BATCH = 200


def tombstone_phone(resident_id: int) -> str:
    """Unique (the phone column is) and never a phone: no digit string can match it."""
    return f"erased-{resident_id}"


def _cleared(column: Any) -> Any:
    if column.nullable:
        return None
    if column.default is not None and column.default.is_scalar:
        return column.default.arg
    if isinstance(column.type, Boolean):
        return False
    return ""


def erase(session: Session, *, resident: Resident, now: datetime, actor: str) -> None:
    """Erase a deactivated resident's personal data now; audited with ids and counts."""
    if resident.erased_at is not None:
        raise AccountStateWrong("the account is already erased")
    resident.mark_erased(now)  # refuses an active account
    readings = health_consent.delete_readings(session, resident_id=resident.id)
    elsewhere = 0
    if resident.card_id:
        for other in health_retention.OTHER_HEALTH_DATA:
            elsewhere += other.purge_card(session, resident.card_id)
    failures = session.execute(
        delete(SignInFailure)
        .where(SignInFailure.kind == SignInKind.RESIDENT, SignInFailure.account == resident.phone)
        .execution_options(synchronize_session=False)
    )
    # Their messages hold their phone and words about them (and a contact's phone).
    messages = session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.resident_id == resident.id)
        .execution_options(synchronize_session=False)
    )
    for attribute in inspect(Resident).column_attrs:
        if attribute.key not in KEPT:
            setattr(resident, attribute.key, _cleared(attribute.columns[0]))
    resident.name = ERASED_NAME
    resident.phone = tombstone_phone(resident.id)
    session.flush()
    detail = {
        "readings_deleted": readings,
        "other_health_data_deleted": elsewhere,
        "sign_in_failures_deleted": int(getattr(failures, "rowcount", 0) or 0),
        "messages_deleted": int(getattr(messages, "rowcount", 0) or 0),
    }
    # In each centre's own log: its staff read only theirs.
    sites: list[int | None] = [*sorted({m.site_id for m in resident.memberships})]
    for site_id in sites or [None]:
        audit.record(
            session, action="resident.erased", actor=actor, now=now, site_id=site_id,
            subject=f"resident:{resident.id}", detail=detail,
        )  # fmt: skip


def due_for_erasure(
    session: Session, *, now: datetime, keep: timedelta, limit: int = BATCH
) -> list[int]:
    """Residents deactivated at least ``keep`` ago and not yet erased, oldest first."""
    return list(
        session.scalars(
            select(Resident.id)
            .where(
                Resident.deactivated_at.is_not(None),
                Resident.deactivated_at <= now - keep,
                Resident.erased_at.is_(None),
            )
            .order_by(Resident.deactivated_at, Resident.id)
            .limit(limit)
        )
    )


def erase_one(session: Session, *, resident_id: int, now: datetime, keep: timedelta) -> bool:
    """The job's step: erase one resident if still due (a reactivation since is respected)."""
    resident = session.get(Resident, resident_id, with_for_update=True, populate_existing=True)
    if (
        resident is None
        or resident.erased_at is not None
        or resident.deactivated_at is None
        or resident.deactivated_at > now - keep
    ):
        return False
    erase(session, resident=resident, now=now, actor="system:retention")
    return True
