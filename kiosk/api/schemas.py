"""marshmallow schemas of the JSON API: what it accepts and what it answers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from booking.people.residents import MAX_QUERY_LENGTH


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(
        required=True, metadata={"description": "Stable machine-readable code, e.g. not_found"}
    )
    message = ma.fields.String(required=True, metadata={"description": "For people, in English"})
    details = ma.fields.Dict(
        required=True, metadata={"description": "More about the error, e.g. invalid fields"}
    )


class ErrorSchema(ma.Schema):
    """The envelope every API error answers with."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    time = ma.fields.AwareDateTime(required=True, metadata={"description": "Server time, UTC"})
    database = ma.fields.String(
        required=True, validate=validate.OneOf(["ok"]), metadata={"example": "ok"}
    )
    device_link = ma.fields.String(
        required=True,
        validate=validate.OneOf(["ok", "not_configured"]),
        metadata={
            "example": "ok",
            "description": "The worker that records device replies and events is running; "
            "not_configured when the deployment has no broker",
        },
    )


class SiteSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    name_zh = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True, metadata={"example": "Asia/Shanghai"})
    opens_at = ma.fields.Time(required=True, format="%H:%M", metadata={"example": "08:00"})
    closes_at = ma.fields.Time(required=True, format="%H:%M", metadata={"example": "21:00"})


class StaffMeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(["staff", "admin"]))
    site = ma.fields.Nested(SiteSchema, required=True)


class CsrfTokenSchema(ma.Schema):
    csrf_token = ma.fields.String(
        required=True, metadata={"description": "Send as the X-CSRFToken header on unsafe methods"}
    )


class ResidentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)
    card_id = ma.fields.String(allow_none=True, required=True)
    is_elderly = ma.fields.Boolean(required=True)
    lives_alone = ma.fields.Boolean(required=True)


# Far past the last page of any centre; beyond it the offset would overflow the database.
MAX_PAGE = 100_000


class ResidentQuerySchema(ma.Schema):
    q = ma.fields.String(
        load_default="",
        validate=validate.Length(max=MAX_QUERY_LENGTH),
        metadata={"description": "Part of a name, phone number or card id"},
    )
    page = ma.fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "From 1"},
    )


class ResidentPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ResidentSchema), required=True)
    page = ma.fields.Integer(required=True)
    page_size = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
