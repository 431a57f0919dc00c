"""Residents' cards: binding one (tapped on a terminal's reader or typed by staff) and
unbinding a lost one, so that its number stops identifying anybody at once.

Every card lookup (booking.health.pairing) reads ``Resident.card_id`` of an active resident,
so unbinding is the whole of "the old card stops working". The audit names ids only: never
the card number, which identifies the resident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import InvalidInput, NotFound
from booking.people.account_errors import AccountStateWrong, CardTaken, NoCardBound
from booking.people.models.card_binds import CardBind, CardBindStatus
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount

# How long "bind card" waits for the tap.
BIND_WINDOW = timedelta(minutes=2)
# The protocol's card number (docs/schemas/event.json), within what a resident row holds.
CARD_MAX = 40
CARD_PATTERN = re.compile(rf"^[A-Za-z0-9_-]{{1,{CARD_MAX}}}$")


def check_card_number(card_id: str) -> str:
    """A typed or read card number, stripped; :class:`InvalidInput` unless it is 1 to 40
    letters, digits, ``-`` or ``_``."""
    card_id = (card_id or "").strip()
    if not CARD_PATTERN.match(card_id):
        raise InvalidInput("a card number is 1 to 40 letters, digits, - or _", field="card_id")
    return card_id


def _active_holder(card_id: str) -> Select[Resident]:
    """The active resident holding that card, by their memberships (a deactivated account's
    card identifies nobody)."""
    return (
        select(Resident)
        .join(ResidentMembership, ResidentMembership.resident_id == Resident.id)
        .where(Resident.card_id == card_id, Resident.deactivated_at.is_(None))
    )


def resident_by_card(session: Session, *, site_id: int, card_id: str) -> Resident | None:
    """The active member of the site holding that card, if any."""
    return session.scalar(_active_holder(card_id).where(ResidentMembership.site_id == site_id))


def resident_of_the_district_by_card(session: Session, *, card_id: str) -> Resident | None:
    """The active resident of the district (enrolled at some centre) holding that card: at a
    kiosk, a card signs its holder in at any centre, as their phone and PIN do (the PIN is
    still asked, and the sign-in makes them a visitor there: booking.people.visits)."""
    return session.scalar(
        _active_holder(card_id).where(ResidentMembership.visitor.is_(False)).limit(1)
    )


def _subject(resident_id: int) -> str:
    return f"resident:{resident_id}"


def _bind(session: Session, resident: Resident, card_id: str) -> None:
    if resident.erased_at is not None or not resident.is_active:
        raise AccountStateWrong("a deactivated account gets no card")
    holder = session.scalar(select(Resident.id).where(Resident.card_id == card_id))
    if holder is not None and holder != resident.id:
        raise CardTaken("the card is bound to another resident", holder_id=holder)
    resident.card_id = card_id
    session.flush()


def bind_typed(
    session: Session, *, staff: StaffAccount, resident: Resident, card_id: str, now: datetime
) -> None:
    """Staff type the card's number. A card another resident holds is refused; a card the
    resident already had is replaced (the old one stops working)."""
    card_id = check_card_number(card_id)
    replaced = resident.card_id is not None and resident.card_id != card_id
    _bind(session, resident, card_id)
    audit.record_staff(
        session, staff, action="resident.card_bound", now=now, subject=_subject(resident.id),
        detail={"how": "typed", "replaced": replaced},
    )  # fmt: skip


def unbind(
    session: Session, *, staff: StaffAccount, resident: Resident, now: datetime, reason: str
) -> None:
    """A lost (or returned) card: it identifies nobody from this moment."""
    if resident.card_id is None:
        raise NoCardBound("the resident has no card")
    resident.card_id = None
    session.flush()
    audit.record_staff(
        session, staff, action="resident.card_unbound", now=now, subject=_subject(resident.id),
        detail={"reason": reason},
    )  # fmt: skip


def start_bind(
    session: Session, *, staff: StaffAccount, resident: Resident, device_id: str, now: datetime
) -> CardBind:
    """Wait for the next card read at ``device_id`` (a terminal of the staff's site: the
    caller checks). A newer bind replaces the resident's or the terminal's waiting one."""
    if not resident.is_active:
        raise AccountStateWrong("a deactivated account gets no card")
    for earlier in session.scalars(
        select(CardBind).where(
            CardBind.status == CardBindStatus.WAITING,
            (CardBind.device_id == device_id) | (CardBind.resident_id == resident.id),
        )
    ):
        earlier.finish(CardBindStatus.CANCELLED, now)
    bind = CardBind(
        site_id=staff.working_site_id,
        resident_id=resident.id,
        staff_id=staff.id,
        device_id=device_id,
        created_at=now,
        expires_at=now + BIND_WINDOW,
    )
    session.add(bind)
    session.flush()
    audit.record_staff(
        session, staff, action="resident.card_bind_started", now=now,
        subject=_subject(resident.id), detail={"bind_id": bind.id, "device_id": device_id},
    )  # fmt: skip
    return bind


def _expire_if_over(bind: CardBind, now: datetime) -> None:
    if bind.status.is_open and now >= bind.expires_at:
        bind.finish(CardBindStatus.EXPIRED, now)


def bind_of(
    session: Session, *, site_id: int, resident_id: int, bind_id: int, now: datetime
) -> CardBind:
    """The resident's bind at the site, marked expired if its window has passed."""
    bind = session.get(CardBind, bind_id)
    if bind is None or bind.site_id != site_id or bind.resident_id != resident_id:
        raise NotFound("no such card bind")
    _expire_if_over(bind, now)
    return bind


def cancel_binds(session: Session, *, resident_id: int, now: datetime) -> None:
    """End the resident's waiting binds (the account is deactivated or merged)."""
    for bind in session.scalars(
        select(CardBind).where(
            CardBind.resident_id == resident_id, CardBind.status == CardBindStatus.WAITING
        )
    ):
        bind.finish(CardBindStatus.CANCELLED, now)


# Why a card read could not be bound, as the bind keeps it (the console says it in words).
READ_FAILURES: dict[type[Exception], str] = {
    CardTaken: "card_taken",
    InvalidInput: "card_invalid",  # longer than our records hold (the protocol allows 64)
    AccountStateWrong: "account_state",
}


@dataclass(frozen=True)
class CardReadOutcome:
    bind: CardBind
    bound: bool


def card_read(
    session: Session, *, site_id: int, device_id: str, card_id: str, now: datetime
) -> CardReadOutcome | None:
    """A card read at a terminal. None if no bind waits there (the read is a measurement's,
    booking.health.pairing); else the waiting bind, bound or refused, and the read is used up.
    """
    waiting = session.scalars(
        select(CardBind)
        .where(
            CardBind.device_id == device_id,
            CardBind.site_id == site_id,
            CardBind.status == CardBindStatus.WAITING,
        )
        .order_by(CardBind.id.desc())
        .with_for_update()
    ).all()
    live = None
    for bind in waiting:
        _expire_if_over(bind, now)
        if bind.status.is_open and live is None:
            live = bind
    if live is None:
        return None
    resident = session.get_one(Resident, live.resident_id)
    staff = session.get_one(StaffAccount, live.staff_id)
    try:
        _bind(session, resident, check_card_number(card_id))
    except (CardTaken, InvalidInput, AccountStateWrong) as refused:
        live.finish(CardBindStatus.REFUSED, now, failure=READ_FAILURES[type(refused)])
        outcome = CardReadOutcome(live, bound=False)
    else:
        live.finish(CardBindStatus.BOUND, now)
        outcome = CardReadOutcome(live, bound=True)
    audit.record(
        session, action="resident.card_bound" if outcome.bound else "resident.card_bind_refused",
        actor=audit.staff_actor(staff), staff_id=staff.id, site_id=site_id, now=now,
        subject=_subject(resident.id),
        detail={"how": "reader", "device_id": device_id, "bind_id": live.id,
                **({} if outcome.bound else {"failure": live.failure})},
    )  # fmt: skip
    return outcome
