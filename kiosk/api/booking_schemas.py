"""marshmallow schemas of the bookings API: availability, bookings, and what a new one needs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma
from marshmallow import validate

from booking.core.db import MAX_ID
from booking.spaces.models.bookings import BookingStatus

STATUSES = [status.value for status in BookingStatus]


class UTCDateTime(ma.fields.AwareDateTime):
    """Answers in UTC whatever offset the time was given with (one form for clients to parse)."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(
            None if value is None else value.astimezone(UTC), attr, obj, **kwargs
        )


# A row's id, as the tables can hold it (booking.core.db.MAX_ID): beyond it, 422, not a 500.
AN_ID = validate.Range(min=1, max=MAX_ID)


def body_id(**kwargs: Any) -> ma.fields.Integer:
    """An id in a JSON body: a JSON integer only. Read leniently, ``1.5`` was taken as 1 and
    ``"1"`` as 1, so a booking naming resident 1.5 was made for resident 1. (A query
    string's ids are text, so they stay lenient.)"""
    return ma.fields.Integer(strict=True, validate=AN_ID, **kwargs)


# More than any room holds; the room's own capacity is the rule (over_capacity).
MAX_HEADCOUNT = 10_000
WHEN = {"description": "With a UTC offset, e.g. 2026-11-24T10:00:00+08:00"}
# Times Linli books: this century. Year 1 or 9999 overflowed when moved to UTC or the
# centre's zone (a 500); they are refused as invalid before anything reads them.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def in_this_century(value: date) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ma.ValidationError(f"give a date from {FIRST_YEAR} to {LAST_YEAR}")


def when(**kwargs: Any) -> ma.fields.AwareDateTime:
    """A moment with its UTC offset, in this century."""
    return ma.fields.AwareDateTime(validate=in_this_century, **kwargs)


class SeatPeriodQuerySchema(ma.Schema):
    starts_at = when(required=True, metadata=WHEN)
    ends_at = when(required=True, metadata={"description": "At most a day after starts_at"})


class SeatStateSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True)
    has_power = ma.fields.Boolean(required=True)
    by_window = ma.fields.Boolean(required=True)
    quiet_zone = ma.fields.Boolean(required=True)
    free = ma.fields.Boolean(
        required=True, metadata={"description": "No active booking overlaps the period"}
    )


class SeatAvailabilitySchema(ma.Schema):
    space_id = ma.fields.Integer(required=True)
    starts_at = UTCDateTime(required=True)
    ends_at = UTCDateTime(required=True)
    seats = ma.fields.List(ma.fields.Nested(SeatStateSchema), required=True)


class RoomDayQuerySchema(ma.Schema):
    date = ma.fields.Date(
        required=True, validate=in_this_century, metadata={"description": "The centre's local date"}
    )


class BusyPeriodSchema(ma.Schema):
    starts_at = UTCDateTime(required=True)
    ends_at = UTCDateTime(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(["booking", "closure"]))
    status = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(STATUSES),
        metadata={"description": "The booking's status; null for a closure"},
    )


class RoomDaySchema(ma.Schema):
    space_id = ma.fields.Integer(required=True, attribute="space.id")
    date = ma.fields.Date(required=True, attribute="day")
    opens_at = UTCDateTime(required=True)
    closes_at = UTCDateTime(required=True)
    busy = ma.fields.List(
        ma.fields.Nested(BusyPeriodSchema),
        required=True,
        metadata={"description": "Active bookings and closures, in time order"},
    )


class BookingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    space_id = ma.fields.Integer(required=True)
    seat_id = ma.fields.Integer(required=True, allow_none=True)
    resident_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null for a staff series"}
    )
    series_id = ma.fields.Integer(required=True, allow_none=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    starts_at = UTCDateTime(required=True)
    ends_at = UTCDateTime(required=True)
    headcount = ma.fields.Integer(required=True)
    purpose = ma.fields.String(required=True)
    walk_in = ma.fields.Boolean(required=True)
    reason = ma.fields.String(
        required=True, metadata={"description": "Why it ended or was refused (for the resident)"}
    )
    created_at = UTCDateTime(required=True)
    checked_in_at = UTCDateTime(required=True, allow_none=True)


class BookingListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(BookingSchema), required=True)


class BookingQuerySchema(ma.Schema):
    resident_id = ma.fields.Integer(
        required=True,
        validate=AN_ID,
        metadata={"description": "Their bookings from today on, finished ones included"},
    )


class BookingCreateSchema(ma.Schema):
    """A seat booking names ``seat_id``; a room booking names ``space_id`` (and a headcount)."""

    resident_id = body_id(required=True)
    seat_id = body_id(load_default=None)
    space_id = body_id(load_default=None)
    starts_at = when(required=True, metadata=WHEN)
    ends_at = when(required=True, metadata=WHEN)
    headcount = ma.fields.Integer(
        strict=True, load_default=1, validate=validate.Range(min=1, max=MAX_HEADCOUNT),
        metadata={"description": "Rooms only"},
    )  # fmt: skip
    purpose = ma.fields.String(
        load_default="", validate=validate.Length(max=200), metadata={"description": "Rooms only"}
    )

    @ma.validates_schema
    def _one_place(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("seat_id") is None) == (data.get("space_id") is None):
            raise ma.ValidationError("give either seat_id or space_id", field_name="seat_id")
        if data.get("seat_id") is not None and (data["headcount"] != 1 or data["purpose"]):
            raise ma.ValidationError("a seat is for one person", field_name="headcount")
