"""Reconciliation: every full state a locker sends is compared with the lending records.

The locker is the witness of what is inside its compartments; the records say where each
tool should be. Two disagreements matter:

- an item **present** in its compartment while an open loan says it is out: staff are asked
  "returned without a return?", and nothing else changes until they look (the compartment may
  hold something else, and the loan may be right);
- an item **absent** from its compartment while the records say it is inside (available, or
  held for a pickup not yet at the door): the item becomes ``missing``, a hold on it is
  released, it is never offered, and staff are alerted.

Each disagreement is a :class:`~booking.lending.models.mismatches.LendingMismatch`, raised once however many full
states show it. A full state that no longer shows it ends it; an item ``missing`` that is back
in its compartment is available again. Staff resolve a mismatch on the console with a note
(:func:`booking.lending.mismatch_resolve.resolve`), and what they decide changes the records
as it says, audited; :mod:`booking.lending.mismatch_list` lists them.

A compartment in the middle of a door cycle (its door open or its bolt moving, or a pickup or
return at its door) is never judged: what it holds is changing under our eyes.

Called by the device side (``devices.locker.reconciliation``) in the ingest transaction and
by the console's request; neither knows the rules.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core import audit
from booking.lending import door_session
from booking.lending import history as lending_history
from booking.lending.history import DeviceRef
from booking.lending.models.door_sessions import (
    AT_THE_DOOR_STATES,
    LIVE_DOOR_STATES,
    DoorPurpose,
    DoorSession,
    DoorSessionState,
    ReleaseReason,
)
from booking.lending.models.events import LendingAction
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan
from booking.lending.models.mismatches import (
    LendingMismatch,
    MismatchKind,
)
from booking.lending.models.tools import Item, ItemStatus

log = logging.getLogger(__name__)

MAX_NOTE = 500

KIND_PRESENT = "lending.present_during_loan"
# The same kind and key as the alert raised when the locker reports a tool taken with no
# pickup under way: the event and the full state that follows it are one alert, not two.
KIND_MISSING = "lending.item_missing"

# Where the records say the item is inside its compartment.
_EXPECTED_INSIDE = (ItemStatus.AVAILABLE, ItemStatus.RESERVED, ItemStatus.MISSING)


@dataclass(frozen=True)
class CompartmentReport:
    """What a locker said of one compartment, as the device side knows it now."""

    n: int
    item_present: bool | None
    # Door closed and bolt at rest (locked, or jammed shut): no door cycle is under way.
    at_rest: bool


@dataclass
class Reconciled:
    raised: list[LendingMismatch] = field(default_factory=list)
    cleared: list[LendingMismatch] = field(default_factory=list)


# Built once: reconcile runs after every locker event, and building these per call cost more
# than running them (docs/benchmarks.md).
_ITEMS_OF_LOCKER = select(Item).where(Item.locker_device_id == bindparam("device_id"))
_OPEN_MISMATCHES = select(LendingMismatch).where(
    LendingMismatch.device_id == bindparam("device_id"), LendingMismatch.cleared_at.is_(None)
)
_OPEN_MISMATCHES_LOCKED = _OPEN_MISMATCHES.with_for_update()
# After a single event only an open mismatch or a missing item can change (raise_new False):
# almost always neither, and one look instead of the two reads below.
_ANYTHING_TO_SETTLE = select(
    or_(
        exists().where(
            LendingMismatch.device_id == bindparam("device_id"),
            LendingMismatch.cleared_at.is_(None),
        ),
        exists().where(
            Item.locker_device_id == bindparam("device_id"), Item.status == ItemStatus.MISSING
        ),
    )
)

# What one compartment shows: a disagreement (its kind and the loan it is about), nothing, or
# "cannot judge now".
_Finding = tuple[MismatchKind, int | None]
_SKIP = "skip"


def reconcile(
    session: Session,
    *,
    site_id: int,
    device_id: str,
    reports: Iterable[CompartmentReport],
    now: datetime,
    source: DeviceRef | None = None,
    raise_new: bool = True,
) -> Reconciled:
    """Compare the compartments of ``device_id`` with the records; raise what disagrees (once),
    and end what no longer does. With ``raise_new`` False only ends mismatches: a single
    event (not a full state) may show that one is over, never that one began."""
    result = Reconciled()
    by_n = {report.n: report for report in reports}
    of_locker = {"device_id": device_id}
    if not raise_new and not session.scalar(_ANYTHING_TO_SETTLE, of_locker):
        return result
    items = list(session.scalars(_ITEMS_OF_LOCKER, of_locker))
    # A full state locks them (before any item, as staff resolving one do), so staff acting
    # at the same moment wait, or find it cleared. After an event the item rows are already
    # locked by the lending handlers: taking these after them could deadlock with staff, and
    # a mismatch an event ends is one the next full state would end anyway.
    query = _OPEN_MISMATCHES_LOCKED if raise_new else _OPEN_MISMATCHES
    current = {m.item_id: m for m in session.scalars(query, of_locker)}
    if not items and not current:
        return result
    at_item = {item.compartment: item for item in items}
    # An item moved to another place since: its episode here is over.
    for stale in list(current.values()):
        there = at_item.get(stale.compartment)
        if there is None or there.id != stale.item_id:
            _clear(session, stale, now, device_id, reason="item moved")
            result.cleared.append(current.pop(stale.item_id))
    # Most full states agree everywhere: only compartments that may disagree (or whose
    # mismatch may be over) cost the loans' and door sessions' queries.
    worth_a_look = {
        n: (report, item)
        for n, report in sorted(by_n.items())
        if (item := at_item.get(n)) is not None
        and (item.id in current or _may_disagree(report, item))
    }
    if not worth_a_look:
        return result
    loans = _open_loans(session, [item.id for _report, item in worth_a_look.values()])
    sessions = _live_sessions(session, device_id)
    for n, (report, item) in worth_a_look.items():
        finding = _finding(report, item, loans.get(item.id), sessions.get(n, ()))
        if finding == _SKIP:
            continue
        m = current.get(item.id)
        if m is not None and (finding is None or finding != (m.kind, m.loan_id)):
            _clear(session, m, now, device_id, reason="the locker agrees")
            result.cleared.append(m)
            m = None
        if finding is None:
            if item.status is ItemStatus.MISSING and report.item_present:
                _found_by_locker(session, item, n, now, device_id, source)
            continue
        if m is not None:
            m.seen_again(now)
            if m.kind is MismatchKind.ITEM_ABSENT and item.status is not ItemStatus.MISSING:
                # Put back in lending by hand while the compartment is still empty: the
                # locker is the witness, so it is not offered.
                _mark_missing(session, item, sessions.get(n, ()), now, device_id, source,
                              {"compartment": n, "mismatch_id": m.id})  # fmt: skip
        elif raise_new:
            assert isinstance(finding, tuple)
            result.raised.append(
                _raise(
                    session,
                    site_id,
                    device_id,
                    item,
                    finding[0],
                    loans.get(item.id),
                    sessions.get(n, ()),
                    now,
                    source,
                )  # fmt: skip
            )
    return result


def _may_disagree(report: CompartmentReport, item: Item) -> bool:
    """From the item's status alone: could this compartment disagree with the records?"""
    if report.item_present is None or not report.at_rest:
        return False
    if report.item_present:
        return item.status in (ItemStatus.ON_LOAN, ItemStatus.OVERDUE, ItemStatus.MISSING)
    return item.status in _EXPECTED_INSIDE


def _open_loans(session: Session, item_ids: Sequence[int]) -> dict[int, Loan]:
    if not item_ids:
        return {}
    return {
        loan.item_id: loan
        for loan in session.scalars(
            select(Loan).where(Loan.item_id.in_(item_ids), Loan.status.in_(OPEN_LOAN_STATUSES))
        )
    }


def _live_sessions(session: Session, device_id: str) -> dict[int, list[DoorSession]]:
    found: dict[int, list[DoorSession]] = defaultdict(list)
    for door in session.scalars(
        select(DoorSession).where(
            DoorSession.device_id == device_id, DoorSession.state.in_(LIVE_DOOR_STATES)
        )
    ):
        found[door.compartment].append(door)
    return found


def _finding(
    report: CompartmentReport, item: Item, loan: Loan | None, doors: Sequence[DoorSession]
) -> _Finding | None | str:
    if report.item_present is None or not report.at_rest:
        return _SKIP
    if any(door.state in AT_THE_DOOR_STATES for door in doors):
        return _SKIP
    if report.item_present:
        if loan is None:
            return None
        if any(door.purpose is DoorPurpose.RETURN for door in doors):
            return _SKIP  # its return is about to open the door: the return decides
        return (MismatchKind.PRESENT_DURING_LOAN, loan.id)
    if item.status in _EXPECTED_INSIDE:
        return (MismatchKind.ITEM_ABSENT, None)
    return None


def locked_item(session: Session, item_id: int) -> Item:
    return session.scalars(
        select(Item)
        .where(Item.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _raise(
    session: Session,
    site_id: int,
    device_id: str,
    item: Item,
    kind: MismatchKind,
    loan: Loan | None,
    doors: Sequence[DoorSession],
    now: datetime,
    source: DeviceRef | None,
) -> LendingMismatch:
    item = locked_item(session, item.id)
    assert item.compartment is not None
    # The item was moved here from a locker that has not reported since: its episode there
    # is over (one current mismatch per item).
    for elsewhere in session.scalars(
        select(LendingMismatch).where(
            LendingMismatch.item_id == item.id, LendingMismatch.cleared_at.is_(None)
        )
    ):
        _clear(session, elsewhere, now, elsewhere.device_id, reason="item moved")
    session.flush()
    m = LendingMismatch(
        site_id=site_id,
        kind=kind,
        device_id=device_id,
        compartment=item.compartment,
        item_id=item.id,
        loan_id=loan.id if kind is MismatchKind.PRESENT_DURING_LOAN and loan else None,
        device_session=source.session if source else None,
        device_seq=source.seq if source else None,
        observed_at=now,
        last_seen_at=now,
    )
    session.add(m)
    session.flush()
    detail = {"compartment": item.compartment, "mismatch_id": m.id}
    if kind is MismatchKind.ITEM_ABSENT:
        _mark_missing(session, item, doors, now, device_id, source, detail)
        alert = door_session.alert_about_compartment(
            session, item, device_id=device_id, compartment=item.compartment, now=now,
            kind=KIND_MISSING, severity=AlertSeverity.URGENT,
            summary="{tool} {asset} left {device} compartment {compartment} with no loan",
            subject=mismatch_subject(m.id), dedupe_key=f"lending:missing:item:{item.id}",
        )  # fmt: skip
    else:
        assert loan is not None
        lending_history.record(session, item=item, action=LendingAction.PRESENT_DURING_LOAN,
                       actor=lending_history.device_actor(device_id), now=now, loan=loan,
                       device=source, detail=detail)  # fmt: skip
        alert = door_session.alert_about_compartment(
            session, item, device_id=device_id, compartment=item.compartment, now=now,
            kind=KIND_PRESENT, severity=AlertSeverity.WARNING,
            summary=(
                "{tool} {asset} is in {device} compartment {compartment} but its loan is "
                "open: returned without a return?"
            ),
            subject=mismatch_subject(m.id), resident_id=loan.resident_id,
            dedupe_key=f"lending:present:loan:{loan.id}",
        )  # fmt: skip
    m.alert_id = alert.id
    log.info("locker mismatch %s: %s, %s compartment %s", m.id, kind.value, device_id,
             item.compartment)  # fmt: skip
    return m


def _mark_missing(
    session: Session,
    item: Item,
    doors: Sequence[DoorSession],
    now: datetime,
    device_id: str,
    source: DeviceRef | None,
    detail: dict[str, Any],
) -> None:
    item = locked_item(session, item.id)
    if item.status not in _EXPECTED_INSIDE:
        return
    actor = lending_history.device_actor(device_id)
    for door in doors:
        if door.purpose is DoorPurpose.PICKUP and door.item_id == item.id:
            _release_hold(session, door, now, actor, source)
    item.go_missing()
    lending_history.record(session, item=item, action=LendingAction.ITEM_MISSING, actor=actor,
                   now=now, device=source, detail=detail)  # fmt: skip


def _release_hold(
    session: Session, door: DoorSession, now: datetime, actor: str, source: DeviceRef | None
) -> None:
    """A pickup still only holding the item (not yet at the door) cannot go on: nobody is
    sent to an empty compartment."""
    if door.state in (DoorSessionState.RESERVED, DoorSessionState.WAITING):
        door_session.release(session, door, ReleaseReason.CANCELLED, now, actor=actor,
                             device=source)  # fmt: skip


def _found_by_locker(
    session: Session, item: Item, n: int, now: datetime, device_id: str, source: DeviceRef | None
) -> None:
    """A missing item is back in its compartment (the locker says so): lend it again."""
    item = locked_item(session, item.id)
    if not item.found_again():
        return
    lending_history.record(session, item=item, action=LendingAction.ITEM_FOUND,
                   actor=lending_history.device_actor(device_id), now=now, device=source,
                   detail={"compartment": n})  # fmt: skip


def _clear(
    session: Session, m: LendingMismatch, now: datetime, device_id: str, *, reason: str
) -> None:
    if not m.clear(now):
        return
    # Nobody needs to act on it any more: its alert closes too, with the reason in its note.
    _close_alert(session, m, now, note=f"The locker's state agrees with the records ({reason}).")
    audit.record(
        session,
        action="lending.mismatch_cleared",
        actor=lending_history.device_actor(device_id),
        now=now,
        site_id=m.site_id,
        subject=mismatch_subject(m.id),
        detail={"kind": m.kind.value, "item_id": m.item_id, "reason": reason},
    )


def _close_alert(session: Session, m: LendingMismatch, now: datetime, *, note: str) -> None:
    if m.alert_id is None:
        return
    alert = session.get(StaffAlert, m.alert_id)
    if alert is None or alert.status is AlertStatus.RESOLVED or alert.dedupe_key is None:
        return
    alerts.resolve_by_itself(
        session, site_id=alert.site_id, dedupe_key=alert.dedupe_key, now=now, note=note
    )


def mismatch_subject(mismatch_id: int) -> str:
    return f"mismatch:{mismatch_id}"
