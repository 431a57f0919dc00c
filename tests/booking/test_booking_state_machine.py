"""Random sequences of what residents and time do never double-book a seat and never give a
strike for a booking that was checked in."""

from __future__ import annotations

import functools
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from booking_centre import Centre, at, build_centre, keep_alive
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from booking.core.clock import FrozenClock
from booking.core.db import Base, Database
from booking.core.errors import DomainError
from booking.core.models.sites import Site
from booking.spaces import jobs as booking_jobs
from booking.spaces import rules as booking_rules
from booking.spaces import seats
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking
from booking.spaces.models.strikes import NoShowStrike

SHM = Path("/dev/shm")
WHO = st.integers(min_value=0, max_value=2)
TEMPLATE_CENTRE: list[Centre] = []


@functools.cache
def _template() -> Path:
    """One centre built once and copied for every example: building it is most of the cost."""
    directory = Path(tempfile.mkdtemp(dir=SHM if SHM.is_dir() else None))
    database = Database(f"sqlite:///{directory / 'template.sqlite3'}")
    Base.metadata.create_all(database.engine)
    TEMPLATE_CENTRE.append(build_centre(database, FrozenClock(at(9, 30))))
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return directory / "template.sqlite3"


class SeatBooking(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Memory-backed where available: fsyncs, not the rules, would otherwise dominate.
        self.directory = tempfile.TemporaryDirectory(dir=SHM if SHM.is_dir() else None)
        path = Path(self.directory.name) / "machine.sqlite3"
        shutil.copyfile(_template(), path)
        self.database = Database(f"sqlite:///{path}")
        self.clock = FrozenClock(at(9, 30))
        self.centre = TEMPLATE_CENTRE[0]
        keep_alive(self.database, self.centre.site_id, self.clock.now(), self.clock.now())
        self.bookings: list[int] = []
        self.checked_in: set[int] = set()

    def teardown(self) -> None:
        self.database.dispose()
        self.directory.cleanup()

    def _try(self, action, **kwargs: object) -> Booking | None:  # type: ignore[no-untyped-def]
        try:
            with self.database.write() as session:
                return action(session, now=self.clock.now(), **kwargs)  # type: ignore[no-any-return]
        except DomainError:
            return None

    @rule(who=WHO, seat=st.integers(0, 3), slot=st.integers(0, 8), length=st.integers(1, 8))
    def book(self, who: int, seat: int, slot: int, length: int) -> None:
        with self.database.read() as session:
            site = session.get_one(Site, self.centre.site_id)
            start = booking_rules.floor_to_grid(site, booking_rules.Rules(), self.clock.now())
        start += timedelta(minutes=30 * slot)
        booking = self._try(
            seats.book_seat,
            resident_id=self.centre.residents[who],
            seat_id=self.centre.seats[seat],
            starts_at=start,
            ends_at=start + timedelta(minutes=30 * length),
        )
        if booking is not None:
            self.bookings.append(booking.id)

    @rule(who=WHO)
    def sit_now(self, who: int) -> None:
        booking = self._try(
            seats.sit_now, resident_id=self.centre.residents[who], space_id=self.centre.study_id
        )
        if booking is not None:
            self.bookings.append(booking.id)
            self.checked_in.add(booking.id)

    @precondition(lambda self: self.bookings)
    @rule(
        who=WHO,
        pick=st.integers(0, 1000),
        action=st.sampled_from(
            [seats.check_in, seats.start_leave, seats.come_back, seats.leave, seats.cancel]
        ),
    )
    def act(self, who: int, pick: int, action: object) -> None:
        booking_id = self.bookings[pick % len(self.bookings)]
        done = self._try(action, resident_id=self.centre.residents[who], booking_id=booking_id)
        if done is not None and action is seats.check_in:
            self.checked_in.add(booking_id)

    @rule(minutes=st.sampled_from([1, 5, 10, 15, 30, 45, 90]), kiosk_up=st.booleans())
    def time_passes(self, minutes: int, kiosk_up: bool) -> None:
        start = self.clock.now()
        self.clock.advance(timedelta(minutes=minutes))
        if kiosk_up:
            keep_alive(self.database, self.centre.site_id, start, self.clock.now())
        else:
            # The server was down: its first heartbeat on return records the gap.
            keep_alive(self.database, self.centre.site_id, self.clock.now(), self.clock.now())
        booking_jobs.run_due(self.database, now=self.clock.now())

    @invariant()
    def no_seat_is_held_twice_at_once(self) -> None:
        with self.database.read() as session:
            active = (
                session.query(Booking)
                .filter(Booking.status.in_(ACTIVE_STATUSES), Booking.seat_id.is_not(None))
                .all()
            )
            for a in active:
                for b in active:
                    if a.id < b.id and a.seat_id == b.seat_id:
                        assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (
                            a.id,
                            b.id,
                        )

    @invariant()
    def no_strike_for_a_checked_in_booking(self) -> None:
        with self.database.read() as session:
            struck = {s.booking_id for s in session.query(NoShowStrike).all()}
        assert not struck & self.checked_in


SeatBooking.TestCase.settings = settings(max_examples=50, stateful_step_count=20, deadline=None)
test_random_seat_activity_never_double_books_nor_strikes_a_checked_in_booking = SeatBooking.TestCase
