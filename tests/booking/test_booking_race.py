"""Many kiosks book the same seat slot at the same moment: one wins, the rest hear "taken"."""

from __future__ import annotations

import threading

from booking_centre import Centre, at

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import SlotTaken
from booking.people import residents
from booking.spaces import seats

CLIENTS = 32


def test_thirty_two_concurrent_clients_booking_one_seat_slot_get_exactly_one_booking(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        people = [
            residents.register_resident(
                session,
                site_id=centre.site_id,
                name=f"居民{n}",
                phone=f"1370000{n:04d}",
                pin="275139",
                now=clock.now(),
            ).id
            for n in range(CLIENTS)
        ]
    barrier = threading.Barrier(CLIENTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def client(resident_id: int) -> None:
        barrier.wait()
        try:
            with any_database.write() as session:
                seats.book_seat(
                    session,
                    resident_id=resident_id,
                    seat_id=centre.seats[0],
                    starts_at=at(10),
                    ends_at=at(11),
                    now=clock.now(),
                )
            outcome = "booked"
        except SlotTaken as error:
            outcome = error.code
        except Exception as error:  # noqa: BLE001  (a deadlock or timeout must fail the test)
            outcome = f"{type(error).__name__}: {error}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=client, args=(r,)) for r in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["booked"] + ["slot_taken"] * (CLIENTS - 1)
