# mypy: disable-error-code="untyped-decorator"
# (flask-smorest ships no type hints; its decorators keep the view's signature.)
"""Seat and room bookings, for staff acting for a resident (at the desk, on the phone).

Availability is read-only; creating, checking in and cancelling go through the same domain
services as the kiosk, so every rule holds, and each is audited under the staff member.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify
from sqlalchemy.orm import Session

from booking.core.errors import NotFound
from booking.spaces import availability, releases, rooms, seats
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from kiosk.api.blueprint import api_access, api_blueprint, caller
from kiosk.api.booking_schemas import (
    BookingCreateSchema,
    BookingListSchema,
    BookingQuerySchema,
    BookingSchema,
    RoomDayQuerySchema,
    RoomDaySchema,
    SeatAvailabilitySchema,
    SeatPeriodQuerySchema,
)
from kiosk.extensions import clock, database
from kiosk.request_reads import read_connection

spaces_blp = api_blueprint("api_spaces", "/spaces", "Free seats and busy rooms")
blp = api_blueprint("api_bookings", "/bookings", "Seat and room bookings of residents")

# Every refusal of a booking rule is a 409 or 422 with its own code (slot_taken, off_grid …).
RULE_REFUSALS = (409, 422)

# Argument schemas are given as instances: given a class, webargs builds (and deep-copies
# the fields of) a new schema on every request. Loading keeps no state on the instance.


@spaces_blp.route("/<id:space_id>/seats")
@api_access(spaces_blp, "availability:read")
@spaces_blp.arguments(SeatPeriodQuerySchema(), location="query")
@spaces_blp.response(200, SeatAvailabilitySchema)
@spaces_blp.alt_response(404, response="NOT_FOUND")
def seat_availability(args: dict[str, Any], space_id: int) -> Response:
    """The seats of a study room, each free or not for the whole period."""
    # On the read connection the sign-in check opened: one for the request.
    states = availability.seat_states(
        read_connection(),
        site_id=caller().site_id,
        space_id=space_id,
        starts_at=args["starts_at"],
        ends_at=args["ends_at"],
    )
    return jsonify(seat_availability_body(space_id, args["starts_at"], args["ends_at"], states))


def seat_availability_body(
    space_id: int, starts_at: datetime, ends_at: datetime, states: list[availability.SeatState]
) -> dict[str, Any]:
    """What ``SeatAvailabilitySchema`` would dump, built directly: the API's most asked
    answer, where marshmallow's per-field work was a fifth of the request (tests hold the
    two equal; the schema still documents it)."""
    return {
        "space_id": space_id,
        "starts_at": starts_at.astimezone(UTC).isoformat(),
        "ends_at": ends_at.astimezone(UTC).isoformat(),
        "seats": [
            {
                "id": state.id,
                "number": state.number,
                "has_power": state.has_power,
                "by_window": state.by_window,
                "quiet_zone": state.quiet_zone,
                "free": state.free,
            }
            for state in states
        ],
    }


@spaces_blp.route("/<id:space_id>/busy")
@api_access(spaces_blp, "availability:read")
@spaces_blp.arguments(RoomDayQuerySchema(), location="query")
@spaces_blp.response(200, RoomDaySchema)
@spaces_blp.alt_response(404, response="NOT_FOUND")
def room_busy(args: dict[str, Any], space_id: int) -> availability.RoomDay:
    """An activity room's opening hours on a day and when it is taken or closed."""
    with database().read() as session:
        day = availability.room_day(
            session, site_id=caller().site_id, space_id=space_id, day=args["date"]
        )
        session.expunge_all()
    return day


def _booking_here(session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None or booking.site_id != caller().site_id:
        raise NotFound("no such booking")
    return booking


def _resident_of(booking: Booking) -> int:
    if booking.resident_id is None:
        # A staff series' meeting: series are changed on the console, not here.
        raise NotFound("no such resident booking")
    return booking.resident_id


def _audit(session: Session, action: str, booking: Booking) -> None:
    caller().record(
        session, action=action, subject=f"booking:{booking.id}",
        detail={"resident_id": booking.resident_id, "status": booking.status.value},
    )  # fmt: skip


@blp.route("")
@api_access(blp, "bookings:read")
@blp.arguments(BookingQuerySchema(), location="query")
@blp.response(200, BookingListSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_bookings(args: dict[str, Any]) -> dict[str, Any]:
    """A resident's seat and room bookings from today on."""
    with database().read() as session:
        booking_rules.member(session, args["resident_id"], caller().site_id)
        found = seats.bookings_of(
            session, resident_id=args["resident_id"], site_id=caller().site_id, now=clock().now()
        )
        session.expunge_all()
    return {"items": found}


@blp.route("", methods=["POST"])
@api_access(blp, "bookings:write")
@blp.arguments(BookingCreateSchema())
@blp.response(201, BookingSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="slot_taken, resident_busy, …")
def create_booking(args: dict[str, Any]) -> Booking:
    """Book a seat (``seat_id``) or a whole activity room (``space_id``) for a resident.

    A room that needs approval answers status ``pending``.
    """
    now = clock().now()
    with database().write() as session:
        if args["seat_id"] is not None:
            seat = session.get(Seat, args["seat_id"])
            if seat is None or session.get_one(Space, seat.space_id).site_id != caller().site_id:
                raise NotFound("no such seat")
            booking = seats.book_seat(
                session,
                resident_id=args["resident_id"],
                seat_id=seat.id,
                starts_at=args["starts_at"],
                ends_at=args["ends_at"],
                now=now,
            )
        else:
            space = session.get(Space, args["space_id"])
            if space is None or space.site_id != caller().site_id:
                raise NotFound("no such activity room")
            booking = rooms.book_room(
                session,
                resident_id=args["resident_id"],
                space_id=space.id,
                starts_at=args["starts_at"],
                ends_at=args["ends_at"],
                headcount=args["headcount"],
                purpose=args["purpose"],
                now=now,
            )
        _audit(session, "booking.create", booking)
    return booking


@blp.route("/<id:booking_id>")
@api_access(blp, "bookings:read")
@blp.response(200, BookingSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_booking(booking_id: int) -> Booking:
    """One booking of the centre."""
    with database().read() as session:
        found = _booking_here(session, booking_id)
        session.expunge_all()
    return found


@blp.route("/<id:booking_id>/check-in", methods=["POST"])
@api_access(blp, "bookings:write")
@blp.response(200, BookingSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="check_in_too_early, check_in_closed, …")
def check_in(booking_id: int) -> Booking:
    """Check the resident in to their seat (from 15 minutes before to 15 after the start)."""
    with database().write() as session:
        booking = _booking_here(session, booking_id)
        seats.check_in(
            session, resident_id=_resident_of(booking), booking_id=booking.id, now=clock().now()
        )
        _audit(session, "booking.check_in", booking)
    return booking


@blp.route("/<id:booking_id>/cancel", methods=["POST"])
@api_access(blp, "bookings:write")
@blp.response(200, BookingSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="cancel_too_late, wrong_booking_state")
def cancel(booking_id: int) -> Booking:
    """Cancel a booking that has not begun, for its resident; the slot goes to the waitlist."""
    with database().write() as session:
        booking = _booking_here(session, booking_id)
        releases.cancel(
            session, resident_id=_resident_of(booking), booking_id=booking.id, now=clock().now()
        )
        _audit(session, "booking.cancel", booking)
    return booking
