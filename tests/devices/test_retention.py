"""The retention job: device messages, finished commands and ended sessions go after the
operator's periods; what exactly-once delivery and the audit still need stays.

On both databases, through devices.ingest.apply exactly as the bridge applies batches, and
through the scheduler's job as the worker runs it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.core.retention import BATCH, RetentionPeriods
from booking.people import auth_sessions
from booking.people.models.resident_sessions import ResidentSession
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount, StaffRole
from booking.people.models.staff_sessions import StaffSession
from devices.fleet.registry import version
from devices.ingest import apply as ingest
from devices.ingest import dead_letters
from devices.ingest.apply import Inbound, Outcome
from devices.ingest.reactions import Handlers
from devices.models.commands import CommandState, DeviceCommand
from devices.models.dead_letters import DeadLetter
from devices.models.device import Device, DeviceKind
from devices.models.messages import DeviceMessage
from devices.models.outbox import CommandOutbox
from devices.protocol.messages import Reason
from kiosk import scheduler

SITE = "nanshan"
LOCKER = "locker-a"
PERIODS = RetentionPeriods(
    device_messages=timedelta(days=14),
    device_commands=timedelta(days=90),
    sessions=timedelta(days=30),
)


def ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Centre:
    """One site with one locker, a resident and a staff member; feeds the locker's messages
    through the ingest as bridge batches and counts what the handlers saw applied."""

    def __init__(self, database: Database, clock: FrozenClock) -> None:
        self.database = database
        self.clock = clock
        self.opened: list[tuple[int, int]] = []
        self.handlers = Handlers()
        self.handlers.register(
            "door_opened", lambda s, d, e, now: self.opened.append((e.session, e.seq))
        )
        with database.write() as session:
            site = Site(slug=SITE, name_zh="南山站", name_en="Nanshan")
            session.add(site)
            session.flush()
            self.site_id = site.id
            session.add(
                Device(
                    site_id=site.id,
                    device_id=LOCKER,
                    kind=DeviceKind.LOCKER,
                    name=LOCKER,
                    mqtt_password_hash="$7$unused",
                    capabilities={},
                    online=False,
                    created_at=clock.now(),
                )
            )
            resident = Resident(
                name="王芳", phone="13800000001", pin_hash="x", created_at=clock.now()
            )
            staff = StaffAccount(
                site_id=site.id,
                username="li",
                display_name="李",
                password_hash="x",
                role=StaffRole.STAFF,
                created_at=clock.now(),
                password_changed_at=clock.now(),
            )
            session.add_all([resident, staff])
            session.flush()
            self.resident = resident
            self.staff = staff

    # --- the locker's messages -------------------------------------------------------------

    def _inbound(self, kind: str, body: dict[str, Any]) -> Inbound:
        return Inbound(
            f"linli/v1/{SITE}/{LOCKER}/{kind}", json.dumps(body).encode(), self.clock.now()
        )

    def _envelope(self, session: int, seq: int) -> dict[str, Any]:
        return {
            "v": 1,
            "device": LOCKER,
            "session": session,
            "seq": seq,
            "ts": ts(self.clock.now()),
        }

    def birth(self, session: int) -> Inbound:
        compartments = [
            {"n": n, "lock": "locked", "door": "closed", "item_present": True} for n in (1, 2)
        ]
        return self._inbound(
            "birth",
            {
                **self._envelope(session, 0),
                "kind": "locker",
                "firmware": "linli-sim 0.1.0",
                "capabilities": {"compartments": 2},
                "heartbeat_s": 30,
                "state": {"compartments": compartments},
            },
        )

    def door_opened(self, session: int, seq: int) -> Inbound:
        body = {**self._envelope(session, seq), "type": "door_opened", "compartment": 1}
        return self._inbound("event", {**body, "command_id": None})

    def apply(self, *items: Inbound) -> Outcome:
        with self.database.write() as session:
            return ingest.apply_batch(session, list(items), self.clock.now(), self.handlers)

    # --- commands and sessions ---------------------------------------------------------------

    def command(self, name: str, state: CommandState, *, finished: bool) -> None:
        now = self.clock.now()
        with self.database.write() as session:
            session.add(
                DeviceCommand(
                    id=name,
                    device_id=LOCKER,
                    site=SITE,
                    name="open",
                    args={"compartment": 1},
                    state=state,
                    requested_by="resident:1",
                    created_at=now,
                    expires_at=now + timedelta(seconds=10),
                    finished_at=now if finished else None,
                )
            )

    def resident_session(self, *, end: bool) -> str:
        with self.database.write() as session:
            resident = session.get(Resident, self.resident.id)
            assert resident is not None
            token = auth_sessions.start_resident_session(
                session, resident=resident, site_id=self.site_id, now=self.clock.now()
            )
            if end:
                auth_sessions.end_resident_session(session, token=token, now=self.clock.now())
        return token

    def staff_session(self) -> str:
        with self.database.write() as session:
            staff = session.get(StaffAccount, self.staff.id)
            assert staff is not None
            return auth_sessions.start_staff_session(session, staff=staff, now=self.clock.now())

    # --- reading back ----------------------------------------------------------------------

    def run_job(self) -> None:
        scheduler.set_runtime(self.database, self.clock, PERIODS)
        scheduler.prune_old_records()

    def ledger(self) -> list[tuple[int, int]]:
        with self.database.read() as session:
            rows = session.execute(
                select(DeviceMessage.session, DeviceMessage.seq).order_by(
                    DeviceMessage.session, DeviceMessage.seq
                )
            )
            return [(s, q) for s, q in rows]

    def mark(self) -> int | None:
        with self.database.read() as session:
            return session.scalar(
                select(Device.ledger_pruned_through).where(Device.device_id == LOCKER)
            )

    def commands(self) -> set[str]:
        with self.database.read() as session:
            return set(session.scalars(select(DeviceCommand.id)))

    def sessions(self) -> int:
        with self.database.read() as session:
            return sum(
                session.scalar(select(func.count()).select_from(table)) or 0
                for table in (ResidentSession, StaffSession)
            )

    def dead_letters(self) -> list[str]:
        with self.database.read() as session:
            return list(session.scalars(select(DeadLetter.reason)))


@pytest.fixture
def centre(any_database: Database, clock: FrozenClock) -> Centre:
    return Centre(any_database, clock)


def test_the_retention_job_prunes_device_messages_commands_and_sessions_older_than_their_periods(
    centre: Centre, clock: FrozenClock
) -> None:
    # Day 0: a birth and a door event, commands answered and one never answered, sessions.
    centre.apply(centre.birth(4), centre.door_opened(4, 1))
    centre.command("answered-long-ago", CommandState.SUCCEEDED, finished=True)
    centre.command("refused-long-ago", CommandState.REJECTED, finished=True)
    centre.command("still-awaiting-a-reply", CommandState.SENT, finished=False)
    with centre.database.write() as session:  # expired before the bridge took it
        session.add(CommandOutbox(command_id="refused-long-ago", site=SITE, queued_at=clock.now()))
    centre.resident_session(end=True)
    centre.resident_session(end=False)  # walked away from the kiosk: never ended
    centre.staff_session()  # closed the console tab
    # Day 100: more of everything, all within every period.
    clock.advance(timedelta(days=100))
    centre.apply(centre.door_opened(4, 2))
    centre.command("answered-today", CommandState.SUCCEEDED, finished=True)
    centre.resident_session(end=True)
    live = centre.resident_session(end=False)

    centre.run_job()

    assert centre.ledger() == [(4, 2)]
    assert centre.mark() == version(4, 1)
    assert centre.commands() == {"still-awaiting-a-reply", "answered-today"}
    assert centre.sessions() == 2
    with centre.database.write() as session:
        resident, _site = auth_sessions.resume_resident_session(
            session, token=live, now=clock.now(), idle_limit=timedelta(minutes=1)
        )
        assert resident.id == centre.resident.id


def test_each_period_is_the_operators(centre: Centre, clock: FrozenClock) -> None:
    centre.apply(centre.birth(4))
    centre.command("answered", CommandState.SUCCEEDED, finished=True)
    centre.resident_session(end=True)
    clock.advance(timedelta(days=20))
    # Past the 14 days of device messages, within the 30 of sessions and 90 of commands.
    centre.run_job()
    assert (centre.ledger(), centre.commands(), centre.sessions()) == ([], {"answered"}, 1)
    clock.advance(timedelta(days=11))
    centre.run_job()
    assert (centre.commands(), centre.sessions()) == ({"answered"}, 0)


def test_refused_messages_go_after_their_period_counted_from_the_last_copy(
    centre: Centre, clock: FrozenClock
) -> None:
    topic = f"linli/v1/{SITE}/{LOCKER}/event"

    def refuse(payload: bytes) -> None:
        with centre.database.write() as session:
            dead_letters.record(session, topic=topic, reason=Reason.SCHEMA, payload=payload,
                                received_at=clock.now(), device_id=LOCKER)  # fmt: skip

    refuse(b'{"seq": 1}')  # sent once, on day 0
    refuse(b'{"seq": 2}')  # still re-sent on day 60: it stays
    clock.advance(timedelta(days=60))
    refuse(b'{"seq": 2}')
    clock.advance(timedelta(days=31))
    # 91 days after the first, 31 after the second one's last copy; the period is 90.
    centre.run_job()
    with centre.database.read() as session:
        kept = [(d.payload, d.repeats) for d in session.scalars(select(DeadLetter))]
    assert kept == [(b'{"seq": 2}', 1)]
    clock.advance(timedelta(days=60))
    centre.run_job()
    assert centre.dead_letters() == []


def test_a_message_re_sent_after_its_ledger_row_was_pruned_is_never_applied_twice(
    centre: Centre, clock: FrozenClock
) -> None:
    opened = centre.door_opened(4, 1)
    centre.apply(centre.birth(4), opened)
    clock.advance(timedelta(days=15))
    centre.run_job()
    assert centre.ledger() == []

    # The locker missed our ack, was away for weeks, and re-sends the event unchanged.
    again = centre.apply(opened)
    assert centre.opened == [(4, 1)]
    assert again.applied == 0
    assert [(a.session, a.seq) for a in again.acks] == [(4, 1)]  # so it stops re-sending
    assert centre.dead_letters() == [Reason.BEYOND_LEDGER]  # kept, for staff to see


def test_an_event_of_an_older_session_re_sent_after_pruning_is_not_applied_again(
    centre: Centre, clock: FrozenClock
) -> None:
    opened = centre.door_opened(4, 1)
    centre.apply(centre.birth(4), opened)
    clock.advance(timedelta(days=15))
    centre.run_job()
    centre.apply(centre.birth(5))
    centre.apply(opened)
    assert centre.opened == [(4, 1)]


def test_what_the_locker_never_sent_before_the_pruning_is_applied_as_usual(
    centre: Centre, clock: FrozenClock
) -> None:
    centre.apply(centre.birth(4), centre.door_opened(4, 1))
    clock.advance(timedelta(days=15))
    centre.run_job()
    # Events stored in its outbox while it was away come after what we received.
    late = centre.apply(centre.door_opened(4, 2), centre.door_opened(4, 3))
    centre.apply(centre.birth(5), centre.door_opened(5, 1))
    assert late.applied == 2
    assert centre.opened == [(4, 1), (4, 2), (4, 3), (5, 1)]
    assert centre.dead_letters() == []


def test_messages_kept_below_the_mark_are_still_recognised_as_duplicates(
    centre: Centre, clock: FrozenClock
) -> None:
    centre.apply(centre.birth(4), centre.door_opened(4, 1))
    clock.advance(timedelta(days=10))
    recent = centre.door_opened(4, 2)
    centre.apply(recent)
    clock.advance(timedelta(days=5))
    centre.run_job()
    assert centre.ledger() == [(4, 2)]
    again = centre.apply(recent)
    assert (again.applied, again.duplicates, centre.dead_letters()) == (0, 1, [])


def test_a_device_whose_counter_was_reset_is_not_held_to_the_mark_of_its_earlier_life(
    centre: Centre, clock: FrozenClock
) -> None:
    centre.apply(centre.birth(1000), centre.door_opened(1000, 1))
    clock.advance(timedelta(days=15))
    centre.run_job()
    # A new board starts its sessions again from 1 once staff reset the counter.
    with centre.database.write() as session:
        locker = session.scalars(select(Device).where(Device.device_id == LOCKER)).one()
        locker.session_counter = None
        locker.last_seq = None
    centre.apply(centre.birth(1), centre.door_opened(1, 1))
    centre.apply(centre.birth(2))
    outcome = centre.apply(centre.door_opened(1, 2))  # from the outbox of session 1
    assert outcome.applied == 1
    assert centre.opened == [(1000, 1), (1, 1), (1, 2)]


def test_a_backlog_larger_than_a_batch_is_pruned_in_one_run(
    centre: Centre, clock: FrozenClock
) -> None:
    centre.apply(centre.birth(4), *(centre.door_opened(4, seq) for seq in range(1, BATCH + 10)))
    clock.advance(timedelta(days=15))
    centre.run_job()
    assert centre.ledger() == []
    assert centre.mark() == version(4, BATCH + 9)
