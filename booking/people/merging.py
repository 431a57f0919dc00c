"""Merging two accounts of one person: everything of the merged account moves to the
survivor, and the merged account is deactivated ("merged into N") so it cannot sign in.

Every table with a foreign key to ``residents`` is found from the metadata, so a table added
later moves too. The conflicts, and their rules:

- both hold a live booking at overlapping times: refused (staff cancel one first);
- both wait in a queue for the same slot: the merged account's wait ends;
- both have a card: the survivor's stays, the merged account's card stops working; a card
  only the merged account had moves to the survivor;
- both have a health consent in force: the survivor's stays in force and the other is
  closed (its readings move under the survivor's; nothing is deleted);
- memberships are the account's own and stay; the survivor joins every centre the merged
  account belonged to; a notice of the same closure to both: the survivor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session, aliased

from booking.alerts.models.notifications import Notification
from booking.core import audit
from booking.core.db import Base
from booking.health import operations as health
from booking.health import pairing as health_pairing
from booking.people import cards, deactivation, one_time_codes
from booking.people.account_errors import AccountStateWrong, MergeRefused
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import DeactivationReason, Resident
from booking.people.models.staff import StaffAccount
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking
from booking.spaces.models.waitlist import WaitlistEntry, WaitlistStatus


@dataclass(frozen=True)
class Merged:
    moved: dict[str, int]  # rows moved, by table
    card: str  # "kept", "moved", "dropped" (the merged account's card stopped working) or "none"


def resident_references() -> list[tuple[Table, str]]:
    """Every (table, column) whose foreign key points at ``residents.id``, but the residents
    table's own (``merged_into_id``)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "residents" and table.name != "residents":
                found.append((table, fk.parent.name))
    return found


def _clashing_booking(session: Session, survivor_id: int, merged_id: int) -> Booking | None:
    theirs = aliased(Booking)
    return session.scalar(
        select(Booking)
        .join(
            theirs,
            (theirs.resident_id == survivor_id)
            & theirs.status.in_(ACTIVE_STATUSES)
            & (theirs.starts_at < Booking.ends_at)
            & (Booking.starts_at < theirs.ends_at),
        )
        .where(Booking.resident_id == merged_id, Booking.status.in_(ACTIVE_STATUSES))
        .limit(1)
    )


def merge(
    session: Session,
    *,
    staff: StaffAccount,
    survivor: Resident,
    merged: Resident,
    now: datetime,
) -> Merged:
    """Move everything of ``merged`` to ``survivor`` and deactivate ``merged``. Both must be
    active accounts; refusals (:class:`MergeRefused`) change nothing."""
    if survivor.id == merged.id:
        raise MergeRefused("an account cannot be merged into itself", reason="same")
    if not survivor.is_active or not merged.is_active:
        raise AccountStateWrong("only active accounts are merged")
    clash = _clashing_booking(session, survivor.id, merged.id)
    if clash is not None:
        raise MergeRefused(
            "both accounts hold a booking at the same time", reason="bookings_overlap",
            booking_id=clash.id,
        )  # fmt: skip

    card = _settle_card(session, survivor, merged)
    # What must not carry over as it stands: live sign-ins, pairings, binds of the old account.
    deactivation.end_sessions(session, resident_id=merged.id, now=now)
    health_pairing.close_open_pairings(session, resident_id=merged.id, now=now)
    cards.cancel_binds(session, resident_id=merged.id, now=now)
    one_time_codes.void_unused(session, resident_id=merged.id, now=now)
    _settle_waits(session, survivor.id, merged.id)
    _settle_consents(session, survivor.id, merged.id, now)
    _settle_memberships(session, survivor.id, merged.id, now)
    _settle_notices(session, survivor.id, merged.id)

    moved = {}
    for table, column in resident_references():
        if table.name == ResidentMembership.__tablename__:
            continue
        result = session.execute(
            update(table)
            .where(table.c[column] == merged.id)
            .values({column: survivor.id})
            .execution_options(synchronize_session=False)
        )
        if count := int(getattr(result, "rowcount", 0) or 0):
            moved[table.name] = count
    session.expire_all()
    merged = session.get_one(Resident, merged.id)
    merged.deactivate(DeactivationReason.MERGED, now, merged_into=survivor.id)
    audit.record_staff(
        session, staff, action="resident.merged", now=now, subject=f"resident:{merged.id}",
        detail={"merged_id": merged.id, "survivor_id": survivor.id, "moved": moved, "card": card},
    )  # fmt: skip
    return Merged(moved, card)


def _settle_card(session: Session, survivor: Resident, merged: Resident) -> str:
    card_id = merged.card_id
    if card_id is None:
        return "kept" if survivor.card_id else "none"
    merged.card_id = None
    session.flush()  # the card is unique: off the old account before it is on the new one
    if survivor.card_id is not None:
        return "dropped"
    survivor.card_id = card_id
    session.flush()
    return "moved"


def _settle_waits(session: Session, survivor_id: int, merged_id: int) -> None:
    mine = session.execute(
        select(WaitlistEntry.space_id, WaitlistEntry.seat_id, WaitlistEntry.starts_at).where(
            WaitlistEntry.resident_id == survivor_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
    ).all()
    wanted = {tuple(row) for row in mine}
    for entry in session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.resident_id == merged_id, WaitlistEntry.status == WaitlistStatus.WAITING
        )
    ):
        if (entry.space_id, entry.seat_id, entry.starts_at) in wanted:
            entry.settle(WaitlistStatus.CANCELLED)


def _settle_consents(session: Session, survivor_id: int, merged_id: int, now: datetime) -> None:
    kept = health.consent_in_force(session, survivor_id)
    other = health.consent_in_force(session, merged_id)
    if kept is not None and other is not None:
        # Closed, not withdrawn by the person: its channel stays the one it was given by.
        other.withdraw(channel=other.channel, now=now)


def _settle_memberships(session: Session, survivor_id: int, merged_id: int, now: datetime) -> None:
    """The survivor joins every centre the merged account belonged to. The merged account
    keeps its own memberships: they are part of the account, so staff of those centres
    still find it, marked "merged into N"."""
    have = set(
        session.scalars(
            select(ResidentMembership.site_id).where(ResidentMembership.resident_id == survivor_id)
        )
    )
    for membership in session.scalars(
        select(ResidentMembership).where(ResidentMembership.resident_id == merged_id)
    ).all():
        if membership.site_id not in have:
            session.add(
                ResidentMembership(
                    resident_id=survivor_id,
                    site_id=membership.site_id,
                    joined_at=membership.joined_at,
                    # A centre the merged account only visited stays a visited one.
                    visitor=membership.visitor,
                )
            )
    session.flush()


def _settle_notices(session: Session, survivor_id: int, merged_id: int) -> None:
    have = select(Notification.closure_id).where(
        Notification.resident_id == survivor_id,
        Notification.closure_id.is_not(None),
    )
    session.execute(
        delete(Notification)
        .where(
            Notification.resident_id == merged_id,
            Notification.closure_id.in_(have),
        )
        .execution_options(synchronize_session=False)
    )
