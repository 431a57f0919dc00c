"""The rows a rule locks before it reads what it will then change, and in which order.

On PostgreSQL at its default isolation two transactions can both read "two items held, so
one more is fine" or "the item is available" and both write. A rule that reads and then
writes therefore locks the row its decision depends on first: the second caller waits, then
reads what the first one committed. SQLite's writers already queue (``Database.write``
begins IMMEDIATE), and the locks render as nothing there.

The order, so that two rules never wait on each other in a cycle: the pickup, return, loan
or booking the rule is about; then the resident; then the item or seat. A rule that starts
from an item and meets a pickup (sending an item to maintenance) does not wait for the
pickup's lock at all (:func:`booking.lending.operations.send_to_maintenance`).

Residents and items are locked ``FOR NO KEY UPDATE``: it excludes every other such lock and
every write of the row, but not the key-share lock a foreign key takes when another
transaction inserts a row naming it (a locker's lending event, a notification), so those
inserts do not queue behind a rule.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.core.db import Base
from booking.lending.models.tools import Item
from booking.people.models.residents import Resident

NO_KEY_UPDATE = {"key_share": True}
SKIP_IF_LOCKED = {"key_share": True, "skip_locked": True}


def lock_resident(session: Session, resident_id: int) -> None:
    """Serialise the rules that count what one resident holds (loans and pickups, strikes,
    overdue loans) for the rest of the transaction. Seat booking locks the same row
    (``booking.spaces.occupancy.lock_resident``)."""
    session.get(Resident, resident_id, with_for_update=NO_KEY_UPDATE)


def lock_resident_if_free(session: Session, resident_id: int) -> bool:
    """Lock the resident unless another transaction holds the lock (the resident is booking
    or borrowing at this very moment): for a rule that holds a seat or item already, where
    waiting for the resident could deadlock."""
    found = session.get(Resident, resident_id, with_for_update=SKIP_IF_LOCKED)
    return found is not None


def lock_item(session: Session, item_id: int) -> Item | None:
    """The item, locked for the rest of the transaction and read again: what a caller read
    before the lock may have changed while it waited."""
    return session.get(Item, item_id, with_for_update=NO_KEY_UPDATE, populate_existing=True)


def lock_if_free(session: Session, row: Base) -> bool:
    """Lock ``row`` and read it again, unless another transaction holds it: for a rule that
    meets the row out of the order above, where waiting for it could deadlock."""
    identity = inspect(row).identity
    locked = session.get(
        type(row), identity, with_for_update=SKIP_IF_LOCKED, populate_existing=True
    )
    return locked is not None


def violates(error: IntegrityError, index: str, sqlite_columns: str) -> bool:
    """Whether the database refused a write because of the unique index ``index``.

    PostgreSQL names the index; SQLite names the indexed columns ("loans.item_id").
    """
    diag = getattr(error.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint is not None:
        return bool(constraint == index)
    return f"UNIQUE constraint failed: {sqlite_columns}" in str(error.orig)
