"""A demo centre's past loans, blood-pressure readings and standing weekly classes.

Part of ``booking.demo.past_bookings.seed_history`` (only ``linli demo`` runs it): everything goes
through the domain's own functions with a past ``now``, so the lending history, overdue
marks, readings' classification and staff alerts are what the real rules make of them.
Seeded random, so every machine gets the same; each part is skipped when already there.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health import operations as health
from booking.health import values as health_values
from booking.health.models.consents import ConsentChannel
from booking.health.models.readings import BpReading
from booking.lending import operations as lending
from booking.lending import overdue as lending_overdue
from booking.lending import policy as lending_policy
from booking.lending.models.loans import Loan, ReturnCondition
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces import series
from booking.spaces.models.series import BookingSeries
from booking.spaces.models.spaces import Space

SEED = 20261125
DEMO_ACTOR = "system:demo"

# Loans: from this many weeks back until the end of last week, a few a day, more at weekends.
# Every loan is back before this week begins (a loan of last week, or one that would come
# back late past then, is brought back early instead), so the demo starts with every tool
# in its place and the district's weekly trends show lending up to last week, not a gap. A
# tool comes back before the day it is due, or late (and marked overdue first, as the
# daily job would), never later on its due day unmarked.
LOAN_WEEKS = 7  # inside the insights' default eight weeks (this one included)
LOANS_PER_DAY = (1, 4)
# When the history's tools come back to the counter, local hours: the demo centres are open
# 08:00 to 21:00, and staff reading the records should not see returns at three in the night.
COUNTER_HOURS = (9.0, 20.5)
OVERDUE_SHARE = 0.15

# Blood pressure: the consenting residents' usual (systolic, diastolic), and how many of
# the history residents also consented (on paper, when the readings began).
READING_WEEKS = 6
READING_DAYS_PER_WEEK = 3
EXTRA_CONSENTING = 5
URGENT_SHARE = 0.03
FOLLOW_UP_NOTE = "已电话联系并上门探访，复测后血压平稳，已提醒按时服药。"

# Standing classes: title, room code, weekday (Monday 0), start, end, weeks ahead.
WEEKLY_CLASSES = (
    ("太极拳班", "dance", 1, time(9, 0), time(10, 0), 26),
    ("便民服务日", "meeting", 4, time(9, 0), time(11, 30), 26),
)


@dataclass(frozen=True)
class Added:
    loans: int
    readings: int
    series: int


def seed(
    session: Session,
    *,
    site: Site,
    people: list[int],
    consenting_phones: tuple[str, ...],
    this_monday: date,
    now: datetime,
    worker: str,
    bp_terminal: str,
    seed: int = SEED,
    busyness: float = 1.0,
) -> Added:
    """Loans and returns, readings (and the alerts they raise, followed up), weekly classes.

    ``people`` are the history residents who borrow; the residents of ``consenting_phones``
    (the demo's own consents) and a few of ``people`` measure their blood pressure on
    ``bp_terminal``. The staff member ``worker`` lends and follows up; ``busyness`` scales
    the loans a day (a smaller centre of the demo district lends less).
    """
    staff = session.scalar(
        select(StaffAccount).where(StaffAccount.site_id == site.id, StaffAccount.username == worker)
    )
    if staff is None:
        return Added(0, 0, 0)
    zone = ZoneInfo(site.timezone)
    loans = _seed_loans(session, site, staff, people, this_monday, zone, seed, busyness)
    readings = _seed_readings(session, site, staff, people, consenting_phones, this_monday,
                              zone, now, bp_terminal, seed)  # fmt: skip
    return Added(loans=loans, readings=readings, series=_seed_series(session, site, staff, now))


def _at(day: date, hour: float, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=hour)
    return local.astimezone(ZoneInfo("UTC"))


# --- loans --------------------------------------------------------------------------------------


def _counter_time(day: date, lent_at: datetime, zone: ZoneInfo, rng: random.Random) -> datetime:
    """A time in the counter's hours of the local ``day``, at least half an hour after
    ``lent_at`` (the history lends by 18:00, so a same-day return still fits)."""
    first, last = COUNTER_HOURS
    earliest = max(_at(day, first, zone), lent_at + timedelta(minutes=30))
    return earliest + (_at(day, last, zone) - earliest) * rng.random()


def _seed_loans(
    session: Session,
    site: Site,
    staff: StaffAccount,
    people: list[int],
    this_monday: date,
    zone: ZoneInfo,
    seed: int,
    busyness: float,
) -> int:
    if not people or session.scalar(
        select(Loan.id).where(Loan.site_id == site.id, Loan.resident_id.in_(people)).limit(1)
    ):
        return 0
    rng = random.Random(seed)
    policy = lending_policy.policy_for(session, site.id)
    items = list(
        session.scalars(
            select(Item)
            .join(ToolType, ToolType.id == Item.tool_type_id)
            .where(
                Item.site_id == site.id,
                Item.status == ItemStatus.AVAILABLE,
                ToolType.retired_at.is_(None),
            )
            .order_by(Item.id)
        )
    )
    if not items:
        return 0
    first_day = this_monday - timedelta(weeks=LOAN_WEEKS)
    free_from = {item.id: _at(first_day, 0, zone) for item in items}
    busy_until = dict.fromkeys(people, _at(first_day, 0, zone))
    went_overdue: set[int] = set()  # twice overdue would suspend: once per resident at most
    # What happens later to each loan, in time order: ("overdue" | "return", loan id).
    due: list[tuple[datetime, int, str, int]] = []
    sequence = 0

    def catch_up(until: datetime) -> None:
        while due and due[0][0] <= until:
            moment, _seq, what, loan_id = heapq.heappop(due)
            loan = session.get_one(Loan, loan_id)
            if what == "overdue":
                lending_overdue.mark_overdue(session, loan, moment, policy)
            else:
                lending.return_at_counter(
                    session,
                    staff=staff,
                    loan_id=loan_id,
                    condition=ReturnCondition.FINE,
                    now=moment,
                )

    added = 0
    last_day = this_monday - timedelta(days=1)  # last Sunday
    day = first_day
    while day <= last_day:
        extra = 1 if day.weekday() >= 5 else 0
        for _ in range(round((rng.randint(*LOANS_PER_DAY) + extra) * busyness)):
            lent_at = _at(day, 9 + rng.randrange(18) / 2 + rng.randrange(30) / 60, zone)
            catch_up(lent_at)
            free_items = [item for item in items if free_from[item.id] <= lent_at]
            free_people = [p for p in people if busy_until[p] <= lent_at]
            if not free_items or not free_people:
                continue
            item, person = rng.choice(free_items), rng.choice(free_people)
            loan = lending.lend_at_counter(
                session, staff=staff, item_id=item.id, resident_id=person, now=lent_at
            )
            due_day = loan.due_at.astimezone(zone).date()
            late_day = due_day + timedelta(days=rng.randint(1, 3))
            if person not in went_overdue and rng.random() < OVERDUE_SHARE and late_day <= last_day:
                went_overdue.add(person)
                heapq.heappush(
                    due, (loan.due_at + timedelta(hours=1), sequence, "overdue", loan.id)
                )
                back_day = late_day
            else:
                early = lent_at + (loan.due_at - lent_at) * rng.uniform(0.2, 0.95)
                back_day = max(
                    day, min(early.astimezone(zone).date(), due_day - timedelta(days=1), last_day)
                )
            back = _counter_time(back_day, lent_at, zone, rng)
            heapq.heappush(due, (back, sequence + 1, "return", loan.id))
            sequence += 2
            free_from[item.id] = back + timedelta(hours=1)
            busy_until[person] = back
            added += 1
        day += timedelta(days=1)
    catch_up(_at(this_monday, 0, zone))
    session.flush()
    return added


# --- blood pressure -----------------------------------------------------------------------------


def _seed_readings(
    session: Session,
    site: Site,
    staff: StaffAccount,
    people: list[int],
    consenting_phones: tuple[str, ...],
    this_monday: date,
    zone: ZoneInfo,
    now: datetime,
    bp_terminal: str,
    seed: int,
) -> int:
    first_day = this_monday - timedelta(weeks=READING_WEEKS)
    if session.scalar(
        select(BpReading.id)
        .where(BpReading.site_id == site.id, BpReading.measured_at < _at(this_monday, 0, zone))
        .limit(1)
    ):
        return 0
    rng = random.Random(seed + 1)
    began = _at(first_day - timedelta(days=1), 10, zone)
    extra = rng.sample(people, min(EXTRA_CONSENTING, len(people)))
    for resident_id in extra:
        health_consent.give_consent(
            session,
            resident_id=resident_id,
            site_id=site.id,
            channel=ConsentChannel.PAPER,
            now=began,
            actor=DEMO_ACTOR,
        )
    consenting = [
        resident_id
        for resident_id in _by_phone(session, consenting_phones) + extra
        if health.consent_in_force(session, resident_id) is not None
    ]
    added = 0
    for index, resident_id in enumerate(consenting):
        # The first (the demo's 王秀英) runs high: her follow-up visits show in the chart.
        usual = (150, 94) if index == 0 else (rng.randint(118, 150), rng.randint(74, 92))
        for week in range(READING_WEEKS):
            days = sorted(rng.sample(range(7), READING_DAYS_PER_WEEK))
            for weekday in days:
                day = first_day + timedelta(weeks=week, days=weekday)
                measured_at = _at(day, 8 + rng.randrange(8) / 4, zone)
                if measured_at >= now:
                    continue
                if rng.random() < URGENT_SHARE:
                    systolic, diastolic = rng.randint(182, 196), rng.randint(105, 118)
                else:
                    systolic = usual[0] + rng.randint(-9, 9)
                    diastolic = usual[1] + rng.randint(-6, 6)
                values = health_values.check_values(
                    systolic=systolic,
                    diastolic=diastolic,
                    mean_arterial_pressure=round((systolic + 2 * diastolic) / 3, 1),
                    unit="mmHg",
                    pulse=rng.randint(62, 84),
                    flags=dict.fromkeys(health_values.FLAG_NAMES, False),
                    measured_at=measured_at,
                )
                health.store_reading(
                    session,
                    site_id=site.id,
                    resident_id=resident_id,
                    device_id=bp_terminal,
                    identified_by="card",
                    values=values,
                    now=measured_at + timedelta(seconds=20),
                )
                added += 1
                _follow_up_alerts(session, staff, resident_id, measured_at + timedelta(minutes=45))
    session.flush()
    return added


def _by_phone(session: Session, phones: tuple[str, ...]) -> list[int]:
    found = []
    for phone in phones:
        resident_id = session.scalar(select(Resident.id).where(Resident.phone == phone))
        if resident_id is not None:
            found.append(resident_id)
    return found


def _follow_up_alerts(
    session: Session, staff: StaffAccount, resident_id: int, when: datetime
) -> None:
    """Staff dealt with each alert a reading raised within the hour, as they should."""
    open_ones = session.scalars(
        select(StaffAlert.id).where(
            StaffAlert.resident_id == resident_id,
            StaffAlert.status != AlertStatus.RESOLVED,
            StaffAlert.created_at < when,
        )
    ).all()
    for alert_id in open_ones:
        alerts.resolve(session, staff, alert_id, now=when, note=FOLLOW_UP_NOTE)


# --- weekly classes -----------------------------------------------------------------------------


def _seed_series(session: Session, site: Site, staff: StaffAccount, now: datetime) -> int:
    """The standing classes from tomorrow on, booked by staff as series (never in the past)."""
    zone = ZoneInfo(site.timezone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    added = 0
    for title, code, weekday, starts, ends, weeks in WEEKLY_CLASSES:
        room = session.scalar(select(Space).where(Space.site_id == site.id, Space.code == code))
        exists = session.scalar(
            select(BookingSeries.id).where(
                BookingSeries.site_id == site.id, BookingSeries.title == title
            )
        )
        if room is None or room.retired_at is not None or exists is not None:
            continue
        series.create_series(
            session,
            staff_id=staff.id,
            site_id=site.id,
            space_id=room.id,
            title=title,
            weekday=weekday,
            start_time=starts,
            end_time=ends,
            starts_on=tomorrow,
            ends_on=tomorrow + timedelta(weeks=weeks),
            now=now,
            headcount=min(room.capacity, 15),
        )
        added += 1
    return added
