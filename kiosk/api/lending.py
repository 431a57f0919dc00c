# mypy: disable-error-code="untyped-decorator"
# (flask-smorest ships no type hints; its decorators keep the view's signature.)
"""Tool lending for programs (a phone app, a front-desk tablet) and staff: the catalogue with
live availability (``tools:read``), a resident's loans and reservations (``lending:read``),
and reserving, queueing, cancelling and renewing for a resident (``lending:write``).

Each change goes through the same domain services as the kiosk and the console, so every
rule holds, and is audited under the caller; the lending history names the caller too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from booking.lending import catalogue as lending_catalogue
from booking.lending import eligibility, renewals, reservations
from booking.lending.models.loans import Loan
from booking.lending.models.reservations import ToolReservation
from booking.people import residents as resident_service
from devices.fleet import link_status
from kiosk.api.blueprint import api_access, api_blueprint, caller
from kiosk.api.lending_schemas import (
    LoanListSchema,
    LoanSchema,
    QueueJoinSchema,
    ReservationCreateSchema,
    ReservationListSchema,
    ReservationSchema,
    ResidentQuerySchema,
    ToolListSchema,
)
from kiosk.extensions import clock, database

blp = api_blueprint("api_lending", "/lending", "Tools: availability, loans, reservations, queue")

REFUSED = "no_item_available, tool_fully_reserved, item_free_now, already_reserved, …"


@blp.route("/tools")
@api_access(blp, "tools:read")
@blp.response(200, ToolListSchema)
def list_tools() -> dict[str, Any]:
    """The tools the centre lends, each with how many a resident can take from a locker now
    (none while the lockers are not connected), how many are at the counter, and how many
    residents queue for the next one back."""
    now = clock().now()
    site_id = caller().site_id
    with database().read() as session:
        usable = Counter(link_status.items_to_offer(session, site_id=site_id, now=now).values())
        waiting = reservations.waiting_counts(session, site_id=site_id)
        entries = lending_catalogue.catalogue(session, site_id=site_id)
        free = reservations.free_now(
            session, site_id=site_id, tool_types=[entry.tool_type for entry in entries],
            usable=usable, resident_id=None, now=now,
        )  # fmt: skip
        items = []
        for entry in entries:
            tool_type = entry.tool_type
            items.append({
                "id": tool_type.id, "code": tool_type.code, "name_zh": tool_type.name_zh,
                "name_en": tool_type.name_en, "loan_days": tool_type.loan_days,
                "free_now": free[tool_type.id],
                "at_counter": entry.at_counter, "waiting": waiting.get(tool_type.id, 0),
            })  # fmt: skip
    return {"items": items}


@blp.route("/loans")
@api_access(blp, "lending:read")
@blp.arguments(ResidentQuerySchema(), location="query")
@blp.response(200, LoanListSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_loans(args: dict[str, Any]) -> dict[str, Any]:
    """A resident's loans not yet returned, soonest due first."""
    with database().read() as session:
        resident_service.get_member(
            session, site_id=caller().site_id, resident_id=args["resident_id"]
        )
        found = eligibility.open_loans(session, site_id=caller().site_id,
                                       resident_id=args["resident_id"])  # fmt: skip
        session.expunge_all()
    return {"items": found}


@blp.route("/reservations")
@api_access(blp, "lending:read")
@blp.arguments(ResidentQuerySchema(), location="query")
@blp.response(200, ReservationListSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_reservations(args: dict[str, Any]) -> dict[str, Any]:
    """A resident's reservations and queue places not yet ended: held ones first."""
    with database().read() as session:
        resident_service.get_member(
            session, site_id=caller().site_id, resident_id=args["resident_id"]
        )
        found = reservations.my_reservations(session, site_id=caller().site_id,
                                             resident_id=args["resident_id"])  # fmt: skip
        session.expunge_all()
    return {"items": found}


@blp.route("/reservations", methods=["POST"])
@api_access(blp, "lending:write")
@blp.arguments(ReservationCreateSchema())
@blp.response(201, ReservationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description=REFUSED)
def create_reservation(args: dict[str, Any]) -> reservations.ReservationView:
    """Reserve a tool for a resident for a window ahead (at most 12 hours, within 14 days).
    An item is held in its locker from the window's start for the centre's hold time.
    ``tool_fully_reserved``: none is left for that window."""
    with database().write() as session:
        made = reservations.reserve(
            session, site_id=caller().site_id, resident_id=args["resident_id"],
            tool_type_id=args["tool_type_id"], starts_at=args["starts_at"],
            ends_at=args["ends_at"], now=clock().now(),
        )  # fmt: skip
        return _answer(session, made, "lending.reserve")


@blp.route("/queue", methods=["POST"])
@api_access(blp, "lending:write")
@blp.arguments(QueueJoinSchema())
@blp.response(201, ReservationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description=REFUSED)
def join_queue(args: dict[str, Any]) -> reservations.ReservationView:
    """Put a resident in the queue for a tool none of which is free now: the next one
    returned is held for the first in the queue, who is messaged. ``item_free_now``: one is
    free, to borrow."""
    with database().write() as session:
        made = reservations.join_queue(
            session, site_id=caller().site_id, resident_id=args["resident_id"],
            tool_type_id=args["tool_type_id"], now=clock().now(),
        )  # fmt: skip
        return _answer(session, made, "lending.queue")


@blp.route("/reservations/<id:reservation_id>/cancel", methods=["POST"])
@api_access(blp, "lending:write")
@blp.response(200, ReservationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="wrong_lending_state")
def cancel_reservation(reservation_id: int) -> reservations.ReservationView:
    """Cancel a reservation or queue place; a tool held for it goes to the next in line."""
    with database().write() as session:
        ended = reservations.cancel_reservation(
            session, site_id=caller().site_id, reservation_id=reservation_id, now=clock().now(),
            actor=caller().actor,
        )  # fmt: skip
        return _answer(session, ended, "lending.reservation_cancel")


@blp.route("/loans/<id:loan_id>/renew", methods=["POST"])
@api_access(blp, "lending:write")
@blp.response(200, LoanSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(
    409, response="CONFLICT",
    description="renewal_limit_reached, others_waiting (someone queues for the tool), "
    "wrong_lending_state (overdue or returned)",
)  # fmt: skip
def renew_loan(loan_id: int) -> Loan:
    """Renew a loan by the tool's loan period, up to the centre's limit and only while
    nobody waits for the tool. The new due date is in the answer and the loan's history."""
    with database().write() as session:
        loan = renewals.renew_loan(session, site_id=caller().site_id, loan_id=loan_id,
                                   now=clock().now(), actor=caller().actor)  # fmt: skip
        caller().record(session, action="lending.renew", subject=f"loan:{loan.id}",
                        detail={"resident_id": loan.resident_id,
                                "due_at": loan.due_at.isoformat()})  # fmt: skip
        session.flush()
        session.expunge(loan)
    return loan


def _answer(
    session: Session, reservation: ToolReservation, action: str
) -> reservations.ReservationView:
    caller().record(
        session, action=action, subject=f"tool_reservation:{reservation.id}",
        detail={"resident_id": reservation.resident_id, "tool_type_id": reservation.tool_type_id,
                "status": reservation.status.value},
    )  # fmt: skip
    view = reservations.view_of(session, reservation)
    session.flush()
    session.expunge_all()
    return view
