"""A borrower's messages through the outbox: the day before a loan is due, when it is
overdue, when it is long overdue (staff are alerted at the same moment), and a suspension
with its end."""

from __future__ import annotations

from datetime import timedelta

from lending_centre import Station, staff_of
from messages_phone import Phone, outbox_rows
from test_lending_rules import pick_up

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import jobs as lending_jobs
from booking.lending import operations as lending
from booking.lending.models.tool_types import ToolType
from booking.messages import outbox, sending
from booking.messages.models.outbox import MessageState


def test_the_borrower_is_reminded_once_the_day_before_a_loan_is_due(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        loan = pick_up(session, station, station.residents[0], station.ladder_type, clock.now())
    lending_jobs.run_due(database, now=loan.due_at - timedelta(days=1, seconds=1))
    assert outbox_rows(database) == []
    lending_jobs.run_due(database, now=loan.due_at - timedelta(days=1))
    phone = Phone()
    sent = sending.send_due(database, {outbox.SMS: phone}, now=loan.due_at - timedelta(days=1))
    assert sent == sending.Round(sent=1)
    lending_jobs.run_due(database, now=loan.due_at - timedelta(hours=2))
    [message] = outbox_rows(database, "loan_due_tomorrow")
    assert message.phone == station.phones[0]
    assert message.params == ["折叠梯", "11-26 09:30"]


def test_an_overdue_loan_then_its_escalation_each_send_one_message(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        loan = pick_up(session, station, station.residents[0], station.ladder_type, clock.now())
    lending_jobs.run_due(database, now=loan.due_at)
    [overdue] = outbox_rows(database, "loan_overdue")
    assert overdue.params[0] == "折叠梯"
    lending_jobs.run_due(database, now=loan.due_at + timedelta(days=3))
    lending_jobs.run_due(database, now=loan.due_at + timedelta(days=4))
    [escalated] = outbox_rows(database, "loan_escalated")
    assert escalated.params == ["折叠梯"]


def test_a_lending_suspension_says_when_it_ends(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    with database.write() as session:
        first = pick_up(session, station, resident, station.ladder_type, clock.now())
    lending_jobs.run_due(database, now=first.due_at)
    with database.write() as session:
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=first.id,
                                  condition="fine", now=first.due_at + timedelta(days=1))  # fmt: skip
        second = pick_up(session, station, resident, station.drill_type,
                         first.due_at + timedelta(days=30))  # fmt: skip
    lending_jobs.run_due(database, now=second.due_at)
    [suspended] = outbox_rows(database, "lending_suspended")
    assert suspended.state is MessageState.QUEUED and len(suspended.params) == 1
    assert len(outbox_rows(database, "loan_overdue")) == 2


def test_a_loan_of_a_day_or_less_gets_no_reminder_the_day_before(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        session.get_one(ToolType, station.ladder_type).loan_days = 1
    with database.write() as session:
        loan = pick_up(session, station, station.residents[0], station.ladder_type, clock.now())
    assert loan.due_at - loan.started_at <= lending_jobs.DUE_SOON
    lending_jobs.run_due(database, now=loan.started_at + timedelta(hours=1))
    lending_jobs.run_due(database, now=loan.started_at + timedelta(hours=2))
    assert outbox_rows(database, "loan_due_tomorrow") == []
