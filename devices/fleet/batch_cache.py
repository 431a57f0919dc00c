"""The compartments and open faults of the devices in one ingest transaction, loaded once.

Every locker event reads its compartment and every message its device's open faults. Read one
device at a time, that was two of the ten statements an event cost a district worker
(docs/scaling.md item 9). :meth:`BatchCache.prefetch` reads them for the devices of the
transaction in two statements (the compartments of those with more than a heartbeat), called
right after the transaction has locked those devices (devices.ingest.apply), so it holds what
a read at first use would have seen.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from devices.models.compartments import Compartment
from devices.models.faults import DeviceFault

# Built once: building a statement per call (SQLAlchemy's operator overloading and coercions)
# cost more than running it (docs/benchmarks.md).
_COMPARTMENTS_OF = select(Compartment).where(
    Compartment.device_id.in_(bindparam("device_ids", expanding=True))
)
_OPEN_FAULTS_OF = (
    select(DeviceFault)
    .where(
        DeviceFault.closed_at.is_(None),
        DeviceFault.device_id.in_(bindparam("device_ids", expanding=True)),
    )
    .order_by(DeviceFault.opened_at, DeviceFault.id)
)

_CACHE_KEY = "linli_device_cache"


class BatchCache:
    """Kept in ``session.info`` so every function of the registry shares it; forget it after a
    rollback (:func:`forget`), since rows it holds may be gone."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._compartments: dict[str, dict[int, Compartment]] = {}
        self._faults: dict[str, list[DeviceFault]] = {}
        # Per locker: the (session, seq) of the full state last reconciled in this transaction
        # and what it reported (devices.locker.reconciliation.full_state). Forgotten with the
        # rest after a rollback, so a reconciliation undone is never taken as done.
        self.reconciled: dict[str, tuple[int, int, object]] = {}
        # What other modules read once a transaction (devices.locker.quiet_lockers), by
        # their key: forgotten with the rest.
        self.kept: dict[str, object] = {}

    def prefetch(
        self, device_ids: Collection[str], *, compartments_of: Collection[str] | None = None
    ) -> None:
        """Read the open faults of every one of ``device_ids``, and the compartments of those
        of ``compartments_of`` (all of them unless given), that were not read yet, in one
        statement each (a device with none is then known to have none).

        A heartbeat reads its device's faults (the clock's) but no compartment: in a burst of
        every locker's heartbeat, reading their compartments was a third of the transaction's
        CPU (bench/harness/event_cpu.py, docs/benchmarks.md). One read later is still right,
        only a statement of its own."""
        self._read_compartments(device_ids if compartments_of is None else compartments_of)
        self._read_faults(device_ids)

    def _read_compartments(self, device_ids: Collection[str]) -> None:
        unread = sorted(set(device_ids) - self._compartments.keys())
        if unread:
            compartments: dict[str, dict[int, Compartment]] = {d: {} for d in unread}
            for row in self._session.scalars(_COMPARTMENTS_OF, {"device_ids": unread}):
                compartments[row.device_id][row.n] = row
            self._compartments.update(compartments)

    def _read_faults(self, device_ids: Collection[str]) -> None:
        unread = sorted(set(device_ids) - self._faults.keys())
        if unread:
            faults: dict[str, list[DeviceFault]] = {d: [] for d in unread}
            for fault in self._session.scalars(_OPEN_FAULTS_OF, {"device_ids": unread}):
                faults[fault.device_id].append(fault)
            self._faults.update(faults)

    def devices_with_compartments(self) -> list[str]:
        """The devices whose compartments were read: the lockers with more than a heartbeat."""
        return list(self._compartments)

    def compartments(self, device_id: str) -> dict[int, Compartment]:
        if device_id not in self._compartments:
            self._read_compartments((device_id,))
        return self._compartments[device_id]

    def compartment(self, device_id: str, n: int, now: datetime) -> Compartment:
        """Compartment ``n`` of the device, added (versions unknown) if never heard of."""
        rows = self.compartments(device_id)
        row = rows.get(n)
        if row is None:
            row = Compartment.unheard(device_id, n, now)
            self._session.add(row)
            rows[n] = row
        return row

    def open_faults(self, device_id: str) -> list[DeviceFault]:
        """The device's open faults, oldest first: the cache's own list, which the registry
        changes as it opens and closes them."""
        if device_id not in self._faults:
            self._read_faults((device_id,))
        return self._faults[device_id]


def cache(session: Session) -> BatchCache:
    found = session.info.get(_CACHE_KEY)
    if not isinstance(found, BatchCache):
        found = BatchCache(session)
        session.info[_CACHE_KEY] = found
    return found


def forget(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)
