"""The phone page's URLs, and the hooks every /m request passes through.

No check-in here, on purpose: checking in happens at the centre (kiosk or reader).
"""

from __future__ import annotations

from flask import Blueprint
from flask_wtf.csrf import CSRFError

from kiosk.mobile import (
    bookings,
    calendar_feed,
    centres,
    health,
    loans,
    messages,
    new_pin,
    pages,
    rooms,
    seats,
    sign_in,
    tools_ahead,
)
from kiosk.mobile import session as phone_session

bp = Blueprint("mobile", __name__, url_prefix="/m")

bp.before_request(phone_session.load_phone_context)
bp.after_request(phone_session.write_phone_cookie)
bp.register_error_handler(CSRFError, pages.csrf_failed)
bp.register_error_handler(404, pages.not_found)
bp.context_processor(phone_session.template_context)

bp.add_url_rule("/", "home", pages.home, methods=["GET"])
bp.add_url_rule("/language", "language", pages.language, methods=["POST"])
bp.add_url_rule("/sign-in", "sign_in_form", sign_in.sign_in_form, methods=["GET"])
bp.add_url_rule("/sign-in", "sign_in", sign_in.sign_in, methods=["POST"])
bp.add_url_rule("/code", "code_form", sign_in.code_form, methods=["GET"])
bp.add_url_rule("/code", "sign_in_with_code", sign_in.sign_in_with_code, methods=["POST"])
bp.add_url_rule("/code/send", "send_code", sign_in.send_code, methods=["POST"])
bp.add_url_rule("/sign-out", "sign_out", sign_in.sign_out, methods=["POST"])
bp.add_url_rule("/pin", "new_pin", new_pin.new_pin, methods=["GET"])
bp.add_url_rule("/pin", "choose_pin", new_pin.choose_pin, methods=["POST"])

bp.add_url_rule("/bookings", "my_bookings", bookings.my_bookings, methods=["GET"])
bp.add_url_rule(
    "/bookings/<id:booking_id>/cancel", "cancel_booking_form", bookings.cancel_form,
    methods=["GET"],
)  # fmt: skip
bp.add_url_rule(
    "/bookings/<id:booking_id>/cancel", "cancel_booking", bookings.cancel, methods=["POST"]
)
bp.add_url_rule("/centre", "choose_centre", centres.choose, methods=["POST"])
bp.add_url_rule("/seats", "seats", seats.seat_list, methods=["GET"])
bp.add_url_rule("/seats/book", "book_seat", seats.book_seat, methods=["POST"])
bp.add_url_rule("/rooms", "rooms", rooms.room_form, methods=["GET"])
bp.add_url_rule("/rooms/book", "book_room", rooms.book_room, methods=["POST"])
bp.add_url_rule("/tools", "my_loans", loans.my_loans, methods=["GET"])
bp.add_url_rule("/tools/<id:loan_id>/renew", "renew_loan", loans.renew, methods=["POST"])
# Tools ahead of time (issue 17): a window reserved, a queue place, either cancelled.
bp.add_url_rule("/tools/reserve", "tools_ahead", tools_ahead.tool_list, methods=["GET"])
bp.add_url_rule(
    "/tools/<id:tool_type_id>/reserve", "reserve_tool_form", tools_ahead.reserve_form,
    methods=["GET"],
)  # fmt: skip
bp.add_url_rule(
    "/tools/<id:tool_type_id>/reserve", "reserve_tool", tools_ahead.reserve, methods=["POST"]
)
bp.add_url_rule(
    "/tools/<id:tool_type_id>/queue", "queue_for_tool", tools_ahead.join_queue, methods=["POST"]
)
bp.add_url_rule(
    "/tools/reservations/<id:reservation_id>/cancel", "cancel_tool_reservation",
    tools_ahead.cancel, methods=["POST"],
)  # fmt: skip
bp.add_url_rule("/messages", "my_messages", messages.my_messages, methods=["GET"])
bp.add_url_rule("/messages/choose", "message_choose", messages.choose, methods=["POST"])
bp.add_url_rule("/blood-pressure", "health", health.history, methods=["GET"])

bp.add_url_rule("/calendar", "calendar", calendar_feed.feed_page, methods=["GET"])
bp.add_url_rule("/calendar/renew", "renew_calendar", calendar_feed.renew, methods=["POST"])
bp.add_url_rule("/calendar/revoke", "revoke_calendar", calendar_feed.revoke, methods=["POST"])
# Polled by calendar apps, with no cookie: the secret in the address is the key.
bp.add_url_rule("/feed/<token>.ics", "feed", calendar_feed.feed, methods=["GET"])
