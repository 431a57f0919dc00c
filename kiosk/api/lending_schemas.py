"""marshmallow schemas of the lending API: the catalogue with live availability, a
resident's loans and reservations, and what a reservation, queue place or renewal needs."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from booking.lending.models.loans import LoanStatus
from booking.lending.models.reservations import ReservationKind, ReservationStatus
from kiosk.api.booking_schemas import AN_ID, WHEN, UTCDateTime, body_id, when


class ToolAvailabilitySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    name_zh = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)
    loan_days = ma.fields.Integer(required=True)
    free_now = ma.fields.Integer(
        required=True,
        metadata={"description": "Locker items a resident can take now (the lockers live, "
                  "items kept for reservations and the queue not counted)"},
    )  # fmt: skip
    at_counter = ma.fields.Integer(required=True, metadata={"description": "Lent by staff"})
    waiting = ma.fields.Integer(
        required=True, metadata={"description": "Residents in the queue for the next one back"}
    )


class ToolListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ToolAvailabilitySchema), required=True)


class ResidentQuerySchema(ma.Schema):
    resident_id = ma.fields.Integer(required=True, validate=AN_ID)


class LoanSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    tool_type_id = ma.fields.Integer(required=True)
    item_id = ma.fields.Integer(required=True)
    resident_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf([s.value for s in LoanStatus]))
    started_at = UTCDateTime(required=True)
    due_at = UTCDateTime(required=True)
    renewals = ma.fields.Integer(required=True, metadata={"description": "Times renewed so far"})


class LoanListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LoanSchema), required=True)


class ReservationSchema(ma.Schema):
    id = ma.fields.Integer(required=True, attribute="reservation.id")
    tool_type_id = ma.fields.Integer(required=True, attribute="reservation.tool_type_id")
    resident_id = ma.fields.Integer(required=True, attribute="reservation.resident_id")
    kind = ma.fields.String(
        required=True, attribute="reservation.kind",
        validate=validate.OneOf([k.value for k in ReservationKind]),
        metadata={"description": "window: a day and time ahead; queue: the next one back"},
    )  # fmt: skip
    status = ma.fields.String(
        required=True, attribute="reservation.status",
        validate=validate.OneOf([s.value for s in ReservationStatus]),
    )  # fmt: skip
    window_starts_at = UTCDateTime(required=True, allow_none=True,
                                   attribute="reservation.window_starts_at")  # fmt: skip
    window_ends_at = UTCDateTime(required=True, allow_none=True,
                                 attribute="reservation.window_ends_at")  # fmt: skip
    position = ma.fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "Place in the queue (1: next); null otherwise"},
    )  # fmt: skip
    held_until = UTCDateTime(
        required=True, allow_none=True,
        metadata={"description": "While held: until when the tool is kept in its locker"},
    )  # fmt: skip
    created_at = UTCDateTime(required=True, attribute="reservation.created_at")


class ReservationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReservationSchema), required=True)


class ReservationCreateSchema(ma.Schema):
    resident_id = body_id(required=True)
    tool_type_id = body_id(required=True)
    starts_at = when(required=True, metadata=WHEN)
    ends_at = when(required=True, metadata={"description": "At most 12 hours after starts_at"})


class QueueJoinSchema(ma.Schema):
    resident_id = body_id(required=True)
    tool_type_id = body_id(required=True)
